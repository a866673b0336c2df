import { applyPatch, structuredPatch } from 'diff';
import type { FileEntry, GitStore } from './git-store.js';

/** One changed path between two trees (renames are reported as a removal plus an addition). */
export interface FileChange {
  readonly filename: string;
  readonly status: 'added' | 'removed' | 'modified';
  /** The blob after the change; the old blob for removals (GitHub reports that one too). */
  readonly sha: string;
  readonly additions: number;
  readonly deletions: number;
  /** Unified-diff hunks without file headers, as GitHub's `patch` field. */
  readonly patch: string;
}

export function diffTrees(git: GitStore, baseTree: string, headTree: string): FileChange[] {
  const before = git.listFiles(baseTree);
  const after = git.listFiles(headTree);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: FileChange[] = [];
  for (const path of paths) {
    const old = before.get(path);
    const current = after.get(path);
    if (old?.sha === current?.sha && old?.mode === current?.mode) continue;
    const status = !old ? 'added' : !current ? 'removed' : 'modified';
    changes.push({ filename: path, status, sha: (current ?? old)!.sha, ...lineChanges(textOf(git, old), textOf(git, current)) });
  }
  return changes;
}

export type MergeResult =
  | { readonly kind: 'clean'; readonly tree: string }
  | { readonly kind: 'conflict'; readonly paths: readonly string[] };

/**
 * A three-way merge: a path changed on one side only takes that side; a path changed identically
 * on both sides is fine; a text file changed differently on both sides is merged line by line
 * when their hunks apply cleanly to each other (as git does for changes in different places),
 * else it is a conflict.
 */
export function mergeTrees(git: GitStore, baseTree: string, oursTree: string, theirsTree: string): MergeResult {
  const base = git.listFiles(baseTree);
  const ours = git.listFiles(oursTree);
  const theirs = git.listFiles(theirsTree);
  const merged = new Map<string, FileEntry>();
  const conflicts: string[] = [];
  for (const path of new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])) {
    const [b, o, t] = [base.get(path), ours.get(path), theirs.get(path)];
    let result: FileEntry | undefined;
    if (sameEntry(o, t)) result = o;
    else if (sameEntry(o, b)) result = t;
    else if (sameEntry(t, b)) result = o;
    else {
      const lines = o && t && b ? lineMerge(git, b, o, t) : undefined;
      if (lines === undefined) {
        conflicts.push(path);
        continue;
      }
      result = { ...o!, sha: git.writeBlob(lines) };
    }
    if (result) merged.set(path, result);
  }
  if (conflicts.length > 0) return { kind: 'conflict', paths: conflicts.sort() };
  return { kind: 'clean', tree: git.writeFiles(merged) };
}

function sameEntry(a: FileEntry | undefined, b: FileEntry | undefined): boolean {
  return a?.sha === b?.sha && a?.mode === b?.mode;
}

function textOf(git: GitStore, entry: FileEntry | undefined): string {
  return entry ? (git.blob(entry.sha)?.toString('utf8') ?? '') : '';
}

function lineChanges(before: string, after: string): { additions: number; deletions: number; patch: string } {
  const { hunks } = structuredPatch('a', 'b', before, after, undefined, undefined, { context: 3 });
  let additions = 0;
  let deletions = 0;
  const text: string[] = [];
  for (const hunk of hunks) {
    text.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`, ...hunk.lines);
    for (const line of hunk.lines) {
      if (line.startsWith('+')) additions++;
      else if (line.startsWith('-')) deletions++;
    }
  }
  return { additions, deletions, patch: text.join('\n') };
}

/** Theirs' hunks (against the base) applied to ours, without fuzz; undefined when they do not apply. */
function lineMerge(git: GitStore, base: FileEntry, ours: FileEntry, theirs: FileEntry): string | undefined {
  if (base.mode !== ours.mode || base.mode !== theirs.mode) return undefined;
  const patch = structuredPatch('a', 'b', textOf(git, base), textOf(git, theirs), '', '', { context: 3 });
  const merged = applyPatch(textOf(git, ours), patch, { fuzzFactor: 0 });
  return merged === false ? undefined : merged;
}
