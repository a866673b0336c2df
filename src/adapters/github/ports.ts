import type { Ancestry } from '../../core/argocd-revisions.js';
import type { FileChange, RepoSnapshot } from '../../model/snapshot.js';

/**
 * What the workflow (and the gates) need of the config repo on GitHub. GitHubConfigRepo implements
 * it over Octokit; tests may implement it in memory. Reads are at a pinned commit; every write is an
 * idempotent ensure* or a compare-and-swap on a ref.
 */
export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

export interface BranchHead {
  readonly sha: string;
  readonly treeSha: string;
}

export interface IssueComment {
  readonly id: number;
  readonly body: string;
  readonly login: string;
  /**
   * Written by this App (author login `<APP_SLUG>[bot]`): the only comments whose hidden blocks the
   * bot reads. Any other bot, or a person, can copy a block into a comment of their own.
   */
  readonly byThisApp: boolean;
  /** ISO time the comment was created. */
  readonly createdAt: string;
  readonly htmlUrl: string;
}

export interface PullRequestInfo {
  readonly number: number;
  readonly state: 'open' | 'closed';
  readonly merged: boolean;
  readonly mergeSha: string | null;
  readonly mergedAt: string | null;
  readonly title: string;
  readonly body: string;
  readonly headRef: string;
  readonly headSha: string;
  readonly htmlUrl: string;
}

export type EnsureBranchResult =
  | { readonly kind: 'created' | 'updated' | 'unchanged'; readonly sha: string }
  | { readonly kind: 'foreign-commits'; readonly sha: string }
  /** GitHub would not create or move the branch (a ruleset, or retries given up): `reason` says so. */
  | { readonly kind: 'refused'; readonly reason: string };

/** A lock ref as found: its commit, the issue it names (null if none) and when it was taken. */
export interface LockHolder {
  readonly sha: string;
  readonly issue: number | null;
  readonly since: string | null;
}

export type LockResult =
  | { readonly kind: 'acquired' }
  | ({ readonly kind: 'held' } & LockHolder)
  /** GitHub would not create the lock ref (a ruleset, or retries given up): not "held elsewhere". */
  | { readonly kind: 'refused'; readonly reason: string };

export interface CommitStatus {
  readonly context: string;
  readonly state: string;
  readonly description: string | null;
  readonly createdAt: string;
}

export type { Ancestry } from '../../core/argocd-revisions.js';

export interface ConfigRepo {
  readonly ref: RepoRef;
  /** The App's own login (`<app-slug>[bot]`); null in development. */
  readonly botLogin: string | null;
  getDefaultBranch(): Promise<string>;
  getBranchHead(branch: string): Promise<BranchHead>;
  readSnapshot(sha: string): Promise<{ snapshot: RepoSnapshot; configText: string | null }>;
  readConfigFile(sha: string): Promise<string | null>;
  getPermission(username: string): Promise<'admin' | 'write' | 'read' | 'none'>;
  listIssueComments(issue: number): Promise<IssueComment[]>;
  /** The first comment that matches, reading pages only until it is found. */
  findComment(issue: number, matches: (comment: IssueComment) => boolean): Promise<IssueComment | null>;
  createComment(issue: number, body: string): Promise<IssueComment>;
  updateComment(id: number, body: string): Promise<void>;
  deleteComment(id: number): Promise<void>;
  /** `new` when this reaction was not there yet (the comment is seen for the first time). */
  react(commentId: number, content: 'eyes' | 'rocket' | 'confused' | '+1'): Promise<'new' | 'existing'>;
  addLabels(issue: number, labels: readonly string[]): Promise<void>;
  /** The labels of an issue or PR. */
  listLabels(issue: number): Promise<string[]>;
  /** Replaces the labels of an issue or PR. */
  setLabels(issue: number, labels: readonly string[]): Promise<void>;
  findPullRequest(branch: string): Promise<PullRequestInfo | null>;
  getPullRequest(number: number): Promise<PullRequestInfo>;
  ensureBranchCommit(branch: string, base: BranchHead, changes: readonly FileChange[], message: string): Promise<EnsureBranchResult>;
  ensurePullRequest(
    branch: string,
    base: string,
    title: string,
    body: string,
    labels: readonly string[],
  ): Promise<{ pr: PullRequestInfo; created: boolean }>;
  listPullRequestFiles(number: number): Promise<string[]>;
  compare(base: string, head: string): Promise<Ancestry>;
  commitsSince(base: string, head: string): Promise<{ status: Ancestry; commits: string[] }>;
  listCommitStatuses(sha: string): Promise<CommitStatus[]>;
  listOpenIssues(label: string): Promise<number[]>;
  closePullRequest(number: number): Promise<void>;
  deleteBranch(branch: string): Promise<void>;
  acquireLock(ref: string, issue: number, base: BranchHead): Promise<LockResult>;
  takeOverLock(ref: string, stale: LockHolder, issue: number, base: BranchHead): Promise<LockResult>;
  /** The issue holding a lock ref; undefined when free. */
  readLock(ref: string): Promise<number | undefined>;
  readLockHolder(ref: string): Promise<LockHolder | null>;
  listLocks(prefix: string): Promise<Array<{ ref: string } & LockHolder>>;
  /** Releases the lock only if `issue` holds it. */
  releaseLockOf(ref: string, issue: number): Promise<boolean>;
  releaseLock(ref: string): Promise<void>;
}
