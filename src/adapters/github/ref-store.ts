import type { ProbotOctokit } from 'probot';
import { lockCommitMessage, parseLockCommitMessage } from '../../core/markers.js';
import { call, GitHubApiError, statusOf } from './errors.js';
import type { BranchHead, LockHolder, LockResult, RepoRef } from './ports.js';
import { pauseBeforeRetry, REF_ATTEMPTS, refAnswerOf, refFailureReason } from './ref-errors.js';

export type GitHubClient = InstanceType<typeof ProbotOctokit>;

/**
 * The git data every GitHub-backed repo writes through: refs, commits, and the cluster upgrade
 * locks (a ref per cluster, created atomically, moved only with `force: false`).
 */
export class GitHubRefStore {
  constructor(
    protected readonly octokit: GitHubClient,
    readonly ref: RepoRef,
  ) {}

  /**
   * Takes the cluster's upgrade lock: a git ref created atomically (a second create fails with
   * "Reference already exists"), pointing at a commit whose message names the holding issue. Any
   * other refusal of GitHub is returned as such, never as a lock held elsewhere.
   */
  async acquireLock(ref: string, issue: number, base: BranchHead): Promise<LockResult> {
    let commit: string | null = null;
    for (let attempt = 1; ; attempt++) {
      const holder = await this.readLockHolder(ref);
      if (holder !== null) return holder.issue === issue ? { kind: 'acquired' } : { kind: 'held', ...holder };
      commit ??= await this.createCommit(lockCommitMessage(issue), base.treeSha, []);
      const sha = commit;
      try {
        await call('create lock', () => this.octokit.rest.git.createRef({ ...this.ref, ref, sha }));
        return { kind: 'acquired' };
      } catch (error) {
        const answer = refAnswerOf(error);
        if (answer === null) throw error;
        if (answer.kind === 'refused' || attempt >= REF_ATTEMPTS)
          return { kind: 'refused', reason: refFailureReason({ kind: 'lock', name: ref }, answer, attempt) };
        // Lost the race: read the winner above. Failed: try again shortly.
        if (answer.kind === 'transient') await pauseBeforeRetry(attempt);
      }
    }
  }

  /**
   * Takes over a stale lock (its issue runs no upgrade): compare-and-swap, by moving the ref to a
   * commit on top of the one it held with `force: false`, so only one of several takers wins.
   */
  async takeOverLock(ref: string, stale: LockHolder, issue: number, base: BranchHead): Promise<LockResult> {
    const commit = await this.createCommit(lockCommitMessage(issue, stale.issue), base.treeSha, [stale.sha]);
    try {
      await call('take over lock', () =>
        this.octokit.rest.git.updateRef({ ...this.ref, ref: ref.replace(/^refs\//, ''), sha: commit, force: false }),
      );
      return { kind: 'acquired' };
    } catch (error) {
      const answer = refAnswerOf(error);
      if (answer === null) throw error;
      if (answer.kind === 'refused' || answer.kind === 'transient')
        return { kind: 'refused', reason: refFailureReason({ kind: 'lock', name: ref }, answer, 1) };
      // Moved or deleted meanwhile: whoever holds it now, holds it (or it is free again).
      const now = await this.readLockHolder(ref);
      if (now === null) return this.acquireLock(ref, issue, base);
      return now.issue === issue ? { kind: 'acquired' } : { kind: 'held', ...now };
    }
  }

  /** The issue holding a lock ref; undefined when free. */
  async readLock(ref: string): Promise<number | undefined> {
    return (await this.readLockHolder(ref))?.issue ?? undefined;
  }

  /** A lock ref's commit, holder and date; null when the ref does not exist. */
  async readLockHolder(ref: string): Promise<LockHolder | null> {
    const sha = await this.getRef(ref.replace(/^refs\//, ''));
    if (sha === null) return null;
    const { data } = await call('read lock', () => this.octokit.rest.git.getCommit({ ...this.ref, commit_sha: sha }));
    return { sha, issue: parseLockCommitMessage(data.message), since: data.committer?.date ?? null };
  }

  /** Every lock ref under `prefix` (e.g. `refs/mesh-upgrade/locks/`), with its holder. */
  async listLocks(prefix: string): Promise<Array<{ ref: string } & LockHolder>> {
    const { data } = await call('list locks', () =>
      this.octokit.rest.git.listMatchingRefs({ ...this.ref, ref: prefix.replace(/^refs\//, '') }),
    );
    const locks: Array<{ ref: string } & LockHolder> = [];
    for (const entry of data) {
      const holder = await this.readLockHolder(entry.ref);
      if (holder) locks.push({ ref: entry.ref, ...holder });
    }
    return locks;
  }

  /**
   * Releases a lock only if `issue` holds it: an upgrade that ends never frees a cluster another
   * issue has taken since.
   */
  async releaseLockOf(ref: string, issue: number): Promise<boolean> {
    const holder = await this.readLockHolder(ref);
    if (holder === null || holder.issue !== issue) return false;
    await this.releaseLock(ref);
    return true;
  }

  async releaseLock(ref: string): Promise<void> {
    try {
      await this.octokit.rest.git.deleteRef({ ...this.ref, ref: ref.replace(/^refs\//, '') });
    } catch (error) {
      if (statusOf(error) !== 422 && statusOf(error) !== 404)
        throw new GitHubApiError('release lock', statusOf(error), (error as Error).message);
    }
  }

  protected async getRef(ref: string): Promise<string | null> {
    try {
      const { data } = await this.octokit.rest.git.getRef({ ...this.ref, ref });
      return data.object.sha;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw new GitHubApiError('get ref', statusOf(error), (error as Error).message);
    }
  }

  protected async createCommit(message: string, tree: string, parents: string[]): Promise<string> {
    // No author or committer: GitHub signs commits made by the App as verified.
    const { data } = await call('create commit', () => this.octokit.rest.git.createCommit({ ...this.ref, message, tree, parents }));
    return data.sha;
  }
}
