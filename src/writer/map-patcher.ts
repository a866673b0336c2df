import type { CST } from 'yaml';
import type { MergePatch, PatchValue } from '../model/merge-patch.js';
import type { Scalar } from '../model/scalar.js';
import type { Splice } from './cst.js';
import {
  blockScalarContentStart,
  contentEnd,
  contentItems,
  findItem,
  hasProps,
  headerComment,
  type Item,
  isMap,
  isScalarToken,
  isSeq,
  itemEnd,
  itemStart,
  scalarText,
  valueProps,
} from './cst.js';
import type { DocumentFacts } from './document-facts.js';
import { YamlEditError } from './errors.js';
import { isRemovalOnly, patchedData, readsAs } from './patch-data.js';
import {
  blockEntries,
  holdsEmbeddedYaml,
  isPlainObject,
  renderBlockMap,
  renderBlockSeq,
  renderEntry,
  renderFlow,
  sameScalar,
} from './render-yaml.js';
import { formatKey, formatScalar } from './yaml-scalar.js';

export class MapPatcher {
  constructor(
    private readonly source: string,
    private readonly splices: Splice[],
    private readonly path: string,
    private readonly facts: DocumentFacts,
    /** Edits YAML held in a string value (Helm `values: |`): the whole writer again, one level down. */
    private readonly patchEmbedded: (path: string, source: string, patch: MergePatch) => string,
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
      if (anchor !== null)
        throw new YamlEditError(
          `${this.path}: cannot change or remove the node anchored as &${anchor}: an alias (*${anchor}) elsewhere refers to it`,
        );
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
        throw new YamlEditError(
          `${this.path}: cannot edit '${key}': its key is written in a form the writer does not edit (a tagged, null or complex key)`,
        );
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
      throw new YamlEditError(
        `${this.path}: cannot edit '${key}': it is an alias (${current.source}) of a node defined elsewhere in the document`,
      );
    }
    // Editing inside an anchored node would change every alias of it too.
    const anchor = this.facts.aliasedAnchor(valueProps(item));
    if (anchor !== null)
      throw new YamlEditError(`${this.path}: cannot edit '${key}': it is anchored as &${anchor} and an alias (*${anchor}) refers to it`);
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
      const entry = seq.items.find(
        (it) => it.value && isMap(it.value) && scalarText(findItem(it.value, 'name')?.value ?? it.value) === element.name,
      );
      if (!entry?.value || !isMap(entry.value))
        throw new YamlEditError(`${this.path}: no element named '${String(element.name)}' in '${key}'`);
      const anchor = this.facts.aliasedAnchor(entry.start);
      if (anchor !== null)
        throw new YamlEditError(
          `${this.path}: cannot edit '${String(element.name)}' in '${key}': it is anchored as &${anchor} and an alias (*${anchor}) refers to it`,
        );
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
  private patchScalarSeq(
    item: Item,
    seq: CST.BlockSequence | CST.FlowCollection,
    desired: readonly (Scalar | null)[],
    inFlow: boolean,
    mapIndent: number,
  ): void {
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
    if (seq.type === 'flow-collection')
      return this.editFlowItems(
        seq,
        removed.map((r) => r.entry as Item),
        added.map((v) => formatScalar(v)),
      );
    for (const { entry } of removed) {
      const indicator = entry.start.find((t) => t.type === 'seq-item-ind');
      const start = this.lineStart(indicator ? indicator.offset : itemEnd(entry));
      if (indicator && this.source.slice(start, indicator.offset).trim() !== '') {
        throw new YamlEditError(
          `${this.path}: cannot remove an entry of a list that starts on the line of other syntax (\`: - a\`, \`- - a\`)`,
        );
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
    const edited = this.patchEmbedded(`${this.path} (${key})`, inner, patch);
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
    if (!colon)
      throw new YamlEditError(
        `${this.path}: cannot set '${scalarText(keyToken) ?? ''}': its entry has no ':' to write a value after (an explicit '?' key or a flow entry without a value)`,
      );
    const start = colon.offset + 1;
    const props = valueProps(item);
    const last = props[props.length - 1];
    const propsEnd = last ? last.offset + last.source.length : start;
    const comment = item.value?.type === 'block-scalar' ? headerComment(item.value) : '';
    const blockList = Array.isArray(value) && value.some((v) => isPlainObject(v) && blockEntries(v).length > 0);
    if (!inFlow && ((isPlainObject(value) && blockEntries(value).length > 0) || blockList)) {
      // A list keeps the indentation of the one it replaces (`- ` under the key, or indented).
      const listIndent = item.value?.type === 'block-seq' ? item.value.indent : mapIndent + 2;
      const block = blockList
        ? renderBlockSeq(value as readonly PatchValue[], listIndent)
        : renderBlockMap(value as MergePatch, mapIndent + 2);
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
    this.editFlowItems(
      map,
      removals,
      additions.map(([key, value]) => `${formatKey(key)}: ${renderFlow(value)}`),
    );
  }
}
