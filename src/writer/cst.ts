import { CST } from 'yaml';

/** Helpers over the `yaml` library's concrete syntax tree: token kinds, item bounds, splices. */

export interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export type Token = CST.Token;
export type Item = CST.BlockMap['items'][number] | CST.FlowCollection['items'][number];

export function applySplices(source: string, splices: Splice[]): string {
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

export function isMap(token: Token): token is CST.BlockMap | CST.FlowCollection {
  return token.type === 'block-map' || (token.type === 'flow-collection' && token.start.source === '{');
}

export function isSeq(token: Token): token is CST.BlockSequence | CST.FlowCollection {
  return token.type === 'block-seq' || (token.type === 'flow-collection' && token.start.source === '[');
}

export function isScalarToken(token: Token): token is CST.FlowScalar | CST.BlockScalar {
  return (
    token.type === 'scalar' ||
    token.type === 'single-quoted-scalar' ||
    token.type === 'double-quoted-scalar' ||
    token.type === 'block-scalar'
  );
}

export function scalarText(token: Token): string | null {
  if (!isScalarToken(token)) return null;
  return CST.resolveAsScalar(token)?.value ?? null;
}

export function findItem(map: CST.BlockMap | CST.FlowCollection, key: string): Item | undefined {
  return map.items.find((item) => item.key && scalarText(item.key) === key);
}

/** Where a node's own text ends (trailing comments and newlines excluded). */
export function contentEnd(token: Token): number {
  switch (token.type) {
    case 'block-scalar':
      return blockScalarContentStart(token) + token.source.length;
    case 'block-map':
    case 'block-seq': {
      const last = contentItems<Item | CST.BlockSequence['items'][number]>(
        token.items as Array<Item | CST.BlockSequence['items'][number]>,
      ).pop();
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

export function itemEnd(item: Item | CST.BlockSequence['items'][number]): number {
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
export function contentItems<
  T extends { start: readonly CST.SourceToken[]; key?: unknown; sep?: readonly CST.SourceToken[]; value?: unknown },
>(items: readonly T[]): T[] {
  return items.filter(
    (item) =>
      Boolean(item.key) ||
      Boolean(item.value) ||
      item.start.some((t) => t.type === 'seq-item-ind' || t.type === 'explicit-key-ind' || t.type === 'anchor' || t.type === 'tag') ||
      (item.sep ?? []).some((t) => t.type === 'map-value-ind'),
  );
}

export function blockScalarContentStart(token: CST.BlockScalar): number {
  const last = token.props[token.props.length - 1] as CST.SourceToken | undefined;
  return last ? last.offset + last.source.length : token.offset;
}

export function collectProps(token: unknown, out: { anchors: CST.SourceToken[]; aliases: CST.SourceToken[] }): void {
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
export function itemStart(item: Item): number {
  for (const t of item.start) if (!BETWEEN.has(t.type)) return t.offset;
  if (item.key) return item.key.offset;
  for (const t of item.sep ?? []) if (!BETWEEN.has(t.type)) return t.offset;
  return item.value ? item.value.offset : itemEnd(item);
}

/** The anchor and tag tokens of an entry's value (between its `:` and the value). */
export function valueProps(item: Item): CST.SourceToken[] {
  const sep = item.sep ?? [];
  const colon = sep.findIndex((t) => t.type === 'map-value-ind');
  return colon < 0 ? [] : sep.slice(colon + 1).filter((t) => t.type === 'anchor' || t.type === 'tag');
}

export function hasProps(item: Item): boolean {
  return item.start.some((t) => t.type === 'anchor' || t.type === 'tag') || valueProps(item).length > 0;
}

/** The comment on a block scalar's header line (`key: |  # why`) and the spaces before it. */
export function headerComment(token: CST.BlockScalar): string {
  const index = token.props.findIndex((t) => t.type === 'comment');
  if (index < 0) return '';
  const before = token.props[index - 1] as CST.SourceToken | undefined;
  return `${before?.type === 'space' ? before.source : ' '}${(token.props[index] as CST.SourceToken).source}`;
}
