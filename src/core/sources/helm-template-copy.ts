import { isMap, isScalar, type Pair, parseDocument, type Node as YamlNode } from 'yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict } from '../../model/kube.js';
import type { MergePatch } from '../../model/merge-patch.js';
import { deepEqual, mergePatchBetween } from '../../writer/patch-data.js';
import { patchYamlMappingText } from '../../writer/yaml-patch.js';

/**
 * Text edits for a second release of a local chart whose template renders one release from scalar
 * values (`{{- if .Values.istiod.enabled }}`, `.Values.istiod.version`): the template is copied with
 * its `.Values.<key>` references renamed to a key of its own, and that key's subtree is added to the
 * values file as a copy of the old one. Used by ./helm-app-of-apps.ts.
 *
 * The new key is named after the revision (`istiod` → `istiod_1_22_1`), not a stable `istiodCanary`:
 * after cleanup the copy is the running release, and at the next canary it is the one copied again,
 * so a stable name would be wrong after the first upgrade and taken at the second.
 */

/** Characters Go templates accept in a field name after `.Values.`. */
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `istiod` → `istiod_1_22_1`; `istiod_1_21_2` (a key named after the old revision) → `istiod_1_22_1`. */
export function valuesKeyForRevision(key: string, from: string, to: string): string {
  const part = (revision: string) => revision.replace(/[^A-Za-z0-9]+/g, '_');
  const suffix = `_${part(from)}`;
  const base = from !== 'default' && key.endsWith(suffix) ? key.slice(0, -suffix.length) : key;
  const next = `${base}_${part(to)}`;
  if (!FIELD.test(next))
    throw new UpgradeRefusedError(`the values key ${next} for the new release is not a Go template field name.`, 'helm-values-unwritable');
  return next;
}

/** The template text with every `.Values.<from>` reference (`$.Values…` too) reading `.Values.<to>`; null when there is none. */
export function renameValuesKey(template: string, from: string, to: string): string | null {
  const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(\\.Values\\.)${escaped}(?![A-Za-z0-9_-])`, 'g');
  if (!re.test(template)) return null;
  return template.replace(re, `$1${to}`);
}

/**
 * Rewrites the one template line `<key>: <old>` (plain or quoted, trailing comment kept) to `<new>`:
 * a field the template writes literally (`name: istiod`). Null when no single line says it.
 */
export function rewriteLiteralLine(template: string, key: string, oldValue: string, newValue: string): string | null {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^(\\s*${esc(key)}:[ \\t]+)(["']?)${esc(oldValue)}\\2([ \\t]*(?:#.*)?)$`, 'gm');
  const matches = [...template.matchAll(re)];
  if (matches.length !== 1 || /[{}:#]/.test(newValue)) return null;
  return template.replace(re, (_all, head: string, quote: string, tail: string) => `${head}${quote}${newValue}${quote}${tail}`);
}

/**
 * The values file with a top-level `newKey` block added right after the `key` block: a copy of its
 * text (comments kept), completed with what lower-precedence files set under `key` and edited, so
 * that it parses to `expected`. Verified by parsing; refused rather than written wrong.
 */
export function addValuesBlock(
  file: string,
  text: string,
  key: string,
  newKey: string,
  expected: Readonly<Record<string, unknown>>,
): string {
  const document = parseDocument(text);
  if (!isMap(document.contents)) throw new UpgradeRefusedError(`${file}: the values are not a mapping.`, 'helm-values-unwritable');
  const pair = document.contents.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair<YamlNode, YamlNode> | undefined;
  if (!pair || !isMap(pair.value) || pair.value.flow)
    throw new UpgradeRefusedError(
      `${file}: ${key} is not a block mapping; the bot copies a release's values only from one.`,
      'helm-values-unwritable',
    );
  const lineStart = (at: number) => text.lastIndexOf('\n', at - 1) + 1;
  const start = lineStart(pair.key.range![0]);
  if (start !== pair.key.range![0])
    throw new UpgradeRefusedError(`${file}: ${key} is not a top-level key at the start of a line.`, 'helm-values-unwritable');
  const valueEnd = pair.value.range![1];
  const newline = text.indexOf('\n', Math.max(valueEnd - 1, start));
  const end = newline < 0 ? text.length : newline + 1;
  const block = text.slice(start, end).replace(/\n?$/, '\n');
  const renamed = `${newKey}${block.slice(key.length)}`;
  const copied = asDict(asDict(parseDocument(renamed).toJS())[newKey]);
  const patch = mergePatchBetween(copied, expected) as MergePatch;
  const edited = Object.keys(patch).length > 0 ? patchYamlMappingText(file, renamed, { [newKey]: patch }) : renamed;
  const result = `${text.slice(0, end) + (end === text.length && !text.endsWith('\n') ? '\n' : '')}\n${edited}${text.slice(end)}`;
  const after = asDict(parseDocument(result).toJS());
  const before = asDict(document.toJS());
  if (!deepEqual(after[newKey], expected) || !deepEqual({ ...after, [newKey]: undefined }, { ...before, [newKey]: undefined })) {
    throw new UpgradeRefusedError(`${file}: could not add the values of the new release (${newKey}) safely.`, 'helm-values-unwritable');
  }
  return result;
}
