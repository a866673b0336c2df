import { CONFIG_PATH } from '../../config/repo-config.js';
import { isBotCommitMessage } from '../../core/markers.js';
import type { FileChange, RepoSnapshot } from '../../model/snapshot.js';
import { call, GitHubApiError, statusOf } from './errors.js';
import type { BranchHead, CommitStatus, ConfigRepo, EnsureBranchResult, IssueComment, PullRequestInfo, RepoRef } from './ports.js';
import { readTarball } from './read-tarball.js';
import { pauseBeforeRetry, REF_ATTEMPTS, refAnswerOf, refFailureReason } from './ref-errors.js';
import type { GitHubClient } from './ref-store.js';
import { GitHubRefStore } from './ref-store.js';

export type {
  BranchHead,
  CommitStatus,
  ConfigRepo,
  EnsureBranchResult,
  IssueComment,
  LockHolder,
  LockResult,
  PullRequestInfo,
  RepoRef,
} from './ports.js';

const KEEP = /(\.ya?ml|(^|\/)(Kustomization|Kptfile))$/;

/**
 * The cluster-config repo as the workflow sees it: read at a pinned commit, written through
 * idempotent ensure* operations (one commit per phase through the Git Data API, ref updates with
 * `force: false`). Every failure is wrapped once into a GitHubApiError.
 */
export class GitHubConfigRepo extends GitHubRefStore implements ConfigRepo {
  constructor(
    octokit: GitHubClient,
    ref: RepoRef,
    readonly botLogin: string | null = null,
  ) {
    super(octokit, ref);
  }

  /**
   * Whether a comment's author is this App. Without a configured login (development only: the
   * production start refuses to run without APP_SLUG) any GitHub App counts, and the state block's
   * HMAC is then the only safeguard.
   */
  private isThisApp(user: { login?: string; type?: string } | null | undefined): boolean {
    if (!user) return false;
    return this.botLogin !== null ? user.login === this.botLogin : user.type === 'Bot';
  }

  async getDefaultBranch(): Promise<string> {
    const { data } = await call('get repository', () => this.octokit.rest.repos.get({ ...this.ref }));
    return data.default_branch;
  }

  /** Head commit and tree of a branch, in one request. */
  async getBranchHead(branch: string): Promise<BranchHead> {
    const { data } = await call('get branch', () => this.octokit.rest.repos.getBranch({ ...this.ref, branch }));
    return { sha: data.commit.sha, treeSha: data.commit.commit.tree.sha };
  }

  /** Every YAML file at a commit, plus the repo config, from one tarball. */
  async readSnapshot(sha: string): Promise<{ snapshot: RepoSnapshot; configText: string | null }> {
    const { data } = await call('download tarball', () =>
      this.octokit.rest.repos.downloadTarballArchive({ ...this.ref, ref: sha, request: { parseSuccessResponseBody: false } }),
    );
    const bytes = await toBytes(data);
    const files = await readTarball(bytes, (path) => KEEP.test(path));
    const configText = files.get(CONFIG_PATH) ?? null;
    files.delete(CONFIG_PATH);
    return { snapshot: files, configText };
  }

  /** The repo config at a commit (one small request; null when absent). */
  async readConfigFile(sha: string): Promise<string | null> {
    try {
      const { data } = await this.octokit.rest.repos.getContent({ ...this.ref, path: CONFIG_PATH, ref: sha });
      if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return null;
      return Buffer.from(data.content, 'base64').toString('utf8');
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw new GitHubApiError('read config', statusOf(error), (error as Error).message);
    }
  }

  async getPermission(username: string): Promise<'admin' | 'write' | 'read' | 'none'> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({ ...this.ref, username });
      const permission = data.permission;
      return permission === 'admin' || permission === 'write' || permission === 'read' ? permission : 'none';
    } catch (error) {
      if (statusOf(error) === 404) return 'none';
      throw new GitHubApiError('get collaborator permission', statusOf(error), (error as Error).message);
    }
  }

  async listIssueComments(issue: number): Promise<IssueComment[]> {
    const comments = await call('list issue comments', () =>
      this.octokit.paginate(this.octokit.rest.issues.listComments, { ...this.ref, issue_number: issue, per_page: 100 }),
    );
    return comments.map((c) => ({
      id: c.id,
      body: c.body ?? '',
      login: c.user?.login ?? '',
      byThisApp: this.isThisApp(c.user),
      createdAt: c.created_at,
      htmlUrl: c.html_url,
    }));
  }

  /** The oldest comment that matches, reading only as many pages as needed. */
  async findComment(issue: number, matches: (comment: IssueComment) => boolean): Promise<IssueComment | null> {
    return call('list issue comments', async () => {
      for await (const page of this.octokit.paginate.iterator(this.octokit.rest.issues.listComments, {
        ...this.ref,
        issue_number: issue,
        per_page: 100,
      })) {
        for (const c of page.data) {
          const comment = {
            id: c.id,
            body: c.body ?? '',
            login: c.user?.login ?? '',
            byThisApp: this.isThisApp(c.user),
            createdAt: c.created_at,
            htmlUrl: c.html_url,
          };
          if (matches(comment)) return comment;
        }
      }
      return null;
    });
  }

  async createComment(issue: number, body: string): Promise<IssueComment> {
    const { data } = await call('create comment', () => this.octokit.rest.issues.createComment({ ...this.ref, issue_number: issue, body }));
    return {
      id: data.id,
      body: data.body ?? '',
      login: data.user?.login ?? '',
      byThisApp: true,
      createdAt: data.created_at,
      htmlUrl: data.html_url,
    };
  }

  async updateComment(id: number, body: string): Promise<void> {
    await call('update comment', () => this.octokit.rest.issues.updateComment({ ...this.ref, comment_id: id, body }));
  }

  async deleteComment(id: number): Promise<void> {
    await call('delete comment', () => this.octokit.rest.issues.deleteComment({ ...this.ref, comment_id: id }));
  }

  /** Adds a reaction; `existing` when the bot had already reacted (GitHub answers 200 instead of 201). */
  async react(commentId: number, content: 'eyes' | 'rocket' | 'confused' | '+1'): Promise<'new' | 'existing'> {
    const response = await call('add reaction', () =>
      this.octokit.rest.reactions.createForIssueComment({ ...this.ref, comment_id: commentId, content }),
    );
    return response.status === 200 ? 'existing' : 'new';
  }

  async addLabels(issue: number, labels: readonly string[]): Promise<void> {
    if (labels.length === 0) return;
    await call('add labels', () => this.octokit.rest.issues.addLabels({ ...this.ref, issue_number: issue, labels: [...labels] }));
  }

  async listLabels(issue: number): Promise<string[]> {
    const { data } = await call('list labels', () =>
      this.octokit.rest.issues.listLabelsOnIssue({ ...this.ref, issue_number: issue, per_page: 100 }),
    );
    return data.map((label) => label.name);
  }

  async setLabels(issue: number, labels: readonly string[]): Promise<void> {
    await call('set labels', () => this.octokit.rest.issues.setLabels({ ...this.ref, issue_number: issue, labels: [...labels] }));
  }

  /** The newest PR whose head is `branch` (open or closed). */
  async findPullRequest(branch: string): Promise<PullRequestInfo | null> {
    const { data } = await call('list pull requests', () =>
      this.octokit.rest.pulls.list({ ...this.ref, head: `${this.ref.owner}:${branch}`, state: 'all', per_page: 10 }),
    );
    const newest = [...data].sort((a, b) => b.number - a.number)[0];
    return newest ? toPullRequest(newest) : null;
  }

  async getPullRequest(number: number): Promise<PullRequestInfo> {
    const { data } = await call('get pull request', () => this.octokit.rest.pulls.get({ ...this.ref, pull_number: number }));
    return toPullRequest(data);
  }

  /**
   * Makes `branch` hold exactly one bot commit on top of `base` with `changes`, creating it if
   * needed. A branch that already has that content is adopted; a bot-only branch with other
   * content gets a new commit (a merge with the new base, so the PR diff stays clean); a branch with
   * commits from anyone else is left alone.
   */
  async ensureBranchCommit(branch: string, base: BranchHead, changes: readonly FileChange[], message: string): Promise<EnsureBranchResult> {
    let existing = await this.getRef(`heads/${branch}`);
    const { data: tree } = await call('create tree', () =>
      this.octokit.rest.git.createTree({
        ...this.ref,
        base_tree: base.treeSha,
        tree: changes.map((c) =>
          c.action === 'delete'
            ? { path: c.path, mode: '100644' as const, type: 'blob' as const, sha: null }
            : { path: c.path, mode: '100644' as const, type: 'blob' as const, content: c.content ?? '' },
        ),
      }),
    );
    // The tree and each commit are made once and reused by the retries: only the ref call repeats.
    let fresh: string | null = null;
    const onTop = new Map<string, string>();
    for (let attempt = 1; ; attempt++) {
      let commit: string;
      if (existing === null) {
        commit = fresh ??= await this.createCommit(message, tree.sha, [base.sha]);
      } else {
        const head = existing;
        const { data } = await call('get commit', () => this.octokit.rest.git.getCommit({ ...this.ref, commit_sha: head }));
        if (data.tree.sha === tree.sha) return { kind: 'unchanged', sha: head };
        if (!(await this.onlyBotCommits(base.sha, head))) return { kind: 'foreign-commits', sha: head };
        commit =
          onTop.get(head) ??
          (await this.createCommit(message, tree.sha, data.parents.some((p) => p.sha === base.sha) ? [head] : [head, base.sha]));
        onTop.set(head, commit);
      }
      try {
        if (existing === null) {
          await call('create branch', () => this.octokit.rest.git.createRef({ ...this.ref, ref: `refs/heads/${branch}`, sha: commit }));
          return { kind: 'created', sha: commit };
        }
        await call('update branch', () =>
          this.octokit.rest.git.updateRef({ ...this.ref, ref: `heads/${branch}`, sha: commit, force: false }),
        );
        return { kind: 'updated', sha: commit };
      } catch (error) {
        // Only a lost race (the branch exists, or moved) is looked at again; a refusal is final.
        const answer = refAnswerOf(error);
        if (answer === null) throw error;
        if (answer.kind === 'refused' || attempt >= REF_ATTEMPTS)
          return {
            kind: 'refused',
            reason: refFailureReason({ kind: 'branch', name: branch, update: existing !== null }, answer, attempt),
          };
        if (answer.kind === 'transient') await pauseBeforeRetry(attempt);
        else existing = await this.getRef(`heads/${branch}`);
      }
    }
  }

  /** Opens the PR of a branch, or adopts the open one and updates its title/body only when they differ. */
  async ensurePullRequest(
    branch: string,
    base: string,
    title: string,
    body: string,
    labels: readonly string[],
  ): Promise<{ pr: PullRequestInfo; created: boolean }> {
    const existing = await this.findPullRequest(branch);
    if (existing && existing.state === 'open') {
      if (existing.title !== title || existing.body !== body) {
        await call('update pull request', () => this.octokit.rest.pulls.update({ ...this.ref, pull_number: existing.number, title, body }));
      }
      return { pr: { ...existing, title, body }, created: false };
    }
    if (existing?.merged) return { pr: existing, created: false };
    try {
      const { data } = await call('create pull request', () =>
        this.octokit.rest.pulls.create({ ...this.ref, head: branch, base, title, body }),
      );
      await this.addLabels(data.number, labels);
      return { pr: toPullRequest(data), created: true };
    } catch (error) {
      if (error instanceof GitHubApiError && error.status === 422) {
        const raced = await this.findPullRequest(branch);
        if (raced && raced.state === 'open') return { pr: raced, created: false };
      }
      throw error;
    }
  }

  async listPullRequestFiles(number: number): Promise<string[]> {
    const files = await call('list pull request files', () =>
      this.octokit.paginate(this.octokit.rest.pulls.listFiles, { ...this.ref, pull_number: number, per_page: 100 }),
    );
    return files.map((f) => f.filename);
  }

  /** How `head` relates to `base`: identical, ahead (descends from base), behind, or diverged. */
  async compare(base: string, head: string): Promise<'identical' | 'ahead' | 'behind' | 'diverged'> {
    const { data } = await call('compare commits', () =>
      this.octokit.rest.repos.compareCommitsWithBasehead({ ...this.ref, basehead: `${base}...${head}`, per_page: 1 }),
    );
    return data.status;
  }

  /**
   * How `head` relates to `base`, and the commits after `base` up to `head`, oldest first (GitHub
   * lists at most the first 100 here; `head` itself is always added when it is not among them).
   */
  async commitsSince(base: string, head: string): Promise<{ status: 'identical' | 'ahead' | 'behind' | 'diverged'; commits: string[] }> {
    if (base === head) return { status: 'identical', commits: [] };
    const { data } = await call('compare commits', () =>
      this.octokit.rest.repos.compareCommitsWithBasehead({ ...this.ref, basehead: `${base}...${head}`, per_page: 100 }),
    );
    const commits = data.commits.map((c) => c.sha);
    if (data.status === 'ahead' && !commits.includes(head)) commits.push(head);
    return { status: data.status, commits };
  }

  /** Every commit status of a commit, newest first (several per context: a failure after a success shows). */
  async listCommitStatuses(sha: string): Promise<CommitStatus[]> {
    // The newest 300 are plenty for a head commit (GitHub keeps up to 1000 per context).
    let pages = 0;
    const statuses = await call('list commit statuses', () =>
      this.octokit.paginate(
        this.octokit.rest.repos.listCommitStatusesForRef,
        { ...this.ref, ref: sha, per_page: 100 },
        (response, done) => {
          if (++pages >= 3) done();
          return response.data;
        },
      ),
    );
    return statuses.map((s) => ({ context: s.context, state: s.state, description: s.description ?? null, createdAt: s.created_at }));
  }

  /** Open issues carrying a label (the tracking issues of running upgrades). */
  async listOpenIssues(label: string): Promise<number[]> {
    const issues = await call('list issues', () =>
      this.octokit.paginate(this.octokit.rest.issues.listForRepo, { ...this.ref, labels: label, state: 'open', per_page: 100 }),
    );
    return issues.filter((i) => !i.pull_request).map((i) => i.number);
  }

  async closePullRequest(number: number): Promise<void> {
    await call('close pull request', () => this.octokit.rest.pulls.update({ ...this.ref, pull_number: number, state: 'closed' }));
  }

  async deleteBranch(branch: string): Promise<void> {
    try {
      await this.octokit.rest.git.deleteRef({ ...this.ref, ref: `heads/${branch}` });
    } catch (error) {
      if (statusOf(error) !== 422 && statusOf(error) !== 404)
        throw new GitHubApiError('delete branch', statusOf(error), (error as Error).message);
    }
  }

  /** True when every commit on the branch since `base` was made by the bot. */
  private async onlyBotCommits(base: string, head: string): Promise<boolean> {
    const { data } = await call('compare', () =>
      this.octokit.rest.repos.compareCommitsWithBasehead({ ...this.ref, basehead: `${base}...${head}` }),
    );
    // By author, never by message: anyone who can push can write "mesh-upgrade: …". Without a
    // configured login (development) the message is all there is.
    return data.commits.every((c) =>
      this.botLogin !== null ? (c.author?.login ?? c.committer?.login ?? '') === this.botLogin : isBotCommitMessage(c.commit.message),
    );
  }
}

async function toBytes(data: unknown): Promise<Uint8Array> {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data instanceof Uint8Array) return data;
  if (data && typeof (data as ReadableStream).getReader === 'function')
    return new Uint8Array(await new Response(data as ReadableStream).arrayBuffer());
  if (data && typeof (data as Blob).arrayBuffer === 'function') return new Uint8Array(await (data as Blob).arrayBuffer());
  throw new GitHubApiError('download tarball', null, 'unexpected response body');
}

function toPullRequest(data: {
  number: number;
  state: string;
  merged_at?: string | null;
  merged?: boolean;
  merge_commit_sha?: string | null;
  title: string;
  body?: string | null;
  head: { ref: string; sha: string };
  html_url: string;
}): PullRequestInfo {
  const merged = data.merged ?? Boolean(data.merged_at);
  return {
    number: data.number,
    state: data.state === 'open' ? 'open' : 'closed',
    merged,
    mergeSha: merged ? (data.merge_commit_sha ?? null) : null,
    mergedAt: data.merged_at ?? null,
    title: data.title,
    body: data.body ?? '',
    headRef: data.head.ref,
    headSha: data.head.sha,
    htmlUrl: data.html_url,
  };
}
