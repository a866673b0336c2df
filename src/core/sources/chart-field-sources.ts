import { UpgradeRefusedError } from '../../model/errors.js';

import type { MergePatch, PatchValue } from '../../model/merge-patch.js';
import type { IndexedObject, KubeObject } from '../../model/objects.js';
import { type FieldSource, isRecord, key, type VirtualInfo } from './helm-app-of-apps.js';
import type { ValuesPath } from './helm-template.js';

export function sourceOf(info: VirtualInfo, path: ReadonlyArray<string | number>): FieldSource | null {
  const exact = info.fields.get(key(path));
  if (exact) return exact;
  for (let n = path.length - 1; n > 0; n--) {
    const ancestor = info.fields.get(key(path.slice(0, n)));
    if (ancestor?.kind === 'subtree') return { kind: 'value', path: [...ancestor.path, ...path.slice(n)] };
    if (ancestor) return null;
  }
  return null;
}

/** For an object created in this plan: its source, moved from the copied element to the new one. */
export function relativeSource(info: VirtualInfo, path: ReadonlyArray<string | number>, created: CreatedElement): FieldSource | null {
  const source = sourceOf(info, path);
  if (!source || !startsWith(source.path, created.from)) return null;
  return { ...source, path: [...created.to, ...source.path.slice(created.from.length)] };
}

export function invert(
  source: Extract<FieldSource, { kind: 'derived' }>,
  value: PatchValue,
  target: IndexedObject,
  path: ReadonlyArray<string | number>,
): PatchValue {
  const text = typeof value === 'string' ? value : null;
  if (
    text === null ||
    !text.startsWith(source.prefix) ||
    !text.endsWith(source.suffix) ||
    text.length < source.prefix.length + source.suffix.length
  ) {
    throw new UpgradeRefusedError(
      `${target.kind} ${target.name}: ${path.join('.')} would be ${String(value)}, which the template's '${source.prefix}…${source.suffix}' cannot render.`,
      'helm-template-literal',
    );
  }
  return text.slice(source.prefix.length, text.length - source.suffix.length);
}

/** The leaves of a merge patch: lists and scalars are leaves. */
export function leaves(
  patch: MergePatch,
  prefix: ReadonlyArray<string | number> = [],
): Array<[ReadonlyArray<string | number>, PatchValue]> {
  return Object.entries(patch).flatMap(
    ([k, v]): Array<[ReadonlyArray<string | number>, PatchValue]> =>
      isRecord(v) ? leaves(v as MergePatch, [...prefix, k]) : [[[...prefix, k], v as PatchValue]],
  );
}

export function getAt(value: unknown, path: ReadonlyArray<string | number>): unknown {
  let current = value;
  for (const step of path) {
    if (Array.isArray(current)) current = current[Number(step)];
    else if (isRecord(current)) current = current[String(step)];
    else return undefined;
  }
  return current;
}

/** Sets `path` in `target` (creating maps on the way); `null` deletes, as a values file's null does. */
export function setIn(target: Record<string, unknown>, path: ValuesPath, value: unknown): void {
  let at = target;
  for (const step of path.slice(0, -1).map(String)) {
    if (!isRecord(at[step])) at[step] = {};
    at = at[step] as Record<string, unknown>;
  }
  const last = String(path.at(-1));
  if (value === null) delete at[last];
  else at[last] = value;
}

export function startsWith(path: ValuesPath, prefix: ValuesPath): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));
}

/**
 * Where a created object's values live, so later phases' edits of it find them: a new list element
 * (the old element's paths under `from` move to `to`), or a copied template rendered with its own
 * values key (its own `info`, `from` = `to` = []).
 */
export interface CreatedElement {
  readonly info: VirtualInfo;
  readonly from: ValuesPath;
  readonly to: ValuesPath;
  /** The object as its copied template renders it (edits already there are skipped). */
  readonly body?: KubeObject;
}
