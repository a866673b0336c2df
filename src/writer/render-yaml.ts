import type { CST } from 'yaml';
import type { MergePatch, PatchValue } from '../model/merge-patch.js';
import type { Scalar } from '../model/scalar.js';
import { scalarText, type Token } from './cst.js';
import { isRemovalOnly } from './patch-data.js';
import { formatKey, formatScalar, plainReadsAsString } from './yaml-scalar.js';

/** Block scalars and quoted strings may hold YAML (Helm `values: |`); plain scalars and nulls do not. */
export function holdsEmbeddedYaml(token: Token): token is CST.FlowScalar | CST.BlockScalar {
  if (token.type !== 'block-scalar' && token.type !== 'single-quoted-scalar' && token.type !== 'double-quoted-scalar') return false;
  const text = scalarText(token);
  return text !== null && /^\s*[^\s#].*:/m.test(text);
}

/** Same text and same type (a quoted "true" is not the boolean true). */
export function sameScalar(token: CST.FlowScalar | CST.BlockScalar, value: Scalar): boolean {
  const text = scalarText(token);
  if (text !== String(value)) return false;
  const quoted = token.type !== 'scalar';
  if (typeof value !== 'string') return !quoted;
  return quoted || plainReadsAsString(text);
}

/** The entries a new map is written with: nulls and removal-only maps change nothing, so they are left out. */
export function blockEntries(value: MergePatch): Array<[string, PatchValue]> {
  return Object.entries(value).filter(([, v]) => v !== null && !isRemovalOnly(v));
}

export function renderEntry(key: string, value: PatchValue, column: number): string {
  const pad = ' '.repeat(column);
  if (isPlainObject(value) && blockEntries(value).length > 0) return `${pad}${formatKey(key)}:\n${renderBlockMap(value, column + 2)}`;
  // A list of maps reads best as a block sequence, as people write Kubernetes lists.
  if (Array.isArray(value) && value.some((v) => isPlainObject(v) && blockEntries(v).length > 0))
    return `${pad}${formatKey(key)}:\n${renderBlockSeq(value, column + 2)}`;
  return `${pad}${formatKey(key)}: ${renderFlow(value)}\n`;
}

/** `- first: entry` with the item's other entries aligned under its first key. */
export function renderBlockSeq(items: readonly PatchValue[], column: number): string {
  const pad = ' '.repeat(column);
  return items
    .map((item) =>
      isPlainObject(item) && blockEntries(item).length > 0
        ? `${pad}- ${renderBlockMap(item, column + 2).slice(column + 2)}`
        : `${pad}- ${renderFlow(item)}\n`,
    )
    .join('');
}

export function renderBlockMap(value: MergePatch, column: number): string {
  return blockEntries(value)
    .map(([k, v]) => renderEntry(k, v, column))
    .join('');
}

export function renderFlow(value: PatchValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(renderFlow).join(', ')}]`;
  if (isPlainObject(value))
    return `{${blockEntries(value)
      .map(([k, v]) => `${formatKey(k)}: ${renderFlow(v)}`)
      .join(', ')}}`;
  return formatScalar(value as Scalar);
}

export function isPlainObject(value: PatchValue): value is MergePatch {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
