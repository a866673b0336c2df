import type { MergePatch, PatchValue } from '../model/merge-patch.js';
import { Composer, CST, Parser, parseAllDocuments, visit, type Document, type Node, type Pair } from 'yaml';
import { MeshUpgradeError } from '../model/errors.js';
import { fastPathSplices, isFastPatch, type FastEdit } from './block-fast-path.js';
import { isRemovalOnly, patchedData, readsAs } from './patch-data.js';
import { formatKey, formatScalar, plainReadsAsString, sameScalarValue } from './yaml-scalar.js';
import { type Scalar } from '../model/scalar.js';


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

/**
 * The writer's one refusal: an edit it cannot make without writing invalid YAML or data other
 * than the patch asks for (the file is left as it was).
 */
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
 * comments, key order, quoting, indentation, flow style, document separators, the byte order mark
 * and the line ends (new lines take the file's CRLF or LF) elsewhere stay exactly as they were.
 * A patch that changes no data changes no bytes. Returns null when every document of the file was
 * removed. An edit the writer cannot make correctly (an anchor an alias refers to, a key it cannot
 * name, a result that would not read back as the patched data) throws a {@link YamlEditError}
 * and nothing is written.
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
  const tokens = [...new Parser().parse(source)];
  const documents = tokens.filter((t): t is CST.Document => t.type === 'document');
  const composed = composeDocuments(tokens, documents.length);
  const splices: Splice[] = [];
  const removed = new Set<CST.Document>();
  const expected: Expectation[] = documents.map(() => ({ removed: false, patches: [] }));
  for (const [editIndex, edit] of edits.entries()) {
    const before = splices.length;
    const document = findDocument(documents, edit);
    if (!document) throw new YamlEditError(`${path}: cannot find ${edit.kind} ${edit.name} (document ${edit.documentIndex + 1}) to edit`);
    const index = documents.indexOf(document);
    if (edit.remove) {
      if (removed.has(document)) continue;
      removed.add(document);
      expected[index]!.removed = true;
      const next = documents[index + 1];
      splices.push({ start: document.offset, end: next ? next.offset : source.length, text: '' });
    } else if (edit.patch) {
      const root = document.value;
      if (!root || !isMap(root)) throw new YamlEditError(`${path}: ${edit.kind} ${edit.name} is not a YAML mapping`);
      expected[index]!.patches.push(edit.patch);
      new MapPatcher(source, splices, path, new DocumentFacts(document, composed?.[index])).patchMap(root, edit.patch, null);
    }
    if (splices.length > before) changed.add(editIndex);
  }
  if (removed.size === documents.length && removed.size > 0) return { text: null, changed };
  const text = applySplices(source, splices);
  if (splices.length > 0) verifyEdited(path, composed, expected, text);
  return { text, changed };
}

/** Edits a YAML text that is a single mapping (e.g. the YAML inside a Helm `values` string). */
export function patchYamlMappingText(path: string, source: string, patch: MergePatch): string {
  const tokens = [...new Parser().parse(source)];
  const documents = tokens.filter((t): t is CST.Document => t.type === 'document');
  const document = documents[0];
  const splices: Splice[] = [];
  if (!document?.value || !isMap(document.value)) throw new YamlEditError(`${path}: embedded YAML is not a mapping`);
  const composed = composeDocuments(tokens, documents.length);
  new MapPatcher(source, splices, path, new DocumentFacts(document, composed?.[0])).patchMap(document.value, patch, null);
  const text = applySplices(source, splices);
  if (splices.length > 0) verifyEdited(path, composed, documents.map((_, i) => ({ removed: false, patches: i === 0 ? [patch] : [] })), text);
  return text;
}

/** What one document of a file must read as after the edits: removed, or patched by each patch in turn. */
interface Expectation {
  removed: boolean;
  readonly patches: MergePatch[];
}

/** The documents as the `yaml` library reads them, built on the same CST tokens (null when they do not line up). */
function composeDocuments(tokens: readonly Token[], count: number): Document.Parsed[] | null {
  const composed = [...new Composer({ keepSourceTokens: true, logLevel: 'error' }).compose(tokens)];
  return composed.length === count ? composed : null;
}

/**
 * The last line of defence for "never invalid YAML, never wrong data": the edited text is read
 * back and must be valid YAML whose documents read as the originals with the patches applied
 * (aliases and tags resolved). Anything else is refused. A file that did not read cleanly before
 * is not checked (there is no data to hold the result to).
 */
function verifyEdited(path: string, before: Document.Parsed[] | null, expected: readonly Expectation[], text: string): void {
  if (!before || before.some((d) => d.errors.length > 0)) return;
  let wanted: unknown[];
  try {
    wanted = before.flatMap((doc, i) => (expected[i]!.removed ? [] : [expected[i]!.patches.reduce<unknown>((data, patch) => patchedData(data, patch), doc.toJS())]));
  } catch {
    return; // e.g. an alias bomb: the original cannot be read as data
  }
  const after = [...parseAllDocuments(text, { logLevel: 'error' })];
  const error = after.flatMap((d) => d.errors)[0];
  if (error) throw new YamlEditError(`${path}: refusing the edit: the result would not be valid YAML (${error.message.split('\n')[0]})`);
  let ok: boolean;
  try {
    ok = after.length === wanted.length && after.every((doc, i) => readsAs(doc.toJS(), wanted[i]));
  } catch (cause) {
    // An alias whose anchor went away only shows when the data is read.
    throw new YamlEditError(`${path}: refusing the edit: the result would not be valid YAML (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  if (!ok) throw new YamlEditError(`${path}: refusing the edit: the result would not read as the patched data (the YAML there is beyond what the writer edits safely)`);
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

/**
 * Applies splices whose texts use `\n`; in a file whose lines end with CRLF (as its first line
 * does), the new lines end with CRLF too.
 */
function applySplices(source: string, splices: Splice[]): string {
  if (splices.length === 0) return source;
  const firstBreak = source.indexOf('\n');
  const crlf = firstBreak > 0 && source[firstBreak - 1] === '\r';
  const ordered = [...splices].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let cursor = 0;
  for (const splice of ordered) {
    if (splice.start < cursor) throw new Error(`${'internal error: overlapping YAML edits'} at ${splice.start}`);
    out += source.slice(cursor, splice.start) + (crlf ? splice.text.replace(/\r?\n/g, '\r\n') : splice.text);
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
      const last = contentItems<Item | CST.BlockSequence['items'][number]>(token.items as Array<Item | CST.BlockSequence['items'][number]>).pop();
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
  const sep = 'sep' in item ? (item.sep ?? []) : [];
  const sepEnd = sep.filter((t) => t.type === 'map-value-ind').pop();
  if (sepEnd) return sepEnd.offset + sepEnd.source.length;
  if ('key' in item && item.key) return contentEnd(item.key);
  // A bare `-`, `?` or `:`.
  const last = [...item.start, ...sep].filter((t) => !BETWEEN.has(t.type)).pop();
  return last ? last.offset + last.source.length : 0;
}

/**
 * Items that are entries: with a key, a value or an indicator (a bare `:`, `?` or `-` is an entry
 * with null parts). A comment line at the end of a collection shows up in the CST as an item with
 * none of these; it must not count as an entry.
 */
function contentItems<T extends { start: readonly CST.SourceToken[]; key?: unknown; sep?: readonly CST.SourceToken[]; value?: unknown }>(items: readonly T[]): T[] {
  return items.filter(
    (item) =>
      Boolean(item.key) ||
      Boolean(item.value) ||
      item.start.some((t) => t.type === 'seq-item-ind' || t.type === 'explicit-key-ind' || t.type === 'anchor' || t.type === 'tag') ||
      (item.sep ?? []).some((t) => t.type === 'map-value-ind'),
  );
}

function blockScalarContentStart(token: CST.BlockScalar): number {
  const last = token.props[token.props.length - 1] as CST.SourceToken | undefined;
  return last ? last.offset + last.source.length : token.offset;
}

function isPlainObject(value: PatchValue): value is MergePatch {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the `yaml` library reads from one document: the data of its nodes, its anchors and aliases. */
class DocumentFacts {
  private nodes: Map<unknown, Node> | null = null;
  private pairs: Map<unknown, Pair> | null = null;
  private props: { anchors: CST.SourceToken[]; aliases: CST.SourceToken[] } | null = null;
  private readonly dataKeys = new Map<Token, Set<string>>();

  constructor(
    private readonly cst: CST.Document,
    private readonly doc: Document.Parsed | undefined,
  ) {}

  private index(): void {
    if (this.nodes) return;
    const nodes = new Map<unknown, Node>();
    const pairs = new Map<unknown, Pair>();
    if (this.doc) {
      visit(this.doc, {
        Node: (_key, node) => {
          if (node.srcToken) nodes.set(node.srcToken, node);
        },
        Pair: (_key, pair) => {
          const key = pair.key as Partial<Node> | null;
          if (key?.srcToken) pairs.set(key.srcToken, pair as Pair);
        },
      });
    }
    this.nodes = nodes;
    this.pairs = pairs;
  }

  private toJS(node: unknown): { value: unknown } | null {
    if (!this.doc) return null;
    if (node === null || node === undefined) return { value: null };
    try {
      return { value: (node as Node).toJS(this.doc) };
    } catch {
      return null;
    }
  }

  /** The data an entry's value reads as (tags and aliases resolved), or null when unknown. */
  itemData(item: Item): { value: unknown } | null {
    this.index();
    const pair = item.key ? this.pairs!.get(item.key) : undefined;
    if (pair) return this.toJS(pair.value);
    const node = item.value ? this.nodes!.get(item.value) : undefined;
    return node ? this.toJS(node) : null;
  }

  /** The data a value token reads as, or null when unknown. */
  tokenData(token: Token): { value: unknown } | null {
    this.index();
    const node = this.nodes!.get(token);
    return node ? this.toJS(node) : null;
  }

  /**
   * True when the map read from `token` has, as data, an entry whose key reads as `key` (a
   * collection or null key reads as a string there too).
   */
  mapHasKey(token: Token, key: string): boolean {
    let keys = this.dataKeys.get(token);
    if (!keys) {
      this.index();
      const data = this.nodes!.has(token) ? this.toJS(this.nodes!.get(token))?.value : undefined;
      keys = new Set(typeof data === 'object' && data !== null && !Array.isArray(data) ? Object.keys(data) : []);
      this.dataKeys.set(token, keys);
    }
    return keys.has(key);
  }

  private propTokens(): { anchors: CST.SourceToken[]; aliases: CST.SourceToken[] } {
    if (!this.props) {
      const props = { anchors: [] as CST.SourceToken[], aliases: [] as CST.SourceToken[] };
      collectProps(this.cst, props);
      this.props = props;
    }
    return this.props;
  }

  /** The name of an anchor among `tokens` that an alias refers to. */
  aliasedAnchor(tokens: readonly CST.SourceToken[]): string | null {
    for (const token of tokens) {
      if (token.type !== 'anchor') continue;
      const name = token.source.slice(1);
      if (this.propTokens().aliases.some((alias) => alias.source.slice(1) === name)) return name;
    }
    return null;
  }

  /** The name of an anchor defined in [start, end) that an alias outside that range refers to. */
  aliasedAnchorIn(start: number, end: number): string | null {
    const { anchors, aliases } = this.propTokens();
    for (const anchor of anchors) {
      if (anchor.offset < start || anchor.offset >= end) continue;
      const name = anchor.source.slice(1);
      if (aliases.some((alias) => alias.source.slice(1) === name && (alias.offset < start || alias.offset >= end))) return name;
    }
    return null;
  }
}

function collectProps(token: unknown, out: { anchors: CST.SourceToken[]; aliases: CST.SourceToken[] }): void {
  if (typeof token !== 'object' || token === null) return;
  if (Array.isArray(token)) {
    for (const t of token) collectProps(t, out);
    return;
  }
  const t = token as Record<string, unknown>;
  if (t.type === 'anchor') out.anchors.push(t as unknown as CST.SourceToken);
  else if (t.type === 'alias') out.aliases.push(t as unknown as CST.SourceToken);
  for (const field of ['start', 'key', 'sep', 'value', 'items', 'props', 'end']) collectProps(t[field], out);
}

/** Token types that separate entries but belong to none. */
const BETWEEN = new Set(['space', 'newline', 'comma', 'comment']);

/** Where an entry's own text starts: its `?`, its key's anchor or tag, its key, or its `:` when it has no key. */
function itemStart(item: Item): number {
  for (const t of item.start) if (!BETWEEN.has(t.type)) return t.offset;
  if (item.key) return item.key.offset;
  for (const t of item.sep ?? []) if (!BETWEEN.has(t.type)) return t.offset;
  return item.value ? item.value.offset : itemEnd(item);
}

/** The anchor and tag tokens of an entry's value (between its `:` and the value). */
function valueProps(item: Item): CST.SourceToken[] {
  const sep = item.sep ?? [];
  const colon = sep.findIndex((t) => t.type === 'map-value-ind');
  return colon < 0 ? [] : sep.slice(colon + 1).filter((t) => t.type === 'anchor' || t.type === 'tag');
}

function hasProps(item: Item): boolean {
  return item.start.some((t) => t.type === 'anchor' || t.type === 'tag') || valueProps(item).length > 0;
}

/** The comment on a block scalar's header line (`key: |  # why`) and the spaces before it. */
function headerComment(token: CST.BlockScalar): string {
  const index = token.props.findIndex((t) => t.type === 'comment');
  if (index < 0) return '';
  const before = token.props[index - 1] as CST.SourceToken | undefined;
  return `${before?.type === 'space' ? before.source : ' '}${(token.props[index] as CST.SourceToken).source}`;
}

class MapPatcher {
  constructor(
    private readonly source: string,
    private readonly splices: Splice[],
    private readonly path: string,
    private readonly facts: DocumentFacts,
  ) {}

  /** Where the line holding `offset` starts (after a byte order mark on the first line). */
  private lineStart(offset: number): number {
    const start = this.source.lastIndexOf('\n', offset - 1) + 1;
    return start === 0 && this.source.charCodeAt(0) === 0xfeff && offset > 0 ? 1 : start;
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

  /** Records a splice, refusing to drop an anchor that an alias elsewhere refers to. */
  private splice(start: number, end: number, text: string): void {
    if (end > start) {
      const anchor = this.facts.aliasedAnchorIn(start, end);
      if (anchor !== null) throw new YamlEditError(`${this.path}: cannot change or remove the node anchored as &${anchor}: an alias (*${anchor}) elsewhere refers to it`);
    }
    this.splices.push({ start, end, text });
  }

  /**
   * Patches a mapping. `owner` is the item that holds this map as its value, needed when the map
   * must be rewritten whole (all keys removed).
   */
  patchMap(map: CST.BlockMap | CST.FlowCollection, patch: MergePatch, owner: Item | null): void {
    const removals: Item[] = [];
    const additions: Array<[string, PatchValue]> = [];
    const indent = map.type === 'block-map' ? map.indent : this.column(map.offset);
    for (const [key, value] of Object.entries(patch)) {
      const item = findItem(map, key);
      if (!item && this.facts.mapHasKey(map, key)) {
        throw new YamlEditError(`${this.path}: cannot edit '${key}': its key is written in a form the writer does not edit (a tagged, null or complex key)`);
      }
      if (value === null) {
        if (item) removals.push(item);
      } else if (!item) {
        // Removals under a key that is not there change nothing: no empty map is created for them.
        if (!isRemovalOnly(value)) additions.push([key, value]);
      } else {
        this.patchItem(item, key, value, map.type === 'flow-collection', indent);
      }
    }
    if (removals.length === 0 && additions.length === 0) return;
    if (map.type === 'flow-collection') this.editFlowMap(map, removals, additions);
    else this.editBlockMap(map, removals, additions, owner);
  }

  private patchItem(item: Item, key: string, value: PatchValue, inFlow: boolean, mapIndent: number): void {
    const current = item.value;
    if (Array.isArray(value) && value.length > 0 && value.every((v) => isPlainObject(v) && typeof v.name === 'string')) {
      if (!current || !isSeq(current)) throw new YamlEditError(`${this.path}: '${key}' is not a list`);
      return this.patchNamedSeq(current, key, value as MergePatch[]);
    }
    // A node that already reads as the patched data (aliases and tags resolved) keeps its bytes.
    const data = this.facts.itemData(item);
    if (data && readsAs(data.value, patchedData(data.value, value))) return;
    if (current?.type === 'alias' && (isPlainObject(value) || Array.isArray(value))) {
      throw new YamlEditError(`${this.path}: cannot edit '${key}': it is an alias (${current.source}) of a node defined elsewhere in the document`);
    }
    // Editing inside an anchored node would change every alias of it too.
    const anchor = this.facts.aliasedAnchor(valueProps(item));
    if (anchor !== null) throw new YamlEditError(`${this.path}: cannot edit '${key}': it is anchored as &${anchor} and an alias (*${anchor}) refers to it`);
    if (isPlainObject(value)) {
      if (current && isMap(current)) return this.patchMap(current, value, item);
      if (current && holdsEmbeddedYaml(current)) return this.patchEmbeddedYaml(current, key, value);
      return this.replaceValue(item, value, inFlow, mapIndent);
    }
    if (Array.isArray(value)) {
      if (current && isSeq(current) && value.every((v) => !isPlainObject(v) && !Array.isArray(v))) {
        return this.patchScalarSeq(item, current, value as readonly (Scalar | null)[], inFlow, mapIndent);
      }
      return this.replaceValue(item, value, inFlow, mapIndent);
    }
    if (current && isScalarToken(current)) {
      if (!data && sameScalar(current, value as Scalar)) return;
      if (current.type !== 'block-scalar') {
        // The value's tag and anchor go with it: `!!str foo` set to 3 reads as the number 3.
        const props = valueProps(item);
        const start = props[0] ? props[0].offset : current.offset;
        let text = formatScalar(value as Scalar, current.type);
        // An empty value right after its `:` (`{app:, team: a}`) needs a space before the new one.
        if (start === current.offset && current.source === '' && !/\s/.test(this.source[start - 1] ?? ' ')) text = ` ${text}`;
        this.splice(start, current.offset + current.source.length, text);
        return;
      }
      // A literal block (`values: |`) given a new multi-line text stays a literal block with its indentation.
      if (typeof value === 'string' && this.replaceLiteralBlock(current, value)) return;
    }
    this.replaceValue(item, value, inFlow, mapIndent);
  }

  private patchNamedSeq(seq: CST.BlockSequence | CST.FlowCollection, key: string, elements: readonly MergePatch[]): void {
    for (const element of elements) {
      const entry = seq.items.find((it) => it.value && isMap(it.value) && scalarText(findItem(it.value, 'name')?.value ?? it.value) === element.name);
      if (!entry?.value || !isMap(entry.value)) throw new YamlEditError(`${this.path}: no element named '${String(element.name)}' in '${key}'`);
      const anchor = this.facts.aliasedAnchor(entry.start);
      if (anchor !== null) throw new YamlEditError(`${this.path}: cannot edit '${String(element.name)}' in '${key}': it is anchored as &${anchor} and an alias (*${anchor}) refers to it`);
      this.patchMap(entry.value, element, null);
    }
  }

  /** What a list entry reads as, as the text patch values are compared with (null for null and non-scalars). */
  private entryText(entry: CST.BlockSequence['items'][number] | Item): string | null {
    if (!entry.value) return null;
    const data = this.facts.tokenData(entry.value);
    if (!data) return scalarText(entry.value);
    const v = data.value;
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
  }

  /** A list of scalars becomes `desired`: kept entries stay byte for byte, new ones go at the end. */
  private patchScalarSeq(item: Item, seq: CST.BlockSequence | CST.FlowCollection, desired: readonly (Scalar | null)[], inFlow: boolean, mapIndent: number): void {
    const wanted = desired.filter((v): v is Scalar => v !== null);
    const entries = contentItems(seq.items).map((entry) => ({ entry, text: this.entryText(entry) }));
    const existing = new Set(entries.map((e) => e.text));
    const removed = entries.filter((e) => e.text === null || !wanted.some((w) => String(w) === e.text));
    const added: Scalar[] = [];
    for (const w of wanted) {
      if (existing.has(String(w))) continue;
      existing.add(String(w));
      added.push(w);
    }
    if (removed.length === 0 && added.length === 0) return;
    if (removed.length === entries.length && added.length === 0) return this.replaceValue(item, [], inFlow, mapIndent);
    if (seq.type === 'flow-collection') return this.editFlowItems(seq, removed.map((r) => r.entry as Item), added.map((v) => formatScalar(v)));
    for (const { entry } of removed) {
      const indicator = entry.start.find((t) => t.type === 'seq-item-ind');
      const start = this.lineStart(indicator ? indicator.offset : itemEnd(entry));
      if (indicator && this.source.slice(start, indicator.offset).trim() !== '') {
        throw new YamlEditError(`${this.path}: cannot remove an entry of a list that starts on the line of other syntax (\`: - a\`, \`- - a\`)`);
      }
      this.splice(start, this.lineEnd(itemEnd(entry)), '');
    }
    if (added.length > 0) {
      const first = contentItems(seq.items)[0]?.start.find((t) => t.type === 'seq-item-ind');
      const pad = ' '.repeat(first ? this.column(first.offset) : this.column(seq.offset));
      const at = this.lineEnd(contentEnd(seq));
      const prefix = this.source[at - 1] === '\n' || at === 0 ? '' : '\n';
      this.splice(at, at, prefix + added.map((v) => `${pad}- ${formatScalar(v)}\n`).join(''));
    }
  }

  /**
   * Removes and appends entries of a flow collection one by one, so kept entries, their quoting
   * and comments stay as they are.
   */
  private editFlowItems(collection: CST.FlowCollection, removals: readonly Item[], additions: readonly string[]): void {
    const items = contentItems(collection.items) as Item[];
    const kept = items.filter((item) => !removals.includes(item));
    if (kept.length === 0) {
      this.splice(collection.start.offset + 1, collection.end[0]!.offset, additions.join(', '));
      return;
    }
    // Leading removed entries go up to the first kept one; later ones take the separator before them.
    const firstKept = items.indexOf(kept[0]!);
    if (firstKept > 0) this.splice(itemStart(items[0]!), itemStart(kept[0]!), '');
    for (const [index, item] of items.entries()) {
      if (index <= firstKept || !removals.includes(item)) continue;
      this.splice(itemEnd(items[index - 1]!), itemEnd(item), '');
    }
    if (additions.length === 0) return;
    const at = itemEnd(kept[kept.length - 1]!);
    this.splice(at, at, `, ${additions.join(', ')}`);
  }

  /** Rewrites the text of a `|` or `|-` block in place when `value` reads back the same from it; false otherwise. */
  private replaceLiteralBlock(token: CST.BlockScalar, value: string): boolean {
    const headerToken = token.props.find((p) => p.type === 'block-scalar-header');
    const header = headerToken && 'source' in headerToken ? String(headerToken.source) : '';
    if ((header !== '|' && header !== '|-') || value.includes('\r') || /^[ \t]/.test(value)) return false;
    if (header === '|' ? !/[^\n]\n$/.test(value) : value.endsWith('\n') || value === '') return false;
    const start = blockScalarContentStart(token);
    const firstLine = token.source.split('\n').find((line) => line.trim() !== '') ?? '';
    const indent = firstLine.slice(0, firstLine.length - firstLine.trimStart().length);
    if (indent === '') return false;
    const trailing = (/(?:\r?\n)*$/.exec(token.source)?.[0] ?? '').replace(/\r/g, '');
    const body = value
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => (line === '' ? '' : indent + line))
      .join('\n');
    this.splice(start, start + token.source.length, body + trailing);
    return true;
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
      const trailing = (/(?:\r?\n)*$/.exec(token.source)?.[0] ?? '').replace(/\r/g, '');
      const body = edited
        .replace(/\n+$/, '')
        .split('\n')
        .map((line) => (line === '' ? '' : indent + line))
        .join('\n');
      this.splice(start, start + token.source.length, body + trailing);
      return;
    }
    this.splice(token.offset, token.offset + token.source.length, JSON.stringify(edited));
  }

  /**
   * Rewrites an item's value wholesale (missing value, scalar → map, list of scalars), with the
   * value's tag and anchor (they belonged to the old value) but keeping a block scalar's header comment.
   */
  private replaceValue(item: Item, value: PatchValue, inFlowContainer: boolean, mapIndent: number): void {
    const keyToken = item.key!;
    const inFlow = inFlowContainer || item.value?.type === 'flow-collection';
    const colon = item.sep?.find((t) => t.type === 'map-value-ind');
    if (!colon) throw new YamlEditError(`${this.path}: cannot set '${scalarText(keyToken) ?? ''}': its entry has no ':' to write a value after (an explicit '?' key or a flow entry without a value)`);
    const start = colon.offset + 1;
    const props = valueProps(item);
    const last = props[props.length - 1];
    const propsEnd = last ? last.offset + last.source.length : start;
    const comment = item.value?.type === 'block-scalar' ? headerComment(item.value) : '';
    const blockList = Array.isArray(value) && value.some((v) => isPlainObject(v) && blockEntries(v).length > 0);
    if (!inFlow && ((isPlainObject(value) && blockEntries(value).length > 0) || blockList)) {
      // A list keeps the indentation of the one it replaces (`- ` under the key, or indented).
      const listIndent = item.value?.type === 'block-seq' ? item.value.indent : mapIndent + 2;
      const block = blockList ? renderBlockSeq(value as readonly PatchValue[], listIndent) : renderBlockMap(value as MergePatch, mapIndent + 2);
      if (!item.value) {
        // `labels: # note` keeps its comment; the mapping goes on the lines below.
        if (last) this.splice(start, propsEnd, '');
        const at = this.lineEnd(start);
        this.splice(at, at, `${this.source[at - 1] === '\n' || at === 0 ? '' : '\n'}${block}`);
        return;
      }
      this.splice(start, this.lineEnd(contentEnd(item.value)), `${comment.trimEnd() === '' ? '' : ` ${comment.trim()}`}\n${block}`);
      return;
    }
    const end = item.value ? contentEnd(item.value) : propsEnd;
    // A block scalar owns the line break after it; the flow value that replaces it does not.
    const newline = item.value?.type === 'block-scalar' && this.source[end - 1] === '\n' ? '\n' : '';
    this.splice(start, end, ` ${renderFlow(value)}${comment}${newline}`);
  }

  private editBlockMap(map: CST.BlockMap, removals: Item[], additions: Array<[string, PatchValue]>, owner: Item | null): void {
    const pending = [...additions];
    // Replacing a removed key in place (`istio-injection: enabled` → `istio.io/rev: x`) keeps the
    // diff to one line and keeps the line's comment.
    const remaining: Item[] = [];
    for (const item of removals) {
      const next = pending[0];
      const value = item.value;
      const key = item.key;
      if (
        next &&
        !isPlainObject(next[1]) &&
        !Array.isArray(next[1]) &&
        value &&
        isScalarToken(value) &&
        value.type !== 'block-scalar' &&
        key &&
        isScalarToken(key) &&
        key.type !== 'block-scalar' &&
        !('explicitKey' in item && item.explicitKey) &&
        !hasProps(item)
      ) {
        pending.shift();
        this.splice(key.offset, key.offset + key.source.length, formatKey(next[0]));
        this.splice(value.offset, value.offset + value.source.length, formatScalar(next[1] as Scalar, value.type));
      } else {
        remaining.push(item);
      }
    }
    if (remaining.length === contentItems(map.items).length && pending.length === 0) {
      // Every key goes: keep the parent key with an empty mapping rather than a null.
      if (!owner) throw new YamlEditError(`${this.path}: refusing to empty a whole document`);
      const colon = owner.sep!.find((t) => t.type === 'map-value-ind')!;
      this.splice(colon.offset + 1, this.lineEnd(contentEnd(map)), ' {}\n');
      return;
    }
    for (const item of remaining) {
      const first = itemStart(item);
      const start = this.lineStart(first);
      if (this.source.slice(start, first).trim() !== '') {
        throw new YamlEditError(`${this.path}: cannot remove '${scalarText(item.key!)}' (it shares a line with other syntax)`);
      }
      this.splice(start, this.lineEnd(itemEnd(item)), '');
    }
    if (pending.length > 0) {
      // New keys go at the column of the map's entries (not of the first key's text, which an
      // anchor, a tag or a `?` may push right).
      const at = this.lineEnd(contentEnd(map));
      const prefix = this.source[at - 1] === '\n' || at === 0 ? '' : '\n';
      const text = pending.map(([key, value]) => renderEntry(key, value, map.indent)).join('');
      this.splice(at, at, prefix + text);
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

/** The entries a new map is written with: nulls and removal-only maps change nothing, so they are left out. */
function blockEntries(value: MergePatch): Array<[string, PatchValue]> {
  return Object.entries(value).filter(([, v]) => v !== null && !isRemovalOnly(v));
}

function renderEntry(key: string, value: PatchValue, column: number): string {
  const pad = ' '.repeat(column);
  if (isPlainObject(value) && blockEntries(value).length > 0) return `${pad}${formatKey(key)}:\n${renderBlockMap(value, column + 2)}`;
  // A list of maps reads best as a block sequence, as people write Kubernetes lists.
  if (Array.isArray(value) && value.some((v) => isPlainObject(v) && blockEntries(v).length > 0)) return `${pad}${formatKey(key)}:\n${renderBlockSeq(value, column + 2)}`;
  return `${pad}${formatKey(key)}: ${renderFlow(value)}\n`;
}

/** `- first: entry` with the item's other entries aligned under its first key. */
function renderBlockSeq(items: readonly PatchValue[], column: number): string {
  const pad = ' '.repeat(column);
  return items
    .map((item) => (isPlainObject(item) && blockEntries(item).length > 0 ? `${pad}- ${renderBlockMap(item, column + 2).slice(column + 2)}` : `${pad}- ${renderFlow(item)}\n`))
    .join('');
}

function renderBlockMap(value: MergePatch, column: number): string {
  return blockEntries(value)
    .map(([k, v]) => renderEntry(k, v, column))
    .join('');
}

function renderFlow(value: PatchValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(renderFlow).join(', ')}]`;
  if (isPlainObject(value)) return `{${blockEntries(value).map(([k, v]) => `${formatKey(k)}: ${renderFlow(v)}`).join(', ')}}`;
  return formatScalar(value as Scalar);
}
