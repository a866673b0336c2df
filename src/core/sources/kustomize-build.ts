import { posix } from 'node:path';
import { load } from 'js-yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { isYamlPath, type RepoSnapshot } from '../../model/snapshot.js';
import type { YamlIndex } from '../repo-index.js';

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** A kustomization that `kustomize build` refuses: the file, and the entry it cannot find. */
export class KustomizeBuildError extends UpgradeRefusedError {
  constructor(
    readonly file: string,
    readonly entry: string,
    readonly field: string,
  ) {
    super(
      `${file}: kustomize cannot build it: ${field} entry '${entry}' does not exist in the repo. Fix the kustomization (or restore the file), then plan again; nothing was written.`,
      'kustomize-build-error',
    );
  }
}

/**
 * Refuses a repo with a kustomization that does not build because a local file it names is
 * missing: a resource, base or component (a YAML file, or a directory with a kustomization), or
 * a patch file. The planner reads effective state through kustomize's rules and writes edits
 * Argo CD or Flux then builds; over a broken kustomization both would be guesses. Remote
 * resources (URLs, `?ref=`), non-YAML files (the snapshot holds YAML only) and paths outside the
 * planned directory are not checked.
 */
export function assertKustomizationsBuild(snapshot: RepoSnapshot, index: YamlIndex): void {
  const dirs = new Set<string>();
  for (const path of snapshot.keys()) for (let d = posix.dirname(path); d !== '.' && !dirs.has(d); d = posix.dirname(d)) dirs.add(d);
  for (const k of index.kustomizations) {
    const body = parse(snapshot.get(k.file));
    if (!body) continue;
    const check = (entry: unknown, field: string, kind: 'resource' | 'file') => {
      if (
        typeof entry !== 'string' ||
        entry.includes('\n') ||
        /^[a-z]+:\/\/|^(github\.com|gitlab\.com|bitbucket\.org)\/|\?ref=|^git@|^ssh:/.test(entry)
      )
        return;
      const path = posix.normalize(posix.join(k.dir, entry)).replace(/\/$/, '');
      if (path.startsWith('..') || path.startsWith('/')) return;
      if (snapshot.has(path)) return;
      if (kind === 'resource' && dirs.has(path)) {
        if (KUSTOMIZATION_FILES.some((name) => snapshot.has(path === '.' ? name : `${path}/${name}`))) return;
        throw new KustomizeBuildError(k.file, entry, `${field} (a directory without a kustomization)`);
      }
      if (path === '.' && kind === 'resource') return;
      // A missing non-YAML file cannot be told from one the snapshot leaves out.
      const ext = posix.extname(path);
      if (ext !== '' && !isYamlPath(path)) return;
      throw new KustomizeBuildError(k.file, entry, field);
    };
    for (const field of ['resources', 'bases', 'components'] as const)
      for (const entry of list(body[field])) check(entry, field, 'resource');
    for (const entry of list(body.patchesStrategicMerge)) check(entry, 'patchesStrategicMerge', 'file');
    for (const field of ['patches', 'patchesJson6902'] as const) {
      for (const entry of list(body[field]))
        if (typeof entry === 'object' && entry !== null) check((entry as { path?: unknown }).path, field, 'file');
    }
  }
}

function parse(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    const body = load(text);
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
