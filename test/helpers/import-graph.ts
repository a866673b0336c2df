import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** One `import`/`export … from`/`import()` of a module: the importing file and what it names. */
export interface ImportEdge {
  readonly from: string;
  readonly specifier: string;
  /** The imported file relative to the root (`src/core/plan.ts`), null for a package or `node:` import. */
  readonly to: string | null;
}

// Static imports and re-exports end in `from '…'`; side-effect imports are `import '…'`; dynamic ones
// `import('…')`; `import x = require('…')` and `require('…')` count too. Comments are not stripped: a
// commented-out import counts as an import (a string holding `/*` cannot hide a real one that way).
const IMPORT =
  /(?:(?:^|;)[ \t]*(?:import|export)\b[^;]*?\bfrom\s*|(?:^|;)[ \t]*import\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"](?<specifier>[^'"\n;]+)['"]/gm;
// An import whose module is computed (`import(name)`, `require(name)`, a template literal) cannot be checked.
const COMPUTED = /\b(?:import|require)\s*\(\s*(?!['"])/;

/** Every module specifier of a TypeScript source text, in order. */
export function importSpecifiers(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m.groups!.specifier!);
}

/** Whether the text imports a module whose name is computed at run time. */
export function hasComputedImport(text: string): boolean {
  return COMPUTED.test(text.replace(/\bimport\s*\(\s*\)/g, ''));
}

/** The imports of every `.ts` file under `dir` (relative to `root`), test files excluded. */
export function importEdges(root: string, dir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of tsFiles(join(root, dir))) {
    const from = relative(root, file);
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      const to = specifier.startsWith('.') ? relative(root, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts') : null;
      edges.push({ from, specifier, to });
    }
  }
  return edges;
}

/** Every `.ts` file under `dir`, test files excluded. */
export function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The strongly connected components with more than one node (each one a cycle), by Tarjan's algorithm. */
export function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (;;) {
      const member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

/** Adds `from → to` to a graph of sets. */
export function addEdge(graph: Map<string, Set<string>>, from: string, to: string): void {
  if (!graph.has(from)) graph.set(from, new Set());
  if (!graph.has(to)) graph.set(to, new Set());
  graph.get(from)!.add(to);
}
