/**
 * Independent reference semantics for the surgical YAML writer's merge patches, used by the
 * writer tests to compute the value a patched document must parse to. Written from the
 * documented contract, not from the implementation. Free of vitest, so that scripts can use it.
 */
import { parse, parseAllDocuments } from 'yaml';

export type Json = null | string | number | boolean | Json[] | { [key: string]: Json };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own property even for keys such as `__proto__`. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function copy(target: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(target)) setOwn(out, key, target[key]);
  return out;
}

/** Plain RFC 7386 JSON merge patch. */
export function applyRfcMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out = isRecord(target) ? copy(target) : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete out[key];
    else setOwn(out, key, applyRfcMergePatch(Object.hasOwn(out, key) ? out[key] : undefined, value));
  }
  return out;
}

/** Marks a string value that must parse (as YAML) to `value`: an object patch edited the YAML inside it. */
export class EmbeddedYaml {
  constructor(readonly value: unknown) {}
}

function isNamedPatchList(value: unknown): value is Array<Record<string, unknown> & { name: string }> {
  return Array.isArray(value) && value.length > 0 && value.every((v) => isRecord(v) && typeof v.name === 'string');
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/**
 * The writer's documented semantics: RFC 7386 plus
 * - an object patch that only removes keys (at any depth), under a key that is not there,
 *   changes nothing (no empty map is created: no change, no bytes);
 * - arrays of objects that all have `name` merge element by element by name;
 * - an array of scalars patched onto an existing list keeps the kept entries (in their existing
 *   order) and appends the new ones;
 * - an object patch onto a string that holds a YAML mapping edits the YAML inside the string
 *   (any other string is replaced by a map);
 * - a value written whole (e.g. a new list of objects) has its maps written without null entries.
 */
export function applyWriterPatch(target: unknown, patch: unknown): unknown {
  if (isRecord(patch)) {
    if (typeof target === 'string' && target !== '') {
      // A string that holds a YAML mapping is edited; any other string is replaced by a map.
      const inner = parse(target) as unknown;
      if (isRecord(inner)) return new EmbeddedYaml(applyWriterPatch(inner, patch));
    }
    const out = isRecord(target) ? copy(target) : {};
    for (const key of Object.keys(patch)) {
      const value = patch[key];
      const present = Object.hasOwn(out, key);
      if (value === null) delete out[key];
      else if (present || !onlyRemoves(value)) setOwn(out, key, applyWriterPatch(present ? out[key] : undefined, value));
    }
    return out;
  }
  if (isNamedPatchList(patch)) {
    if (!Array.isArray(target)) throw new Error('reference: named patch on a non-list');
    return target.map((item) => {
      const element = isRecord(item) ? patch.find((p) => p.name === item.name) : undefined;
      return element ? applyWriterPatch(item, element) : item;
    });
  }
  if (Array.isArray(patch) && Array.isArray(target) && patch.every(isScalar)) {
    const wanted = patch.filter((v) => v !== null);
    const wantedText = wanted.map(String);
    const kept = target.filter((item) => isScalar(item) && item !== null && wantedText.includes(String(item)));
    const keptText = new Set(kept.map(String));
    const added: unknown[] = [];
    for (const value of wanted) {
      if (keptText.has(String(value)) || target.some((t) => isScalar(t) && t !== null && String(t) === String(value))) continue;
      keptText.add(String(value));
      added.push(value);
    }
    return [...kept, ...added];
  }
  return withoutNulls(patch);
}

/** True for an object patch whose every leaf is a removal (`{a: null, b: {c: null}}`); `{}` is not. */
export function onlyRemoves(value: unknown): boolean {
  return isRecord(value) && Object.keys(value).length > 0 && Object.values(value).every((v) => v === null || onlyRemoves(v));
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) if (value[key] !== null && !onlyRemoves(value[key])) setOwn(out, key, withoutNulls(value[key]));
  return out;
}

/** Replaces, in `actual`, every string sitting where `expected` has an {@link EmbeddedYaml} by its parsed value. */
export function resolveEmbedded(actual: unknown, expected: unknown): unknown {
  if (expected instanceof EmbeddedYaml)
    return typeof actual === 'string' ? new EmbeddedYaml(resolveEmbedded(parse(actual), expected.value)) : actual;
  if (Array.isArray(expected) && Array.isArray(actual)) return actual.map((item, i) => resolveEmbedded(item, expected[i]));
  if (isPlainRecord(expected) && isPlainRecord(actual)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(actual)) setOwn(out, key, key in expected ? resolveEmbedded(actual[key], expected[key]) : actual[key]);
    return out;
  }
  return actual;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null);
}

/** Parses every document of `text`, failing the test on any YAML error; returns their JS values. */
export function parseStrict(text: string): unknown[] {
  const documents = parseAllDocuments(text);
  const errors = [...documents].flatMap((d) => d.errors.map((e) => `${e.code}: ${e.message}`));
  if (errors.length > 0) throw new Error(`YAML errors in:\n${text}\n${errors.join('\n')}`);
  return [...documents].map((d) => d.toJS() as unknown);
}

/** The lines of `text`, ignoring whether the text ends with a newline. */
export function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** True when every line of `before` appears in `after`, in the same order. */
export function isLineSubsequence(before: string, after: string): boolean {
  const out = linesOf(after);
  let i = 0;
  for (const line of linesOf(before)) {
    while (i < out.length && out[i] !== line) i++;
    if (i === out.length) return false;
    i++;
  }
  return true;
}

/** Lines that differ between two texts of the same line count, as [before, after] pairs. */
export function changedLines(before: string, after: string): Array<[string, string]> {
  const a = linesOf(before);
  const b = linesOf(after);
  if (b.length !== a.length) throw new Error(`line count: expected ${a.length}, got ${b.length}`);
  return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]!] as [string, string]]));
}
