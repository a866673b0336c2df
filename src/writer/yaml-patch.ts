import { CST, Parser } from 'yaml';
import { MeshUpgradeError } from '../core/errors.js';
import { fastPathSplices, isFastPatch, type FastEdit } from './block-fast-path.js';
import { formatKey, formatScalar, plainReadsAsString, type Scalar } from './yaml-scalar.js';

/**
 * A JSON merge patch (RFC 7386) with one extension: an array of objects that all carry `name`
 * is merged element by element by that key (as Kubernetes strategic merge does for webhooks and
 * containers). `null` removes a key. An object patch against a string value edits the YAML held
 * in that string (Helm `values: |` blocks).
 */
export type PatchValue = Scalar | null | readonly PatchValue[] | MergePatch;
export interface MergePatch {
  readonly [key: string]: PatchValue;
}

/** What a document is, read from its CST: enough to match it against an object reference. */
export interface DocumentIdentity {
  readonly documentIndex: number;
  readonly apiVersion: string | null;
  readonly kind: string | null;
  readonly name: string | null;
}

export interface DocumentEdit {
  readonly documentIndex: number;
  /** Expected identity of the document (null for documents without kind/name, e.g. kustomization.yaml). */
  readonly kind: string | null;
  readonly name: string | null;
  /** Remove the whole document. */
  readonly remove?: boolean;
  readonly patch?: MergePatch;
}

export class YamlEditError extends MeshUpgradeError {}

interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

type Token = CST.Token;
type Item = CST.BlockMap['items'][number] | CST.FlowCollection['items'][number];

/**
 * Applies edits to a multi-document YAML text by splicing only the bytes of the nodes that change:
 * comments, key order, quoting, indentation, flow style and document separators elsewhere stay
 * exactly as they were. Returns null when every document of the file was removed.
 */
export function editYamlText(path: string, source: string, edits: readonly DocumentEdit[], options: EditOptions = {}): string | null {
  return editYamlTextReporting(path, source, edits, options).text;
}

export interface EditOptions {
  /** Try the line-based fast path first (same result; tests turn it off to check the CST path). @default true */
  readonly fastPath?: boolean;
}

export interface EditResult {
  /** The new text, or null when every document was removed. */
  readonly text: string | null;
  /** Indexes (into `edits`) of the edits that changed something. */
  readonly changed: ReadonlySet<number>;
}

/** {@link editYamlText}, also telling which edits had an effect (a no-op edit leaves no trace). */
export function editYamlTextReporting(path: string, source: string, edits: readonly DocumentEdit[], options: EditOptions = {}): EditResult {
  const changed = new Set<number>();
  if (edits.length === 0) return { text: source, changed };
  if (options.fastPath !== false && edits.every((e) => !e.remove && isFastPatch(e.patch))) {
    const fast = fastPathSplices(source, edits as FastEdit[]);
    if (fast) return { text: applySplices(source, fast.splices), changed: fast.changed };
  }
  const documents = [...new Parser().parse(source)].filter((t): t is CST.Document => t.type === 'document');
  const splices: Splice[] = [];
  const removed = new Set<CST.Document>();
  for (const [editIndex, edit] of edits.entries()) {
    const before = splices.length;
    const document = findDocument(documents, edit);
    if (!document) throw new YamlEditError(`${path}: cannot find ${edit.kind} ${edit.name} (document ${edit.documentIndex + 1}) to edit`);
    if (edit.remove) {
      if (removed.has(document)) continue;
      removed.add(document);
      const next = documents[documents.indexOf(document) + 1];
      splices.push({ start: document.offset, end: next ? next.offset : source.length, text: '' });
    } else if (edit.patch) {
      const root = document.value;
      if (!root || !isMap(root)) throw new YamlEditError(`${path}: ${edit.kind} ${edit.name} is not a YAML mapping`);
      new MapPatcher(source, splices, path).patchMap(root, edit.patch, null);
    }
    if (splices.length > before) changed.add(editIndex);
  }
  if (removed.size === documents.length && removed.size > 0) return { text: null, changed };
  return { text: applySplices(source, splices), changed };
}

/** Edits a YAML text that is a single mapping (e.g. the YAML inside a Helm `values` string). */
export function patchYamlMappingText(path: string, source: string, patch: MergePatch): string {
  const document = [...new Parser().parse(source)].find((t): t is CST.Document => t.type === 'document');
  const splices: Splice[] = [];
  if (!document?.value || !isMap(document.value)) throw new YamlEditError(`${path}: embedded YAML is not a mapping`);
  new MapPatcher(source, splices, path).patchMap(document.value, patch, null);
  return applySplices(source, splices);
}

/**
 * The source text of one document, for copying it to a new file: a file's only document comes
 * with the comments around it; one of several comes without its `---` separator.
 */
export function documentSource(source: string, edit: Pick<DocumentEdit, 'documentIndex' | 'kind' | 'name'>): string | null {
  const documents = [...new Parser().parse(source)].filter((t): t is CST.Document => t.type === 'document');
  if (documents.length === 1) return source;
  const document = findDocument(documents, edit);
  if (!document) return null;
  const next = documents[documents.indexOf(document) + 1];
  const text = source.slice(document.offset, next ? next.offset : source.length);
  return text.replace(/^---[^\n]*\n/, '');
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

/** Reads apiVersion/kind/metadata.name of every document, for matching. */
export function identifyDocuments(source: string): DocumentIdentity[] {
  return [...new Parser().parse(source)]
    .filter((t): t is CST.Document => t.type === 'document')
    .map((document, documentIndex) => identify(document, documentIndex));
}

function identify(document: CST.Document, documentIndex: number): DocumentIdentity {
  const root = document.value && isMap(document.value) ? document.value : null;
  const get = (key: string) => (root ? findItem(root, key) : undefined);
  const text = (item: Item | undefined) => (item?.value ? scalarText(item.value) : null);
  const metadata = get('metadata')?.value;
  const name = metadata && isMap(metadata) ? text(findItem(metadata, 'name')) : null;
  return { documentIndex, apiVersion: text(get('apiVersion')), kind: text(get('kind')), name };
}

function findDocument(documents: CST.Document[], edit: DocumentEdit): CST.Document | undefined {
  const matches = (document: CST.Document, index: number) => {
    const id = identify(document, index);
    return id.kind === edit.kind && id.name === edit.name;
  };
  const byIndex = documents[edit.documentIndex];
  if (byIndex && matches(byIndex, edit.documentIndex)) return byIndex;
  return documents.find(matches);
}

function applySplices(source: string, splices: Splice[]): string {
  if (splices.length === 0) return source;
  const ordered = [...splices].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let cursor = 0;
  for (const splice of ordered) {
    if (splice.start < cursor) throw new Error(`${'internal error: overlapping YAML edits'} at ${splice.start}`);
    out += source.slice(cursor, splice.start) + splice.text;
    cursor = splice.end;
  }
  return out + source.slice(cursor);
}

function isMap(token: Token): token is CST.BlockMap | CST.FlowCollection {
  return token.type === 'block-map' || (token.type === 'flow-collection' && token.start.source === '{');
}

function isSeq(token: Token): token is CST.BlockSequence | CST.FlowCollection {
  return token.type === 'block-seq' || (token.type === 'flow-collection' && token.start.source === '[');
}

function isScalarToken(token: Token): token is CST.FlowScalar | CST.BlockScalar {
  return (
    token.type === 'scalar' ||
    token.type === 'single-quoted-scalar' ||
    token.type === 'double-quoted-scalar' ||
    token.type === 'block-scalar'
  );
}

function scalarText(token: Token): string | null {
  if (!isScalarToken(token)) return null;
  return CST.resolveAsScalar(token)?.value ?? null;
}

function findItem(map: CST.BlockMap | CST.FlowCollection, key: string): Item | undefined {
  return map.items.find((item) => item.key && scalarText(item.key) === key);
}

/** Where a node's own text ends (trailing comments and newlines excluded). */
function contentEnd(token: Token): number {
  switch (token.type) {
    case 'block-scalar':
      return blockScalarContentStart(token) + token.source.length;
    case 'block-map':
    case 'block-seq': {
      const last = contentItems<Item | CST.BlockSequence['items'][number]>(token.items).pop();
      return last ? itemEnd(last) : token.offset;
    }
    case 'flow-collection': {
      const close = token.end[0];
      return close ? close.offset + close.source.length : token.offset;
    }
    default:
      return 'source' in token && typeof token.source === 'string' ? token.offset + token.source.length : token.offset;
  }
}

function itemEnd(item: Item | CST.BlockSequence['items'][number]): number {
  if (item.value) return contentEnd(item.value);
  const sepEnd = item.sep?.filter((t) => t.type === 'map-value-ind').pop();
  if (sepEnd) return sepEnd.offset + sepEnd.source.length;
  if ('key' in item && item.key) return contentEnd(item.key);
  return 0;
}

/**
 * Items that hold a key or a value. A comment line at the end of a collection shows up in the CST
 * as an item with neither; it must not count as an entry.
 */
function contentItems<T extends { key?: unknown; value?: unknown }>(items: readonly T[]): T[] {
  return items.filter((item) => Boolean(item.key) || Boolean(item.value));
}

function blockScalarContentStart(token: CST.BlockScalar): number {
  const last = token.props[token.props.length - 1] as CST.SourceToken | undefined;
  return last ? last.offset + last.source.length : token.offset;
}

function isPlainObject(value: PatchValue): value is MergePatch {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class MapPatcher {
  constructor(
    private readonly source: string,
    private readonly splices: Splice[],
    private readonly path: string,
  ) {}

  private lineStart(offset: number): number {
    return this.source.lastIndexOf('\n', offset - 1) + 1;
  }

  /**
   * Index just past the newline that ends the line holding `offset`. A content end that already
   * sits at the start of a line (block scalars include their final newline) is its own line end.
   */
  private lineEnd(offset: number): number {
    if (offset > 0 && this.source[offset - 1] === '\n') return offset;
    const newline = this.source.indexOf('\n', offset);
    return newline < 0 ? this.source.length : newline + 1;
  }

  private column(offset: number): number {
    return offset - this.lineStart(offset);
  }

  /**
   * Patches a mapping. `owner` is the item that holds this map as its value, needed when the map
   * must be rewritten whole (all keys removed).
   */
  patchMap(map: CST.BlockMap | CST.FlowCollection, patch: MergePatch, owner: Item | null): void {
    const removals: Item[] = [];
    const additions: Array<[string, PatchValue]> = [];
    for (const [key, value] of Object.entries(patch)) {
      const item = findItem(map, key);
      if (value === null) {
        if (item) removals.push(item);
      } else if (!item) {
        additions.push([key, value]);
      } else {
        this.patchItem(item, key, value, map.type === 'flow-collection');
      }
    }
    if (removals.length === 0 && additions.length === 0) return;
    if (map.type === 'flow-collection') this.editFlowMap(map, removals, additions);
    else this.editBlockMap(map, removals, additions, owner);
  }

  private patchItem(item: Item, key: string, value: PatchValue, inFlow: boolean): void {
    const current = item.value;
    if (isPlainObject(value)) {
      if (current && isMap(current)) return this.patchMap(current, value, item);
      if (current && holdsEmbeddedYaml(current)) return this.patchEmbeddedYaml(current, key, value);
      return this.replaceValue(item, value, inFlow);
    }
    if (Array.isArray(value)) {
      if (value.length > 0 && value.every((v) => isPlainObject(v) && typeof v.name === 'string')) {
        if (!current || !isSeq(current)) throw new YamlEditError(`${this.path}: '${key}' is not a list`);
        return this.patchNamedSeq(current, key, value as MergePatch[]);
      }
      if (current && isSeq(current) && value.every((v) => !isPlainObject(v) && !Array.isArray(v))) {
        return this.patchScalarSeq(item, current, value as readonly (Scalar | null)[], inFlow);
      }
      return this.replaceValue(item, value, inFlow);
    }
    if (current && isScalarToken(current)) {
      if (sameScalar(current, value as Scalar)) return;
      if (current.type !== 'block-scalar') {
        this.splices.push({ start: current.offset, end: current.offset + current.source.length, text: formatScalar(value as Scalar, current.type) });
        return;
      }
    }
    this.replaceValue(item, value, inFlow);
  }

  private patchNamedSeq(seq: CST.BlockSequence | CST.FlowCollection, key: string, elements: readonly MergePatch[]): void {
    for (const element of elements) {
      const entry = seq.items.find((it) => it.value && isMap(it.value) && scalarText(findItem(it.value, 'name')?.value ?? it.value) === element.name);
      if (!entry?.value || !isMap(entry.value)) throw new YamlEditError(`${this.path}: no element named '${String(element.name)}' in '${key}'`);
      this.patchMap(entry.value, element, null);
    }
  }

  /** A list of scalars becomes `desired`: kept entries stay byte for byte, new ones go at the end. */
  private patchScalarSeq(item: Item, seq: CST.BlockSequence | CST.FlowCollection, desired: readonly (Scalar | null)[], inFlow: boolean): void {
    const wanted = desired.filter((v): v is Scalar => v !== null);
    const entries = contentItems(seq.items).map((entry) => ({ entry, text: entry.value ? scalarText(entry.value) : null }));
    const existing = new Set(entries.map((e) => e.text));
    const removed = entries.filter((e) => e.text === null || !wanted.some((w) => String(w) === e.text));
    const added = wanted.filter((w) => !existing.has(String(w)));
    if (removed.length === 0 && added.length === 0) return;
    if (removed.length === entries.length && added.length === 0) return this.replaceValue(item, [], inFlow);
    if (seq.type === 'flow-collection') return this.editFlowItems(seq, removed.map((r) => r.entry), added.map((v) => formatScalar(v)));
    for (const { entry } of removed) {
      const indicator = entry.start.find((t) => t.type === 'seq-item-ind');
      const start = this.lineStart(indicator ? indicator.offset : itemEnd(entry));
      this.splices.push({ start, end: this.lineEnd(itemEnd(entry)), text: '' });
    }
    if (added.length > 0) {
      const first = contentItems(seq.items)[0]?.start.find((t) => t.type === 'seq-item-ind');
      const pad = ' '.repeat(first ? this.column(first.offset) : this.column(seq.offset));
      const at = this.lineEnd(contentEnd(seq));
      const prefix = this.source[at - 1] === '\n' || at === 0 ? '' : '\n';
      this.splices.push({ start: at, end: at, text: prefix + added.map((v) => `${pad}- ${formatScalar(v)}\n`).join('') });
    }
  }

  /**
   * Removes and appends entries of a flow collection one by one, so kept entries, their quoting
   * and comments stay as they are.
   */
  private editFlowItems(collection: CST.FlowCollection, removals: readonly Item[], additions: readonly string[]): void {
    const items = contentItems(collection.items) as Item[];
    const kept = items.filter((item) => !removals.includes(item));
    const startOf = (item: Item) => (item.key ? item.key.offset : item.value!.offset);
    if (kept.length === 0) {
      this.splices.push({ start: collection.start.offset + 1, end: collection.end[0]!.offset, text: additions.join(', ') });
      return;
    }
    // Leading removed entries go up to the first kept one; later ones take the separator before them.
    const firstKept = items.indexOf(kept[0]!);
    if (firstKept > 0) this.splices.push({ start: startOf(items[0]!), end: startOf(kept[0]!), text: '' });
    for (const [index, item] of items.entries()) {
      if (index <= firstKept || !removals.includes(item)) continue;
      this.splices.push({ start: itemEnd(items[index - 1]!), end: itemEnd(item), text: '' });
    }
    if (additions.length === 0) return;
    const at = itemEnd(kept[kept.length - 1]!);
    this.splices.push({ start: at, end: at, text: `, ${additions.join(', ')}` });
  }

  private patchEmbeddedYaml(token: CST.FlowScalar | CST.BlockScalar, key: string, patch: MergePatch): void {
    const inner = scalarText(token) ?? '';
    const edited = patchYamlMappingText(`${this.path} (${key})`, inner, patch);
    if (edited === inner) return;
    if (token.type === 'block-scalar') {
      const start = blockScalarContentStart(token);
      const firstLine = token.source.split('\n').find((line) => line.trim() !== '') ?? '';
      const indent = firstLine.slice(0, firstLine.length - firstLine.trimStart().length);
      // The block's own line breaks at its end (chomping) stay as they were.
      const trailing = /\n*$/.exec(token.source)?.[0] ?? '';
      const body = edited
        .replace(/\n+$/, '')
        .split('\n')
        .map((line) => (line === '' ? '' : indent + line))
        .join('\n');
      this.splices.push({ start, end: start + token.source.length, text: body + trailing });
      return;
    }
    this.splices.push({ start: token.offset, end: token.offset + token.source.length, text: JSON.stringify(edited) });
  }

  /** Rewrites an item's value wholesale (missing value, scalar → map, list of scalars). */
  private replaceValue(item: Item, value: PatchValue, inFlowContainer: boolean): void {
    const keyToken = item.key!;
    const inFlow = inFlowContainer || item.value?.type === 'flow-collection';
    const column = this.column(keyToken.offset);
    const colon = item.sep?.find((t) => t.type === 'map-value-ind');
    if (!colon) throw new YamlEditError(`${this.path}: unexpected YAML shape near offset ${keyToken.offset}`);
    const start = colon.offset + 1;
    if (isPlainObject(value) && !inFlow) {
      const block = renderBlockMap(value, column + 2);
      if (!item.value) {
        // `labels: # note` keeps its comment; the mapping goes on the lines below.
        const at = this.lineEnd(start);
        this.splices.push({ start: at, end: at, text: `${this.source[at - 1] === '\n' || at === 0 ? '' : '\n'}${block}` });
        return;
      }
      this.splices.push({ start, end: this.lineEnd(contentEnd(item.value)), text: `\n${block}` });
      return;
    }
    const end = item.value ? contentEnd(item.value) : start;
    // A block scalar owns the line break after it; the flow value that replaces it does not.
    const newline = item.value?.type === 'block-scalar' && this.source[end - 1] === '\n' ? '\n' : '';
    this.splices.push({ start, end, text: ` ${renderFlow(value)}${newline}` });
  }

  private editBlockMap(map: CST.BlockMap, removals: Item[], additions: Array<[string, PatchValue]>, owner: Item | null): void {
    const pending = [...additions];
    // Replacing a removed key in place (`istio-injection: enabled` → `istio.io/rev: x`) keeps the
    // diff to one line and keeps the line's comment.
    const remaining: Item[] = [];
    for (const item of removals) {
      const next = pending[0];
      const value = item.value;
      if (next && !isPlainObject(next[1]) && !Array.isArray(next[1]) && value && isScalarToken(value) && value.type !== 'block-scalar') {
        pending.shift();
        this.splices.push({ start: item.key!.offset, end: item.key!.offset + (item.key as CST.FlowScalar).source.length, text: formatKey(next[0]) });
        this.splices.push({ start: value.offset, end: value.offset + value.source.length, text: formatScalar(next[1] as Scalar, value.type) });
      } else {
        remaining.push(item);
      }
    }
    if (remaining.length === contentItems(map.items).length && pending.length === 0) {
      // Every key goes: keep the parent key with an empty mapping rather than a null.
      if (!owner) throw new YamlEditError(`${this.path}: refusing to empty a whole document`);
      const colon = owner.sep!.find((t) => t.type === 'map-value-ind')!;
      this.splices.push({ start: colon.offset + 1, end: this.lineEnd(contentEnd(map)), text: ' {}\n' });
      return;
    }
    for (const item of remaining) {
      const keyOffset = item.key!.offset;
      const start = this.lineStart(keyOffset);
      if (this.source.slice(start, keyOffset).trim() !== '') {
        throw new YamlEditError(`${this.path}: cannot remove '${scalarText(item.key!)}' (it shares a line with other syntax)`);
      }
      this.splices.push({ start, end: this.lineEnd(itemEnd(item)), text: '' });
    }
    if (pending.length > 0) {
      const first = contentItems(map.items)[0];
      const column = this.column(first?.key ? first.key.offset : map.offset);
      const at = this.lineEnd(contentEnd(map));
      const prefix = this.source[at - 1] === '\n' || at === 0 ? '' : '\n';
      const text = pending.map(([key, value]) => renderEntry(key, value, column)).join('');
      this.splices.push({ start: at, end: at, text: prefix + text });
    }
  }

  private editFlowMap(map: CST.FlowCollection, removals: Item[], additions: Array<[string, PatchValue]>): void {
    this.editFlowItems(map, removals, additions.map(([key, value]) => `${formatKey(key)}: ${renderFlow(value)}`));
  }
}

/** Block scalars and quoted strings may hold YAML (Helm `values: |`); plain scalars and nulls do not. */
function holdsEmbeddedYaml(token: Token): token is CST.FlowScalar | CST.BlockScalar {
  if (token.type !== 'block-scalar' && token.type !== 'single-quoted-scalar' && token.type !== 'double-quoted-scalar') return false;
  const text = scalarText(token);
  return text !== null && /^\s*[^\s#].*:/m.test(text);
}

/** Same text and same type (a quoted "true" is not the boolean true). */
function sameScalar(token: CST.FlowScalar | CST.BlockScalar, value: Scalar): boolean {
  const text = scalarText(token);
  if (text !== String(value)) return false;
  const quoted = token.type !== 'scalar';
  if (typeof value !== 'string') return !quoted;
  return quoted || plainReadsAsString(text);
}

function renderEntry(key: string, value: PatchValue, column: number): string {
  const pad = ' '.repeat(column);
  if (isPlainObject(value)) return `${pad}${formatKey(key)}:\n${renderBlockMap(value, column + 2)}`;
  return `${pad}${formatKey(key)}: ${renderFlow(value)}\n`;
}

function renderBlockMap(value: MergePatch, column: number): string {
  const entries = Object.entries(value).filter(([, v]) => v !== null);
  if (entries.length === 0) return `${' '.repeat(column)}{}\n`;
  return entries.map(([k, v]) => renderEntry(k, v, column)).join('');
}

function renderFlow(value: PatchValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(renderFlow).join(', ')}]`;
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== null);
    return `{${entries.map(([k, v]) => `${formatKey(k)}: ${renderFlow(v)}`).join(', ')}}`;
  }
  return formatScalar(value as Scalar);
}
