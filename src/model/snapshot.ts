import { posix } from 'node:path';

/** A read-only view of a config repo at one commit: repo-relative POSIX path → file text. */
export type RepoSnapshot = ReadonlyMap<string, string>;

/** One file-level result of a phase, plain data: what to write where. */
export interface FileChange {
  readonly path: string;
  readonly action: 'create' | 'update' | 'delete';
  /** New file text; null for deletions. */
  readonly content: string | null;
}

/** Restricts a snapshot to the files under `subdir` (paths stay repo-relative). */
export function scopeSnapshot(snapshot: RepoSnapshot, subdir: string | undefined): RepoSnapshot {
  if (!subdir) return snapshot;
  const prefix = posix
    .normalize(subdir)
    .replace(/^\.\/?/, '')
    .replace(/\/?$/, '/');
  if (prefix === '/') return snapshot;
  return new Map([...snapshot].filter(([path]) => path.startsWith(prefix)));
}

/** The snapshot after `changes` (later changes to the same path win). */
export function applyFileChanges(snapshot: RepoSnapshot, changes: readonly FileChange[]): RepoSnapshot {
  if (changes.length === 0) return snapshot;
  const next = new Map(snapshot);
  for (const change of changes) {
    if (change.action === 'delete') next.delete(change.path);
    else next.set(change.path, change.content ?? '');
  }
  return next;
}

/**
 * The net file changes that turn `before` into `after`, sorted by path, so that several phases'
 * edits to one file collapse into one change.
 */
export function diffSnapshots(before: RepoSnapshot, after: RepoSnapshot): FileChange[] {
  const changes: FileChange[] = [];
  for (const [path, content] of after) {
    const old = before.get(path);
    if (old === undefined) changes.push({ path, action: 'create', content });
    else if (old !== content) changes.push({ path, action: 'update', content });
  }
  for (const path of before.keys()) {
    if (!after.has(path)) changes.push({ path, action: 'delete', content: null });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function isYamlPath(path: string): boolean {
  return path.endsWith('.yaml') || path.endsWith('.yml');
}

/** A file written as text beside a phase's objects (a twin kustomize patch, its kustomization entry). */
export interface RawFileEdit {
  readonly path: string;
  /** The new text from the repo as it is when the phase is applied; null leaves the file as it is. */
  readonly content: (repo: RepoSnapshot) => string | null;
  /** The file is deleted (when it is there); `content` is not called. */
  readonly remove?: boolean;
}
