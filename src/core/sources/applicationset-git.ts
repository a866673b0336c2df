import { posix } from 'node:path';
import { load } from 'js-yaml';

/**
 * Argo CD's git generators, read from the repo being planned (the generator's `repoURL` is taken to
 * be this repo: the files it names are here or nowhere the bot can see).
 *
 * - `git.files[].path`: every file matching a glob (`*` within a path segment, `**` across them; an
 *   entry with `exclude: true` takes files out) is one parameter set: its YAML/JSON keys, plus the
 *   path parameters (`{{path}}`, `{{path.basename}}`, `{{path.filename}}`, `…Normalized`; with
 *   `goTemplate`: `{{.path.path}}`, `{{.path.basename}}`, …, `{{.path.segments}}`).
 * - `git.directories[].path`: every directory matching a glob, with the path parameters only.
 *
 * A params file is the "generator element" of the Applications it makes: edits go into the file,
 * a new release is a copy of the file under a new name, cleanup deletes it.
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/applicationset/Generators-Git/
 */

export interface GitGlobs {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

interface GitParamSet {
  readonly params: Record<string, unknown>;
  /** The params file (files generator), null for a directory. */
  readonly file: string | null;
  readonly content: Record<string, unknown>;
}

export class GitGeneratorError extends Error {}

/** A glob of Argo CD's git generator as a regular expression over repo paths. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  const text = glob.replace(/^\/+/, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '*' && text[i + 1] === '*') {
      i++;
      if (text[i + 1] === '/') {
        i++;
        out += '(?:.*/)?';
      } else out += '.*';
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) throw new GitGeneratorError(`the glob ${glob} has an unclosed [`);
      out += `[${text
        .slice(i + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\')}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  try {
    return new RegExp(`^${out}$`);
  } catch {
    throw new GitGeneratorError(`the glob ${glob} is not a glob the planner can read`);
  }
}

export function matchesGlobs(path: string, globs: GitGlobs): boolean {
  return globs.include.some((g) => globToRegExp(g).test(path)) && !globs.exclude.some((g) => globToRegExp(g).test(path));
}

function globsOf(entries: unknown, kind: string): GitGlobs {
  if (!Array.isArray(entries) || entries.length === 0) throw new GitGeneratorError(`git.${kind} lists no path`);
  const include: string[] = [];
  const exclude: string[] = [];
  for (const entry of entries) {
    const path = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).path : undefined;
    if (typeof path !== 'string' || path === '') throw new GitGeneratorError(`a git.${kind} entry has no path`);
    if (path.includes('{{')) throw new GitGeneratorError(`the git.${kind} path ${path} is a template`);
    ((entry as Record<string, unknown>).exclude === true ? exclude : include).push(path);
  }
  if (include.length === 0) throw new GitGeneratorError(`git.${kind} only excludes paths`);
  return { include, exclude };
}

const normalized = (text: string) => text.replace(/[^a-zA-Z0-9-.]/g, '-').toLowerCase();

/** The path parameters Argo CD gives a matched file (`dir/file`) or directory (`dir`). */
export function pathParams(path: string, isFile: boolean, goTemplate: boolean): Record<string, unknown> {
  const dir = isFile ? posix.dirname(path) : path;
  const basename = posix.basename(dir);
  const filename = isFile ? posix.basename(path) : undefined;
  const fields: Record<string, unknown> = {
    path: dir,
    basename,
    basenameNormalized: normalized(basename),
    ...(filename !== undefined ? { filename, filenameNormalized: normalized(filename) } : {}),
  };
  if (goTemplate) return { path: { ...fields, segments: dir.split('/') } };
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k === 'path' ? 'path' : `path.${k}`, v]));
}

/** Is a template reference one of the path parameters (not a key of the params file)? */
export function isPathReference(key: readonly string[]): boolean {
  return key[0] === 'path';
}

/** The parameter sets of a git generator over the repo. */
export function gitParamSets(
  git: Readonly<Record<string, unknown>>,
  repo: ReadonlyMap<string, string> | undefined,
  goTemplate: boolean,
): { sets: GitParamSet[]; globs: GitGlobs } {
  if (!repo) throw new GitGeneratorError('the git generator needs the repo files, which are not available here');
  if (git.files !== undefined && git.directories !== undefined)
    throw new GitGeneratorError('a git generator with both files and directories');
  if (git.pathParamPrefix !== undefined) throw new GitGeneratorError('git.pathParamPrefix is not read');
  if (git.values !== undefined) throw new GitGeneratorError('git.values is not read');
  if (git.files !== undefined) {
    const globs = globsOf(git.files, 'files');
    const files = [...repo.keys()].filter((f) => matchesGlobs(f, globs)).sort();
    if (files.length === 0) throw new GitGeneratorError(`no file of the repo matches git.files ${globs.include.join(', ')}`);
    const sets = files.map((file) => {
      const content = readParams(file, repo.get(file)!);
      return { params: { ...content, ...pathParams(file, true, goTemplate) }, file, content };
    });
    return { sets, globs };
  }
  if (git.directories !== undefined) {
    const globs = globsOf(git.directories, 'directories');
    const dirs = new Set<string>();
    for (const file of repo.keys()) {
      const parts = file.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    const matched = [...dirs].filter((d) => matchesGlobs(d, globs)).sort();
    return { sets: matched.map((dir) => ({ params: pathParams(dir, false, goTemplate), file: null, content: {} })), globs };
  }
  throw new GitGeneratorError('a git generator without files or directories');
}

function readParams(file: string, text: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = load(text);
  } catch (error) {
    throw new GitGeneratorError(`the git generator's params file ${file} does not parse: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new GitGeneratorError(`the git generator's params file ${file} is not one mapping of parameters`);
  return data as Record<string, unknown>;
}

/** Params files of the git generators of the repo's ApplicationSets (not Kubernetes objects: not "skipped"). */
export function isParamsFileOf(appSetBodies: readonly unknown[], file: string): boolean {
  const globs: GitGlobs[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const git = record.git;
    if (typeof git === 'object' && git !== null && (git as Record<string, unknown>).files !== undefined) {
      try {
        globs.push(globsOf((git as Record<string, unknown>).files, 'files'));
      } catch {
        // unreadable: reported with the ApplicationSet
      }
    }
    Object.values(record).forEach(walk);
  };
  for (const body of appSetBodies) walk((body as { spec: { generators?: unknown } })?.spec?.generators);
  return globs.some((g) => matchesGlobs(file, g));
}
