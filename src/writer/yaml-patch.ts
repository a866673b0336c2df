import { Composer, type CST, type Document, Parser, parseAllDocuments } from 'yaml';
import type { MergePatch } from '../model/merge-patch.js';
import { type FastEdit, fastPathSplices, isFastPatch } from './block-fast-path.js';
import { applySplices, findItem, type Item, isMap, type Splice, scalarText, type Token } from './cst.js';
import { DocumentFacts } from './document-facts.js';
import { YamlEditError } from './errors.js';
import { MapPatcher } from './map-patcher.js';
import { patchedData, readsAs } from './patch-data.js';

/** What a document is, read from its CST: enough to match it against an object reference. */
interface DocumentIdentity {
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

interface EditOptions {
  /** Try the line-based fast path first (same result; tests turn it off to check the CST path). @default true */
  readonly fastPath?: boolean;
}

interface EditResult {
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
      new MapPatcher(source, splices, path, new DocumentFacts(document, composed?.[index]), patchYamlMappingText).patchMap(
        root,
        edit.patch,
        null,
      );
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
  new MapPatcher(source, splices, path, new DocumentFacts(document, composed?.[0]), patchYamlMappingText).patchMap(
    document.value,
    patch,
    null,
  );
  const text = applySplices(source, splices);
  if (splices.length > 0)
    verifyEdited(
      path,
      composed,
      documents.map((_, i) => ({ removed: false, patches: i === 0 ? [patch] : [] })),
      text,
    );
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
    wanted = before.flatMap((doc, i) =>
      expected[i]!.removed ? [] : [expected[i]!.patches.reduce<unknown>((data, patch) => patchedData(data, patch), doc.toJS())],
    );
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
    throw new YamlEditError(
      `${path}: refusing the edit: the result would not be valid YAML (${cause instanceof Error ? cause.message : String(cause)})`,
    );
  }
  if (!ok)
    throw new YamlEditError(
      `${path}: refusing the edit: the result would not read as the patched data (the YAML there is beyond what the writer edits safely)`,
    );
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
