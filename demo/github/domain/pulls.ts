import { mergeTrees } from '../git-merge.js';
import { errorBody, HttpError, validationFailed } from '../http.js';
import type { IssueRecord, PullRecord } from '../records.js';
import { WEB_FLOW } from '../users.js';
import type { World } from '../world.js';
import { type Comparison, compareCommits, moveBranch } from './git.js';
import { createIssue, setIssueState, touch } from './issues.js';
import { assertBodyFits } from './limits.js';

export type PullRequestRecord = IssueRecord & { pull: PullRecord };
export type MergeMethod = 'merge' | 'squash' | 'rebase';

export function isPull(issue: IssueRecord | undefined): issue is PullRequestRecord {
  return Boolean(issue?.pull);
}

export function requirePull(world: World, number: number): PullRequestRecord {
  const issue = world.records.issue(number);
  if (!isPull(issue)) throw new HttpError(404, errorBody('Not Found', 404));
  return issue;
}

export function allPulls(world: World): PullRequestRecord[] {
  return [...world.records.issues.values()].filter(isPull);
}

/** Head and base commits: the live branches while open, the shas frozen at closing afterwards. */
export function pullShas(world: World, pr: PullRequestRecord): { headSha: string; baseSha: string } {
  if (pr.pull.frozen) return pr.pull.frozen;
  const headSha = world.branchSha(pr.pull.headRef);
  const baseSha = world.branchSha(pr.pull.baseRef);
  if (!headSha || !baseSha) throw new Error(`open pull request #${pr.number} lost a branch`);
  return { headSha, baseSha };
}

export function pullComparison(world: World, pr: PullRequestRecord): Comparison | undefined {
  const { headSha, baseSha } = pullShas(world, pr);
  return compareCommits(world, baseSha, headSha);
}

/** Whether GitHub would offer the merge button: open and free of (file-level) conflicts. */
export function isMergeable(world: World, pr: PullRequestRecord): boolean | null {
  if (pr.state !== 'open') return null;
  const { headSha, baseSha } = pullShas(world, pr);
  return mergedTree(world, baseSha, headSha) !== undefined;
}

export function openPullRequest(
  world: World,
  author: string,
  fields: { title: string; body?: string | null; head: string; base: string; draft?: boolean },
): PullRequestRecord {
  const headRef = ownBranch(world, fields.head);
  if (headRef === undefined || !world.branchSha(headRef))
    throw validationFailed({ resource: 'PullRequest', field: 'head', code: 'invalid' });
  if (!world.branchSha(fields.base)) throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'invalid' });
  if (allPulls(world).some((pr) => pr.state === 'open' && pr.pull.headRef === headRef && pr.pull.baseRef === fields.base)) {
    throw validationFailed({
      resource: 'PullRequest',
      code: 'custom',
      message: `A pull request already exists for ${world.owner}:${headRef}.`,
    });
  }
  if (world.git.commitsBetween(world.branchSha(fields.base)!, world.branchSha(headRef)!).length === 0) {
    throw validationFailed({ resource: 'PullRequest', code: 'custom', message: `No commits between ${fields.base} and ${headRef}` });
  }
  const pull: PullRecord = {
    id: world.records.nextId('pull'),
    headRef,
    baseRef: fields.base,
    draft: fields.draft ?? false,
    frozen: null,
    mergedAt: null,
    mergeCommitSha: null,
    mergedBy: null,
  };
  return createIssue(world, author, { title: fields.title, body: fields.body ?? null, pull }) as PullRequestRecord;
}

export function closePull(world: World, actor: string, pr: PullRequestRecord): void {
  if (!world.users.can(actor, 'triage') && actor !== pr.author)
    throw new HttpError(403, errorBody('Resource not accessible by integration', 403));
  if (pr.state === 'closed') return;
  pr.pull.frozen = pullShas(world, pr);
  setIssueState(world, pr, 'closed');
}

export function reopenPull(world: World, pr: PullRequestRecord): void {
  if (pr.state === 'open') return;
  if (pr.pull.mergedAt)
    throw validationFailed({
      resource: 'PullRequest',
      code: 'custom',
      field: 'state',
      message: 'state cannot be changed. The pull request has already been merged.',
    });
  if (!world.branchSha(pr.pull.headRef) || !world.branchSha(pr.pull.baseRef)) {
    throw validationFailed({
      resource: 'PullRequest',
      code: 'custom',
      field: 'state',
      message: 'state cannot be changed. The head branch was deleted.',
    });
  }
  pr.pull.frozen = null;
  setIssueState(world, pr, 'open');
}

/** GitHub closes open pull requests whose head or base branch is deleted. */
export function closePullsOnDeletedBranch(world: World, branch: string, shaBeforeDelete: string): void {
  for (const pr of allPulls(world)) {
    if (pr.state !== 'open' || (pr.pull.headRef !== branch && pr.pull.baseRef !== branch)) continue;
    const shaOf = (ref: string) => (ref === branch ? shaBeforeDelete : (world.branchSha(ref) ?? shaBeforeDelete));
    pr.pull.frozen = { headSha: shaOf(pr.pull.headRef), baseSha: shaOf(pr.pull.baseRef) };
    setIssueState(world, pr, 'closed');
  }
}

export interface MergeOptions {
  readonly method?: MergeMethod;
  readonly commitTitle?: string;
  readonly commitMessage?: string;
  /** When given, the merge is refused (409) unless the head is still at this sha. */
  readonly expectedHeadSha?: string;
}

/** Merges like the merge button: a new commit on the base branch, the pull request closed as merged. Returns the commit sha. */
export function mergePull(world: World, actor: string, pr: PullRequestRecord, options: MergeOptions = {}): string {
  if (!world.users.can(actor, 'write')) throw new HttpError(403, errorBody('Resource not accessible by integration', 403));
  if (pr.state !== 'open') throw new HttpError(405, errorBody('Pull Request is not mergeable', 405));
  const { headSha, baseSha } = pullShas(world, pr);
  if (options.expectedHeadSha && options.expectedHeadSha !== headSha) {
    throw new HttpError(409, errorBody('Head branch was modified. Review and try the merge again.', 409));
  }
  const tree = mergedTree(world, baseSha, headSha);
  if (tree === undefined) throw new HttpError(405, errorBody('Pull Request is not mergeable', 405));

  const method = options.method ?? 'merge';
  const sha =
    method === 'rebase'
      ? rebaseCommits(world, pr, baseSha, headSha)
      : writeMergeCommit(world, actor, pr, method, tree, baseSha, headSha, options);
  const now = world.clock.stamp();
  moveBranch(world, pr.pull.baseRef, sha);
  pr.pull.frozen = { headSha, baseSha };
  pr.pull.mergedAt = now;
  pr.pull.mergeCommitSha = sha;
  pr.pull.mergedBy = actor;
  setIssueState(world, pr, 'closed');
  return sha;
}

export function updatePullFields(
  world: World,
  pr: PullRequestRecord,
  fields: { title?: string; body?: string | null; base?: string },
): void {
  assertBodyFits('PullRequest', fields.body);
  if (fields.title !== undefined) pr.title = fields.title;
  if (fields.body !== undefined) pr.body = fields.body;
  if (fields.base !== undefined) {
    if (!world.branchSha(fields.base)) throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'invalid' });
    pr.pull.baseRef = fields.base;
  }
  touch(world, pr);
}

/** The tree of base merged with head, or undefined on a conflict. */
function mergedTree(world: World, baseSha: string, headSha: string): string | undefined {
  const { git } = world;
  const mergeBase = git.mergeBase(baseSha, headSha);
  const head = git.commit(headSha)!;
  if (mergeBase === baseSha) return head.tree;
  if (!mergeBase) return undefined;
  const result = mergeTrees(git, git.commit(mergeBase)!.tree, git.commit(baseSha)!.tree, head.tree);
  return result.kind === 'clean' ? result.tree : undefined;
}

function writeMergeCommit(
  world: World,
  actor: string,
  pr: PullRequestRecord,
  method: 'merge' | 'squash',
  tree: string,
  baseSha: string,
  headSha: string,
  options: MergeOptions,
): string {
  const squash = method === 'squash';
  const title =
    options.commitTitle ??
    (squash ? `${pr.title} (#${pr.number})` : `Merge pull request #${pr.number} from ${world.owner}/${pr.pull.headRef}`);
  const defaultBody = squash
    ? world.git
        .commitsBetween(baseSha, headSha)
        .map((c) => `* ${c.message}`)
        .join('\n\n')
    : pr.title;
  const message = `${title}\n\n${options.commitMessage ?? defaultBody}`;
  const date = world.clock.stamp();
  const sha = world.git.writeCommit({
    tree,
    parents: squash ? [baseSha] : [baseSha, headSha],
    author: world.person(actor, date),
    committer: world.person(WEB_FLOW.login, date),
    message,
  });
  world.signedCommits.add(sha);
  return sha;
}

/** Replays each head commit onto the base, keeping authors; GitHub refuses to rebase merge commits. */
function rebaseCommits(world: World, pr: PullRequestRecord, baseSha: string, headSha: string): string {
  const { git } = world;
  let current = baseSha;
  for (const commit of git.commitsBetween(baseSha, headSha)) {
    const parent = commit.parents.length === 1 ? git.commit(commit.parents[0]!) : undefined;
    const result = parent ? mergeTrees(git, parent.tree, git.commit(current)!.tree, commit.tree) : undefined;
    if (result?.kind !== 'clean') throw new HttpError(405, errorBody(`Pull Request #${pr.number} cannot be rebased`, 405));
    current = git.writeCommit({
      tree: result.tree,
      parents: [current],
      author: commit.author,
      committer: world.person(WEB_FLOW.login),
      message: commit.message,
    });
    world.signedCommits.add(current);
  }
  return current;
}

/** `branch` or `owner:branch` of this repository; undefined for another owner (forks are not simulated). */
function ownBranch(world: World, head: string): string | undefined {
  const colon = head.indexOf(':');
  if (colon < 0) return head;
  return head.slice(0, colon) === world.owner ? head.slice(colon + 1) : undefined;
}
