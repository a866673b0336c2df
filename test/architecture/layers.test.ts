import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { addEdge, cycles, hasComputedImport, importEdges, importSpecifiers, tsFiles } from '../helpers/import-graph.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Which folders of src/ each folder may import: the layering of README "Development", lowest first.
 * model is the leaf every layer shares; core plans (drafting with constructs, rendering with the
 * writer); the workflow drives core and adapters; handlers and the CLI are entries.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  model: [],
  constructs: ['model'],
  writer: ['model'],
  core: ['model', 'constructs', 'writer'],
  config: ['model', 'core'],
  text: ['model', 'core', 'config'],
  observability: [],
  adapters: ['model', 'core', 'config', 'observability'],
  workflow: ['model', 'core', 'config', 'text', 'observability', 'adapters'],
  handlers: ['model', 'core', 'config', 'text', 'observability', 'adapters', 'workflow'],
  cli: ['model', 'core', 'config', 'text', 'adapters'],
  deploy: ['model'],
  '(entry)': ['model', 'core', 'config', 'text', 'observability', 'adapters', 'workflow', 'handlers'],
};

/** Folders that must stay pure: no I/O, no clock, no environment (time and config are passed in). */
const PURE = ['model', 'constructs', 'writer', 'core'];
// An allow-list: anything else (file system, network, process, timers, loggers) counts as I/O.
const PURE_MODULES = new Set([
  'node:path',
  'node:util',
  'node:crypto',
  'yaml',
  'js-yaml',
  'semver',
  'zod',
  'cdk8s',
  'constructs',
  'mdast-util-from-markdown',
]);
const IMPURE_CALL = /\bprocess\s*[.[]|\bDate\.now\(|\bnew Date\(\)|\bperformance\.now\(|\bfetch\s*\(|\bsetTimeout\s*\(|\bsetInterval\s*\(/;

function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1]! : '(entry)';
}

describe('the import graph of src/', () => {
  const edges = importEdges(ROOT, 'src');

  it('has a rule for every folder', () => {
    const folders = new Set(edges.map((e) => folderOf(e.from)));
    expect([...folders].filter((f) => !(f in MAY_IMPORT))).toEqual([]);
  });

  it('runs one way: every import goes to a folder its layer may use', () => {
    const wrong = edges
      .filter((e) => e.to !== null && folderOf(e.to) !== folderOf(e.from) && !MAY_IMPORT[folderOf(e.from)]?.includes(folderOf(e.to)))
      .map((e) => `${e.from} imports ${e.to}`);
    expect(wrong).toEqual([]);
  });

  it('has no folder-level cycles (and the rules themselves allow none)', () => {
    const actual = new Map<string, Set<string>>();
    for (const e of edges) if (e.to && folderOf(e.to) !== folderOf(e.from)) addEdge(actual, folderOf(e.from), folderOf(e.to));
    expect(cycles(actual)).toEqual([]);
    const allowed = new Map<string, Set<string>>();
    for (const [folder, uses] of Object.entries(MAY_IMPORT)) for (const used of uses) addEdge(allowed, folder, used);
    expect(cycles(allowed)).toEqual([]);
  });

  it('has no file-level cycles either', () => {
    const files = new Map<string, Set<string>>();
    for (const e of edges) if (e.to) addEdge(files, e.from, e.to);
    expect(cycles(files)).toEqual([]);
  });

  it('keeps model, constructs, writer and core free of I/O, clock and environment', () => {
    const impure = edges
      .filter((e) => PURE.includes(folderOf(e.from)) && e.to === null && !PURE_MODULES.has(e.specifier))
      .map((e) => `${e.from} imports ${e.specifier}`);
    expect(impure).toEqual([]);
  });

  it('has no import whose module is computed (it could not be checked)', () => {
    const files = tsFiles(`${ROOT}/src`);
    expect(files.filter((f) => hasComputedImport(readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('finds no clock or environment reads in the pure folders', () => {
    const files = tsFiles(`${ROOT}/src`).filter((f) => PURE.includes(folderOf(relative(ROOT, f))));
    expect(files.filter((f) => IMPURE_CALL.test(readFileSync(f, 'utf8')))).toEqual([]);
  });
});

describe('the import graph checker', () => {
  it('reads static, type-only, re-export, side-effect, dynamic and require imports, also after a string holding a comment opener', () => {
    const text = [
      "import { a } from './a.js';",
      "import type {\n  B,\n} from '../b.js';",
      "export { c } from './c.js';",
      "import 'side-effect';",
      "const d = await import('./d.js');",
      "import fs = require('node:fs');",
      "const glob = 'charts/*/values.yaml'; import { g } from './g.js'; // */",
      "// import { e } from './e.js';",
    ].join('\n');
    expect(importSpecifiers(text)).toEqual(['./a.js', '../b.js', './c.js', 'side-effect', './d.js', 'node:fs', './g.js']);
  });

  it('flags imports of computed modules', () => {
    expect(hasComputedImport('const m = await import(`../handlers/${name}.js`);')).toBe(true);
    expect(hasComputedImport('const m = require(name);')).toBe(true);
    expect(hasComputedImport("const m = await import('./fixed.js');")).toBe(false);
  });

  it('finds a cycle, and only the nodes on it', () => {
    const graph = new Map<string, Set<string>>();
    addEdge(graph, 'core', 'writer');
    addEdge(graph, 'writer', 'model');
    addEdge(graph, 'model', 'core');
    addEdge(graph, 'cli', 'core');
    expect(cycles(graph)).toEqual([['core', 'model', 'writer']]);
  });
});
