import { diffTrees, type FileChange } from '../git-merge.js';
import { type CommitObject, FILE_MODE, type FileEntry } from '../git-store.js';
import type { World } from '../world.js';

export interface Comparison {
  readonly status: 'identical' | 'ahead' | 'behind' | 'diverged';
  readonly aheadBy: number;
  readonly behindBy: number;
  readonly mergeBase: CommitObject;
  /** Commits on head that base lacks, oldest first. */
  readonly commits: readonly CommitObject[];
  /** Head against the merge base (a three-dot diff, as GitHub compares). */
  readonly files: readonly FileChange[];
}

/** `base...head` as GitHub's compare endpoint computes it; undefined when the histories share nothing. */
export function compareCommits(world: World, baseSha: string, headSha: string): Comparison | undefined {
  const { git } = world;
  const mergeBaseSha = git.mergeBase(baseSha, headSha);
  const mergeBase = mergeBaseSha ? git.commit(mergeBaseSha) : undefined;
  const head = git.commit(headSha);
  if (!mergeBase || !head) return undefined;
  const commits = git.commitsBetween(baseSha, headSha);
  const behindBy = git.commitsBetween(headSha, baseSha).length;
  const aheadBy = commits.length;
  const status = aheadBy === 0 && behindBy === 0 ? 'identical' : behindBy === 0 ? 'ahead' : aheadBy === 0 ? 'behind' : 'diverged';
  return { status, aheadBy, behindBy, mergeBase, commits, files: diffTrees(git, mergeBase.tree, head.tree) };
}

/**
 * Writes one commit on top of `parentSha` that sets (text) or deletes (null) the given paths, as
 * a push or a web edit would. The ref is not moved; callers decide how.
 */
export function commitFileChanges(
  world: World,
  parentSha: string,
  changes: ReadonlyMap<string, string | null>,
  message: string,
  authorLogin: string,
  options: { signed?: boolean } = {},
): string {
  const { git } = world;
  const parent = git.commit(parentSha);
  if (!parent) throw new Error(`no commit ${parentSha}`);
  const files = new Map<string, FileEntry>(git.listFiles(parent.tree));
  for (const [path, text] of changes) {
    if (text === null) files.delete(path);
    else files.set(path, { mode: FILE_MODE, type: 'blob', sha: git.writeBlob(text) });
  }
  const date = world.clock.stamp();
  const sha = git.writeCommit({
    tree: git.writeFiles(files),
    parents: [parentSha],
    author: world.person(authorLogin, date),
    committer: world.person(authorLogin, date),
    message,
  });
  if (options.signed) world.signedCommits.add(sha);
  return sha;
}

/** Moves a branch (creating it when missing) and records the push time. */
export function moveBranch(world: World, branch: string, sha: string): void {
  world.git.setRef(`refs/heads/${branch}`, sha);
  world.pushedAt = world.clock.peek();
}
