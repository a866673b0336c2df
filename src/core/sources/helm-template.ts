import { stringify } from 'yaml';

/**
 * A minimal evaluator of the Go-template subset app-of-apps charts use for their Argo CD
 * Applications and Namespaces: `{{ .Values.a.b }}`, `$.Values…`, `$v.field`, `.field` in a range,
 * the functions `quote`, `squote`, `default`, `toYaml`, `toJson`, `nindent`, `indent`, and
 * `if`/`else`/`with`/`range` blocks. Every printed value that comes straight from the values
 * remembers its path there (and where in the output it went), so a field of a rendered object can
 * be traced back to the values file that sets it. Anything else is refused with the line it is
 * on: the template is then left unread, never guessed at.
 */

export type ValuesPath = ReadonlyArray<string | number>;

/** Where a stretch of output came from: a value (scalar or whole subtree) at a values path. */
export interface Substitution {
  readonly start: number;
  readonly end: number;
  readonly path: ValuesPath;
  /** The text printed there (after quote/indent). */
  readonly text: string;
}

/** One iteration of a `range` over values: the output it produced and the element it read. */
export interface Iteration {
  readonly start: number;
  readonly end: number;
  /** Path of the list or map ranged over. */
  readonly over: ValuesPath;
  readonly key: string | number;
}

/** The output of an `{{ if .Values… }}` block whose condition held, and the value it tested. */
export interface Guard {
  readonly start: number;
  readonly end: number;
  readonly path: ValuesPath;
}

type RenderResult =
  | {
      readonly ok: true;
      readonly output: string;
      readonly substitutions: readonly Substitution[];
      readonly iterations: readonly Iteration[];
      readonly guards: readonly Guard[];
    }
  | { readonly ok: false; readonly line: number; readonly reason: string };

class TemplateUnsupported extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(reason);
  }
}

interface Val {
  readonly value: unknown;
  /** Values path when the value is read straight from the values (functions keep it where the data is unchanged). */
  readonly path: ValuesPath | null;
}

type Node =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'print'; readonly pipeline: string; readonly line: number }
  | { readonly type: 'if' | 'with'; readonly pipeline: string; readonly line: number; readonly then: Node[]; readonly otherwise: Node[] }
  | {
      readonly type: 'range';
      readonly vars: readonly string[];
      readonly pipeline: string;
      readonly line: number;
      readonly body: Node[];
      readonly otherwise: Node[];
    };

interface Action {
  readonly text: string;
  readonly line: number;
}

/** Renders `text` with `values` as `.Values`; unsupported constructs give the line they are on. */
export function renderTemplate(
  text: string,
  values: Readonly<Record<string, unknown>>,
  release: { name: string; namespace: string },
): RenderResult {
  try {
    const nodes = parse(tokenize(text));
    const out = new Output();
    const root: Val = { value: { Values: values, Release: { Name: release.name, Namespace: release.namespace } }, path: [] };
    evaluate(nodes, { dot: root, vars: new Map([['$', root]]) }, out);
    return { ok: true, output: out.text, substitutions: out.substitutions, iterations: out.iterations, guards: out.guards };
  } catch (error) {
    if (error instanceof TemplateUnsupported) return { ok: false, line: error.line, reason: error.message };
    throw error;
  }
}

type Token = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'action'; readonly action: Action };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let before = text.slice(last, m.index);
    if (trimNext) before = before.replace(/^\s+/, '');
    if (m[1]) before = before.replace(/\s+$/, '');
    if (before) tokens.push({ kind: 'text', text: before });
    const line = text.slice(0, m.index).split('\n').length;
    tokens.push({ kind: 'action', action: { text: m[2]!.trim(), line } });
    trimNext = Boolean(m[3]);
    last = m.index + m[0].length;
  }
  let rest = text.slice(last);
  if (trimNext) rest = rest.replace(/^\s+/, '');
  if (rest) tokens.push({ kind: 'text', text: rest });
  return tokens;
}

function parse(tokens: Token[]): Node[] {
  let i = 0;
  const block = (terminators: readonly string[], opened = 0): { nodes: Node[]; end: string; line: number } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const token = tokens[i++]!;
      if (token.kind === 'text') {
        nodes.push({ type: 'text', text: token.text });
        continue;
      }
      const { text, line } = token.action;
      const word = /^[a-z]+/.exec(text)?.[0] ?? '';
      if (text.startsWith('/*')) continue;
      if (terminators.includes(word) && (word !== 'else' || text === 'else')) return { nodes, end: word, line };
      if (word === 'if' || word === 'with') {
        const pipeline = text.slice(word.length).trim();
        const then = block(['else', 'end'], line);
        const otherwise = then.end === 'else' ? block(['end'], line).nodes : [];
        // biome-ignore lint/suspicious/noThenProperty: the branch of an if/with node of the template tree; the node is plain data, never awaited
        nodes.push({ type: word, pipeline, line, then: then.nodes, otherwise });
      } else if (word === 'range') {
        const m = /^range\s+(?:(\$\w*)\s*(?:,\s*(\$\w*))?\s*:=\s*)?([\s\S]+)$/.exec(text);
        if (!m) throw new TemplateUnsupported(line, `range form not supported: {{ ${text} }}`);
        const body = block(['else', 'end'], line);
        const otherwise = body.end === 'else' ? block(['end'], line).nodes : [];
        nodes.push({
          type: 'range',
          vars: [m[1], m[2]].filter((v): v is string => Boolean(v)),
          pipeline: m[3]!.trim(),
          line,
          body: body.nodes,
          otherwise,
        });
      } else if (['end', 'else', 'define', 'template', 'block', 'include', 'tpl'].includes(word) || text.startsWith('else ')) {
        throw new TemplateUnsupported(line, `{{ ${text} }} is not supported`);
      } else if (/^\$\w*\s*:?=/.test(text)) {
        throw new TemplateUnsupported(line, `variable assignment {{ ${text} }} is not supported`);
      } else {
        nodes.push({ type: 'print', pipeline: text, line });
      }
    }
    if (terminators.length > 0) throw new TemplateUnsupported(opened, `block opened here has no {{ end }}`);
    return { nodes, end: '', line: 0 };
  };
  return block([]).nodes;
}

interface Scope {
  readonly dot: Val;
  readonly vars: ReadonlyMap<string, Val>;
}

class Output {
  text = '';
  readonly substitutions: Substitution[] = [];
  readonly iterations: Iteration[] = [];
  readonly guards: Guard[] = [];
}

function evaluate(nodes: readonly Node[], scope: Scope, out: Output): void {
  for (const node of nodes) {
    if (node.type === 'text') {
      out.text += node.text;
    } else if (node.type === 'print') {
      const val = pipeline(node.pipeline, scope, node.line);
      const printed = printable(val.value, node.line, node.pipeline);
      const start = out.text.length;
      out.text += printed;
      if (val.path) out.substitutions.push({ start, end: out.text.length, path: val.path, text: printed });
    } else if (node.type === 'if' || node.type === 'with') {
      const val = pipeline(node.pipeline, scope, node.line);
      if (truthy(val.value)) {
        const start = out.text.length;
        evaluate(node.then, node.type === 'with' ? { ...scope, dot: val } : scope, out);
        if (node.type === 'if' && val.path && val.path.length > 0) out.guards.push({ start, end: out.text.length, path: val.path });
      } else evaluate(node.otherwise, scope, out);
    } else if (node.type === 'range') {
      const val = pipeline(node.pipeline, scope, node.line);
      const entries: Array<[string | number, unknown]> = Array.isArray(val.value)
        ? val.value.map((v, i) => [i, v])
        : isRecord(val.value)
          ? Object.keys(val.value)
              .sort()
              .map((k) => [k, (val.value as Record<string, unknown>)[k]])
          : val.value === null || val.value === undefined
            ? []
            : (() => {
                throw new TemplateUnsupported(node.line, `range over a ${typeof val.value}`);
              })();
      if (entries.length === 0) evaluate(node.otherwise, scope, out);
      for (const [key, value] of entries) {
        const element: Val = { value, path: val.path ? [...val.path, key] : null };
        const vars = new Map(scope.vars);
        if (node.vars.length === 2) {
          vars.set(node.vars[0]!, { value: key, path: null });
          vars.set(node.vars[1]!, element);
        } else if (node.vars.length === 1) vars.set(node.vars[0]!, element);
        const start = out.text.length;
        evaluate(node.body, { dot: element, vars }, out);
        if (val.path) out.iterations.push({ start, end: out.text.length, over: val.path, key });
      }
    }
  }
}

function printable(value: unknown, line: number, text: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateUnsupported(line, `{{ ${text} }} prints a map or list without toYaml`);
}

const FUNCTIONS = new Set(['quote', 'squote', 'default', 'toYaml', 'toJson', 'nindent', 'indent', 'not', 'eq', 'ne']);

function pipeline(text: string, scope: Scope, line: number): Val {
  const commands = splitOutside(text, '|');
  let previous: Val | undefined;
  for (const command of commands) previous = call(words(command.trim(), line), scope, line, previous, text);
  if (!previous) throw new TemplateUnsupported(line, `empty action`);
  return previous;
}

function call(parts: string[], scope: Scope, line: number, piped: Val | undefined, text: string): Val {
  const [head, ...rest] = parts;
  if (head === undefined) throw new TemplateUnsupported(line, `empty command in {{ ${text} }}`);
  if (!FUNCTIONS.has(head)) {
    if (rest.length > 0 || piped) throw new TemplateUnsupported(line, `'${head}' is not a supported function ({{ ${text} }})`);
    return term(head, scope, line, text);
  }
  const args = rest.map((p) => term(p, scope, line, text));
  if (piped) args.push(piped);
  const arg = (i: number) => {
    const a = args[i];
    if (!a) throw new TemplateUnsupported(line, `${head} needs more arguments ({{ ${text} }})`);
    return a;
  };
  switch (head) {
    case 'quote':
      return { value: JSON.stringify(stringOf(arg(0).value)), path: arg(0).path };
    case 'squote':
      return { value: `'${stringOf(arg(0).value)}'`, path: arg(0).path };
    case 'default':
      return truthy(arg(1).value) ? arg(1) : arg(0);
    case 'toYaml': {
      const v = arg(0).value;
      const yaml = v === null || v === undefined ? 'null' : stringify(v, { lineWidth: 0 }).replace(/\n$/, '');
      return { value: yaml, path: arg(0).path };
    }
    case 'toJson':
      return { value: JSON.stringify(arg(0).value ?? null), path: arg(0).path };
    case 'nindent':
    case 'indent': {
      const n = Number(arg(0).value);
      const s = stringOf(arg(1).value);
      const pad = ' '.repeat(n);
      const body = s
        .split('\n')
        .map((l) => pad + l)
        .join('\n');
      return { value: head === 'nindent' ? `\n${body}` : body, path: arg(1).path };
    }
    case 'not':
      return { value: !truthy(arg(0).value), path: null };
    case 'eq':
      return { value: arg(0).value === arg(1).value, path: null };
    case 'ne':
      return { value: arg(0).value !== arg(1).value, path: null };
  }
  throw new TemplateUnsupported(line, `'${head}' is not supported`);
}

function term(word: string, scope: Scope, line: number, text: string): Val {
  if (/^"(?:[^"\\]|\\.)*"$/.test(word)) return { value: JSON.parse(word) as string, path: null };
  if (/^-?\d+(\.\d+)?$/.test(word)) return { value: Number(word), path: null };
  if (word === 'true' || word === 'false') return { value: word === 'true', path: null };
  if (word === 'nil') return { value: null, path: null };
  if (word.startsWith('(')) throw new TemplateUnsupported(line, `parenthesised pipelines are not supported ({{ ${text} }})`);
  let base: Val;
  let fields: string[];
  if (word.startsWith('$')) {
    const [name, ...f] = word.split('.');
    const v = scope.vars.get(name!);
    if (!v) throw new TemplateUnsupported(line, `unknown variable ${name} ({{ ${text} }})`);
    base = v;
    fields = f;
  } else if (word === '.') {
    return scope.dot;
  } else if (word.startsWith('.')) {
    base = scope.dot;
    fields = word.slice(1).split('.');
  } else {
    throw new TemplateUnsupported(line, `'${word}' is not supported ({{ ${text} }})`);
  }
  let value = base.value;
  let path: Array<string | number> | null = base.path ? [...base.path] : null;
  const fromRoot = base.path !== null && base.path.length === 0;
  for (const [i, field] of fields.entries()) {
    if (!/^[A-Za-z_][\w-]*$/.test(field)) throw new TemplateUnsupported(line, `field '${field}' not supported ({{ ${text} }})`);
    if (fromRoot && i === 0 && field !== 'Values') {
      if (field !== 'Release') throw new TemplateUnsupported(line, `.${field} is not supported ({{ ${text} }})`);
      path = null;
    }
    value = isRecord(value) ? value[field] : undefined;
    // `.Values` is the root of the values paths.
    if (path !== null && !(fromRoot && i === 0)) path.push(field);
  }
  return { value, path };
}

function words(command: string, line: number): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|\S+/g;
  for (let m = re.exec(command); m; m = re.exec(command)) out.push(m[0]);
  if (out.some((w) => w.startsWith('"') && !/"$/.test(w))) throw new TemplateUnsupported(line, `unterminated string`);
  return out;
}

function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

function stringOf(value: unknown): string {
  return value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) return Object.keys(value).length > 0;
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
