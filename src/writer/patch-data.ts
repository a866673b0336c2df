import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import type { MergePatch, PatchValue } from '../model/merge-patch.js';

/** Warnings (e.g. map keys that are collections, stringified by `toJS()`) are not printed. */
const QUIET = { logLevel: 'error' } as const;

/**
 * The writer's merge-patch semantics on data, used to check what a patched text must read as:
 * RFC 7386, plus
 * - an object patch under a key that is not there and that only removes keys changes nothing
 *   (no empty map is created for it);
 * - a list whose items are all objects with a `name` merges element by element by that name;
 * - a list of scalars patched onto an existing list keeps the kept entries in their order and
 *   appends the new ones;
 * - an object patch onto a string that holds a YAML mapping edits the YAML held in the string
 *   (Helm `values: |`), or replaces it by a map;
 * - a value written whole (a list replacing another value) has maps without null entries.
 */
export function patchedData(target: unknown, patch: PatchValue): unknown {
  if (isPatchObject(patch)) {
    if (typeof target === 'string' && holdsMapping(target)) return new EmbeddedYaml(target, patch);
    const out: Record<string, unknown> = {};
    if (isDataRecord(target)) for (const key of Object.keys(target)) setOwn(out, key, target[key]);
    for (const [key, value] of Object.entries(patch)) {
      const present = Object.hasOwn(out, key);
      if (value === null) delete out[key];
      else if (present || !isRemovalOnly(value)) setOwn(out, key, patchedData(present ? out[key] : undefined, value));
    }
    return out;
  }
  if (Array.isArray(patch)) {
    if (isNamedPatchList(patch) && Array.isArray(target)) {
      return target.map((item) => {
        const element = isDataRecord(item) ? patch.find((p) => p.name === item.name) : undefined;
        return element ? patchedData(item, element) : item;
      });
    }
    if (Array.isArray(target) && patch.every((v) => !isPatchObject(v) && !Array.isArray(v))) {
      const wanted = (patch as ReadonlyArray<PatchValue>).filter((v) => v !== null).map(String);
      const kept = target.filter((item) => isScalarData(item) && item !== null && wanted.includes(String(item)));
      const present = new Set(target.filter((item) => isScalarData(item) && item !== null).map(String));
      const added: unknown[] = [];
      for (const value of patch) {
        if (value === null || present.has(String(value))) continue;
        present.add(String(value));
        added.push(value);
      }
      return [...kept, ...added];
    }
  }
  return written(patch);
}

/** A value the writer writes out whole: maps inside it are written without null and removal-only entries. */
function written(value: PatchValue): unknown {
  if (Array.isArray(value)) return value.map(written);
  if (!isPatchObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== null && !isRemovalOnly(v)) setOwn(out, key, written(v));
  return out;
}

/** True when `actual` (a document read back) is what {@link patchedData} says it must be. */
export function readsAs(actual: unknown, expected: unknown): boolean {
  if (expected instanceof EmbeddedYaml) return expected.matches(actual);
  if (Array.isArray(expected))
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => readsAs(actual[i], item));
  if (isDataRecord(expected) && Object.getPrototypeOf(expected) === Object.prototype) {
    if (!isDataRecord(actual)) return false;
    const keys = Object.keys(expected);
    return (
      keys.length === Object.keys(actual).length && keys.every((key) => Object.hasOwn(actual, key) && readsAs(actual[key], expected[key]))
    );
  }
  return isDeepStrictEqual(actual, expected);
}

/** A string whose YAML was edited: it must read as the patched YAML (or, replaced by a map, as the patch). */
class EmbeddedYaml {
  constructor(
    private readonly original: string,
    private readonly patch: MergePatch,
  ) {}

  matches(actual: unknown): boolean {
    // The writer replaces a string by a map when it is not written as YAML text (a plain scalar).
    if (typeof actual !== 'string') return readsAs(actual, patchedData(undefined, this.patch));
    const before = parseDocument(this.original, QUIET);
    const after = parseDocument(actual, QUIET);
    if (before.errors.length > 0 || after.errors.length > 0) return false;
    return readsAs(after.toJS(), patchedData(before.toJS(), this.patch));
  }
}

function holdsMapping(text: string): boolean {
  if (text === '') return false;
  const document = parseDocument(text, QUIET);
  return document.errors.length === 0 && isDataRecord(document.toJS());
}

/**
 * A patch object that only removes keys (at any depth). Put where there is no map, it changes
 * nothing, so the writers create no empty map for it. (`{}` itself removes nothing: it creates `{}`.)
 */
export function isRemovalOnly(value: unknown): boolean {
  if (!isPatchObject(value)) return false;
  const values = Object.values(value);
  return values.length > 0 && values.every((v) => v === null || isRemovalOnly(v));
}

function isPatchObject(value: unknown): value is MergePatch {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A mapping as data: a plain object (not a Set, a Map or binary data read from a tagged node). */
function isDataRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function isScalarData(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function isNamedPatchList(value: readonly PatchValue[]): value is ReadonlyArray<MergePatch & { name: string }> {
  return value.length > 0 && value.every((v) => isPatchObject(v) && typeof v.name === 'string');
}

/** Sets an own property even for keys such as `__proto__`. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The merge patch that turns `before` into `after` (RFC 7386; lists whose items all have a
 * `name` are diffed item by item, as the writer merges them).
 */
export function mergePatchBetween(before: unknown, after: unknown): MergePatch {
  const patch: Record<string, PatchValue> = {};
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(a)) if (!Object.hasOwn(b, key)) patch[key] = null;
  for (const [key, value] of Object.entries(b)) {
    const old = a[key];
    if (deepEqual(old, value)) continue;
    if (isRecord(old) && isRecord(value)) {
      const inner = mergePatchBetween(old, value);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (Array.isArray(old) && Array.isArray(value) && isNamedList(old) && isNamedList(value) && sameNames(old, value)) {
      patch[key] = value.map((item, i) => ({ name: (item as { name: string }).name, ...mergePatchBetween(old[i], item) }));
    } else {
      patch[key] = value as PatchValue;
    }
  }
  return patch;
}

/** Structural equality, blind to key order (cdk8s sorts keys when it synthesizes). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => key in b && deepEqual(a[key], b[key]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNamedList(list: readonly unknown[]): boolean {
  return list.length > 0 && list.every((item) => isRecord(item) && typeof item.name === 'string');
}

function sameNames(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => (item as { name: string }).name === (b[i] as { name: string }).name);
}
