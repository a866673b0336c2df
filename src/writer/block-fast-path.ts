import type { Scalar } from '../model/scalar.js';
import type { Splice } from './cst.js';
import { isRemovalOnly } from './patch-data.js';
import { formatKey, formatScalar, plainScalarValue, sameScalarValue } from './yaml-scalar.js';

/**
 * A fast path for the edits that dominate large upgrades (a restart annotation on every workload,
 * labels on every namespace): it finds block-style mappings by indentation, line by line, instead
 * of building the full CST. It produces the same splices as the CST writer and declines (returns
 * null) whenever the text leaves the plain block-style subset it understands — flow collections
 * or block scalars on the edited path, anchors, tags, complex keys, tabs, directives, CRLF line
 * ends, a byte order mark, lines that may belong to a multi-line scalar where it would insert — so
 * the CST writer handles everything else.
 */

export interface FastEdit {
  readonly documentIndex: number;
  readonly kind: string | null;
  readonly name: string | null;
  readonly patch: FastPatch;
}

interface FastPatch {
  readonly [key: string]: Scalar | null | FastPatch;
}

interface Line {
  readonly start: number;
  /** Offset of the newline (or the end of the text). */
  readonly end: number;
  readonly indent: number;
  /** Blank or comment-only: not part of the structure. */
  readonly blank: boolean;
}

interface Entry {
  readonly line: number;
  readonly keyStart: number;
  readonly keyEnd: number;
  /** Where the inline value starts (after `: `), or -1 when the value is on the next lines. */
  readonly valueStart: number;
  /** Last structural line of the entry (its value's last line). */
  readonly lastLine: number;
}

class Declined extends Error {}

/** Splices for every edit, or null when any edit needs the full CST writer. */
export function fastPathSplices(source: string, edits: readonly FastEdit[]): { splices: Splice[]; changed: Set<number> } | null {
  if (source.charCodeAt(0) === 0xfeff || source.includes('\t') || source.includes('\r') || /^(%|\.\.\.)/m.test(source)) return null;
  try {
    const lines = splitLines(source);
    const documents = splitDocuments(source, lines);
    const splices: Splice[] = [];
    const changed = new Set<number>();
    for (const [i, edit] of edits.entries()) {
      const document = findDocument(source, lines, documents, edit);
      if (!document) return null;
      const before = splices.length;
      new BlockEditor(source, lines, splices).patchMap(document.first, document.last, -1, edit.patch);
      if (splices.length > before) changed.add(i);
    }
    return { splices, changed };
  } catch (error) {
    if (error instanceof Declined) return null;
    throw error;
  }
}

function splitLines(source: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= source.length) {
    let end = source.indexOf('\n', start);
    if (end < 0) end = source.length;
    let indent = 0;
    while (source.charCodeAt(start + indent) === 32) indent++;
    const first = source[start + indent];
    lines.push({ start, end, indent, blank: start + indent >= end || first === '#' });
    if (end === source.length) break;
    start = end + 1;
  }
  return lines;
}

interface DocumentLines {
  readonly index: number;
  readonly first: number;
  readonly last: number;
}

/** Documents as line ranges; `---` alone on a line separates them (an empty leading part is no document). */
function splitDocuments(source: string, lines: readonly Line[]): DocumentLines[] {
  const documents: DocumentLines[] = [];
  let first = 0;
  let explicit = false;
  const close = (last: number) => {
    const hasContent = lines.slice(first, last + 1).some((l) => !l.blank);
    if (explicit || hasContent) documents.push({ index: documents.length, first, last });
  };
  lines.forEach((line, i) => {
    if (!source.startsWith('---', line.start)) return;
    const rest = source.slice(line.start + 3, line.end).trim();
    if (rest !== '' && !rest.startsWith('#')) throw new Declined();
    close(i - 1);
    first = i + 1;
    explicit = true;
  });
  close(lines.length - 1);
  return documents;
}

function findDocument(source: string, lines: readonly Line[], documents: readonly DocumentLines[], edit: FastEdit): DocumentLines | null {
  const matches = (document: DocumentLines) => {
    const reader = new BlockEditor(source, lines, []);
    const kind = reader.scalarAt(document.first, document.last, ['kind']);
    const name = reader.scalarAt(document.first, document.last, ['metadata', 'name']);
    return kind === edit.kind && name === edit.name;
  };
  const hinted = documents[edit.documentIndex];
  if (hinted && matches(hinted)) return hinted;
  return documents.find(matches) ?? null;
}

class BlockEditor {
  constructor(
    private readonly source: string,
    private readonly lines: readonly Line[],
    private readonly splices: Splice[],
  ) {}

  /** The plain or quoted scalar at a path, or null. */
  scalarAt(first: number, last: number, path: readonly string[]): string | null {
    let range = { first, last, indent: -1 };
    for (const [i, key] of path.entries()) {
      const entries = this.entries(range.first, range.last, range.indent);
      const entry = entries.find((e) => this.keyText(e) === key);
      if (!entry) return null;
      if (i === path.length - 1) return entry.valueStart < 0 ? null : this.scalarValue(entry).value;
      if (entry.valueStart >= 0) return null;
      const child = this.childRange(entry);
      if (!child) return null;
      range = child;
    }
    return null;
  }

  /** Entries of the block mapping whose keys sit on the first structural line of the range. */
  private entries(first: number, last: number, parentIndent: number): Entry[] {
    let i = first;
    while (i <= last && this.lines[i]!.blank) i++;
    if (i > last) return [];
    const indent = this.lines[i]!.indent;
    if (indent <= parentIndent) return [];
    const entries: Entry[] = [];
    while (i <= last) {
      const line = this.lines[i]!;
      if (line.blank || line.indent > indent) {
        i++;
        continue;
      }
      if (line.indent < indent) break;
      const keyStart = line.start + indent;
      const char = this.source[keyStart];
      // Sequences, explicit, null (`: v`), flow, anchored, aliased, tagged and block-scalar keys are the CST writer's.
      if ('-?:{[&*!|>'.includes(char ?? '')) throw new Declined();
      const colon = this.keyColon(keyStart, line.end);
      if (colon < 0) throw new Declined();
      let valueStart = colon + 1;
      while (this.source[valueStart] === ' ') valueStart++;
      const inline = valueStart < line.end && this.source[valueStart] !== '#';
      // A kept block scalar (`|+`) owns the blank lines after it: leave such files to the CST writer.
      if (inline && /^[|>][-+0-9]*\+/.test(this.source.slice(valueStart, line.end))) throw new Declined();
      let lastLine = i;
      let j = i + 1;
      for (; j <= last; j++) {
        const next = this.lines[j]!;
        if (next.blank) continue;
        // A sequence may sit at its key's own indentation (`containers:` then `- name: …`).
        const sequenceItem = next.indent === indent && !inline && this.source[next.start + indent] === '-';
        if (next.indent < indent || (next.indent === indent && !sequenceItem)) break;
        lastLine = j;
      }
      entries.push({ line: i, keyStart, keyEnd: this.trimEnd(keyStart, colon), valueStart: inline ? valueStart : -1, lastLine });
      i = lastLine + 1;
    }
    return entries;
  }

  /** The `:` that ends a plain or quoted key on this line, or -1. */
  private keyColon(keyStart: number, lineEnd: number): number {
    const quote = this.source[keyStart];
    let i = keyStart;
    if (quote === '"' || quote === "'") {
      i = this.closingQuote(keyStart, lineEnd) + 1;
      return this.source[i] === ':' ? i : -1;
    }
    for (; i < lineEnd; i++) {
      if (this.source[i] === ':' && (i + 1 === lineEnd || this.source[i + 1] === ' ' || this.source[i + 1] === '\r')) return i;
      if (this.source[i] === '#' && this.source[i - 1] === ' ') return -1;
    }
    return -1;
  }

  private closingQuote(open: number, lineEnd: number): number {
    const quote = this.source[open];
    for (let i = open + 1; i < lineEnd; i++) {
      if (quote === '"' && this.source[i] === '\\') {
        i++;
        continue;
      }
      if (this.source[i] === quote) {
        if (quote === "'" && this.source[i + 1] === "'") {
          i++;
          continue;
        }
        return i;
      }
    }
    throw new Declined();
  }

  private trimEnd(start: number, end: number): number {
    while (end > start && this.source[end - 1] === ' ') end--;
    return end;
  }

  private keyText(entry: Entry): string {
    return unquote(this.source.slice(entry.keyStart, entry.keyEnd));
  }

  /** An inline scalar value: its text range, style and value. Declines anything else. */
  private scalarValue(entry: Entry): { start: number; end: number; style: string; value: string } {
    const line = this.lines[entry.line]!;
    const start = entry.valueStart;
    const char = this.source[start];
    if (char === '"' || char === "'") {
      const close = this.closingQuote(start, line.end);
      const after = this.source.slice(close + 1, line.end).trim();
      if (after !== '' && !after.startsWith('#')) throw new Declined();
      if (entry.lastLine !== entry.line) throw new Declined();
      const text = this.source.slice(start, close + 1);
      return { start, end: close + 1, style: char === '"' ? 'double-quoted-scalar' : 'single-quoted-scalar', value: unquote(text) };
    }
    if ('{[|>&*!%@`'.includes(char ?? '')) throw new Declined();
    if (entry.lastLine !== entry.line) throw new Declined();
    const comment = this.source.indexOf(' #', start);
    const end = this.trimEnd(start, comment >= 0 && comment < line.end ? comment : line.end);
    return { start, end, style: 'scalar', value: this.source.slice(start, end) };
  }

  /** The lines of a nested block mapping held by an entry. */
  private childRange(entry: Entry): { first: number; last: number; indent: number } | null {
    if (entry.lastLine === entry.line) return null;
    const indent = this.lines[entry.line]!.indent;
    return { first: entry.line + 1, last: entry.lastLine, indent };
  }

  private lineEndWithNewline(line: number): number {
    const end = this.lines[line]!.end;
    return end < this.source.length ? end + 1 : end;
  }

  /**
   * New entries go right after the last line of the map's last entry, as the CST writer puts them.
   * The comment and whitespace-only lines skipped to find that line may instead be the end of a
   * block scalar or of a multi-line quoted scalar (`# x` and `      ` are content there): when one
   * of them is indented past the map's keys, leave the edit to the CST writer, which knows.
   */
  private checkInsertionPoint(lastLine: number, indent: number): void {
    for (let i = lastLine + 1; i < this.lines.length && this.lines[i]!.blank; i++) {
      const line = this.lines[i]!;
      if (line.end > line.start && line.indent > indent) throw new Declined();
    }
  }

  patchMap(first: number, last: number, parentIndent: number, patch: FastPatch): void {
    const entries = this.entries(first, last, parentIndent);
    if (entries.length === 0) throw new Declined();
    const indent = this.lines[entries[0]!.line]!.indent;
    const removals: Entry[] = [];
    const additions: Array<[string, Scalar | FastPatch]> = [];
    for (const [key, value] of Object.entries(patch)) {
      const entry = entries.find((e) => this.keyText(e) === key);
      if (value === null) {
        if (entry) removals.push(entry);
      } else if (!entry) {
        // Removals under a key that is not there change nothing: no empty map is created for them.
        if (!isRemovalOnly(value)) additions.push([key, value]);
      } else if (typeof value === 'object') {
        if (entry.valueStart >= 0) throw new Declined();
        const child = this.childRange(entry);
        if (!child) throw new Declined();
        this.patchMap(child.first, child.last, child.indent, value);
      } else {
        if (entry.valueStart < 0) throw new Declined();
        const scalar = this.scalarValue(entry);
        if (sameScalar(scalar, value)) continue;
        this.splices.push({ start: scalar.start, end: scalar.end, text: formatScalar(value, scalar.style) });
      }
    }
    const pending = [...additions];
    for (const entry of removals) {
      const next = pending[0];
      if (entry.valueStart < 0 || entry.lastLine !== entry.line) throw new Declined();
      const scalar = this.scalarValue(entry);
      if (next && typeof next[1] !== 'object') {
        // Same as the CST writer: a removed key replaced by an added one keeps its line.
        pending.shift();
        this.splices.push({ start: entry.keyStart, end: entry.keyEnd, text: formatKey(next[0]) });
        this.splices.push({ start: scalar.start, end: scalar.end, text: formatScalar(next[1] as Scalar, scalar.style) });
      } else {
        if (removals.length === entries.length && pending.length === 0) throw new Declined();
        this.splices.push({ start: this.lines[entry.line]!.start, end: this.lineEndWithNewline(entry.line), text: '' });
      }
    }
    if (pending.length > 0) {
      const lastEntry = entries[entries.length - 1]!;
      this.checkInsertionPoint(lastEntry.lastLine, indent);
      const at = this.lineEndWithNewline(lastEntry.lastLine);
      const prefix = at > 0 && this.source[at - 1] !== '\n' ? '\n' : '';
      this.splices.push({ start: at, end: at, text: prefix + pending.map(([key, value]) => renderEntry(key, value, indent)).join('') });
    }
  }
}

function renderEntry(key: string, value: Scalar | FastPatch, column: number): string {
  const pad = ' '.repeat(column);
  if (typeof value !== 'object') return `${pad}${formatKey(key)}: ${formatScalar(value)}\n`;
  const children = Object.entries(value).filter(([, v]) => v !== null && !isRemovalOnly(v)) as Array<[string, Scalar | FastPatch]>;
  if (children.length === 0) return `${pad}${formatKey(key)}: {}\n`;
  return `${pad}${formatKey(key)}:\n${children.map(([k, v]) => renderEntry(k, v, column + 2)).join('')}`;
}

/** Same type and same value (a quoted "true" is not the boolean true), as the CST writer decides. */
function sameScalar(scalar: { style: string; value: string }, value: Scalar): boolean {
  return sameScalarValue(scalar.style === 'scalar' ? plainScalarValue(scalar.value) : scalar.value, value);
}

function unquote(text: string): string {
  if (text.startsWith("'") && text.endsWith("'") && text.length >= 2) return text.slice(1, -1).replace(/''/g, "'");
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) {
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new Declined();
    }
  }
  return text;
}

/** True when a patch only sets or removes scalars in nested mappings (what the fast path edits). */
export function isFastPatch(patch: unknown): patch is FastPatch {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return false;
  return Object.values(patch).every(
    (v) => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || isFastPatch(v),
  );
}
