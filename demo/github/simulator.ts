import { randomBytes } from 'node:crypto';
import { type FaultMatch, type InjectedResponse, type RecordedRequest, RequestDispatcher } from './dispatcher.js';
import { commitFileChanges, moveBranch } from './domain/git.js';
import { createComment, createIssue, requireComment, requireIssue, updateComment } from './domain/issues.js';
import { allPulls, closePull, mergePull, reopenPull, requirePull } from './domain/pulls.js';
import { type Ruleset, ruleViolationBody } from './domain/rulesets.js';
import { createStatus } from './domain/statuses.js';
import { errorBody } from './http.js';
import type { StatusState } from './records.js';
import type { Json } from './representations/common.js';
import { commentJson, issueJson, reactionJson } from './representations/issues.js';
import { pullJson } from './representations/pulls.js';
import { issueInstallationToken } from './routes/apps.js';
import type {
  IssueCommentCreatedPayload,
  IssueCommentEditedPayload,
  IssueCommentJson,
  IssueJson,
  IssuesOpenedPayload,
  PullRequestClosedPayload,
  PullRequestJson,
  ReactionJson,
  StatusPayload,
} from './types.js';
import type { Permission } from './users.js';
import {
  issueCommentCreatedPayload,
  issueCommentEditedPayload,
  issuesOpenedPayload,
  pullRequestClosedPayload,
  statusPayload,
} from './webhook-payloads.js';
import { deliverWebhook, signPayload, type WebhookReceiver, webhookPayloadValidator } from './webhooks.js';
import { World } from './world.js';

export type { FaultMatch, InjectedResponse, RecordedRequest } from './dispatcher.js';
export { MAX_BODY_CHARACTERS } from './domain/limits.js';
export type { RefOperation, Ruleset } from './domain/rulesets.js';
export type { ReactionContent, StatusState } from './records.js';
export type * from './types.js';
export type { Permission } from './users.js';
export type { WebhookReceiver } from './webhooks.js';

export interface GitHubSimulatorOptions {
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch?: string;
  /** The files of the initial commit on the default branch. */
  readonly files: ReadonlyMap<string, string>;
  readonly collaborators?: Readonly<Record<string, Permission>>;
  readonly webhookSecret: string;
  readonly appId: number;
  readonly installationId: number;
  readonly botLogin?: string;
  /** Clock for timestamps; by default time starts at 2024-01-01T00:00:00Z and advances 1s per write. */
  readonly now?: () => Date;
  /** Check every 2xx JSON answer against the OpenAPI response schema (a simulator self-check); default true. */
  readonly validateResponses?: boolean;
}

/**
 * GitHub's 422 answers to `POST /git/refs` (and `PATCH /git/refs/…`) besides a malformed request,
 * for `failNext`: the ref exists (a lost race), a transient "Reference update failed", and a
 * ruleset's refusal (`addRuleset` enforces one for good).
 */
export const REF_ANSWERS = {
  alreadyExists: { status: 422, body: errorBody('Reference already exists', 422) },
  updateFailed: { status: 422, body: errorBody('Reference update failed', 422) },
  ruleViolation: (...violations: string[]): InjectedResponse => ({
    status: 422,
    body: ruleViolationBody(violations.length > 0 ? violations : ['Cannot create ref due to creations being restricted.']),
  }),
} as const satisfies Record<string, InjectedResponse | ((...args: string[]) => InjectedResponse)>;

/** Who sets commit statuses through `setStatus` (a CI system's App). */
export const STATUS_CREATOR = 'github-actions[bot]';

/**
 * An in-process GitHub for one repository with one App installed on it. Inject `fetch` into an
 * Octokit (`request: { fetch: sim.fetch }`); drive the human side with `commentAs`,
 * `mergePullRequest`, … which change state directly and return the webhook payload GitHub would
 * send; deliver those with `deliver`. `violations` lists every request GitHub would not have
 * understood; tests assert it stays empty.
 */
export class GitHubSimulator {
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch: string;
  readonly botLogin: string;
  readonly appId: number;
  readonly installationId: number;
  /** A `fetch` for Octokit; it serves `https://api.github.com/...`. */
  readonly fetch: typeof fetch;
  private readonly webhookSecret: string;
  private readonly world: World;
  private readonly dispatcher: RequestDispatcher;

  constructor(options: GitHubSimulatorOptions) {
    this.owner = options.owner;
    this.repo = options.repo;
    this.defaultBranch = options.defaultBranch ?? 'main';
    this.botLogin = options.botLogin ?? 'mesh-upgrade-bot[bot]';
    this.appId = options.appId;
    this.installationId = options.installationId;
    this.webhookSecret = options.webhookSecret;
    this.world = new World({
      owner: options.owner,
      repo: options.repo,
      defaultBranch: this.defaultBranch,
      files: options.files,
      collaborators: options.collaborators ?? {},
      appId: options.appId,
      installationId: options.installationId,
      botLogin: this.botLogin,
      now: options.now,
    });
    this.dispatcher = new RequestDispatcher(this.world, options.validateResponses ?? true);
    this.fetch = (input, init) => this.dispatcher.handle(input, init);
  }

  // ---- the HTTP side ------------------------------------------------------------------------

  /** Requests GitHub would have rejected as unknown or malformed (and simulator self-check failures). */
  get violations(): string[] {
    return this.dispatcher.violations;
  }

  /** Every request, in order. */
  get requests(): RecordedRequest[] {
    return this.dispatcher.requests;
  }

  resetRequestLog(): void {
    this.dispatcher.requests.length = 0;
  }

  /** Answers the next `times` matching requests with `response` instead of handling them (state is untouched). */
  failNext(match: FaultMatch, response: InjectedResponse, times = 1): void {
    this.dispatcher.failNext(match, response, times);
  }

  /** Forgets the faults not answered yet. */
  clearFaults(): void {
    this.dispatcher.clearFaults();
  }

  /** Adds a repository ruleset that the git refs API enforces until it is removed. */
  addRuleset(ruleset: Ruleset): void {
    this.world.rulesets.push(ruleset);
  }

  removeRuleset(name: string): void {
    const index = this.world.rulesets.findIndex((r) => r.name === name);
    if (index >= 0) this.world.rulesets.splice(index, 1);
  }

  /** An installation token for the App's bot, without the JWT round trip. */
  createInstallationToken(): string {
    return issueInstallationToken(this.world);
  }

  /** A personal access token acting as `login` (for tests that call the API as a human). */
  createUserToken(login: string): string {
    const token = `ghp_sim${randomBytes(16).toString('hex')}`;
    this.world.tokens.set(token, login);
    return token;
  }

  // ---- webhooks -----------------------------------------------------------------------------

  /** `sha256=…` for a serialised payload, with the App's webhook secret. */
  signPayload(payload: string): Promise<string> {
    return signPayload(this.webhookSecret, payload);
  }

  /** Validates, signs and delivers a payload to e.g. `probot.webhooks`; returns the delivery id. */
  deliver(target: WebhookReceiver, name: string, payload: unknown, options: { id?: string } = {}): Promise<string> {
    return deliverWebhook(target, this.webhookSecret, name, payload, options);
  }

  // ---- the human side (no HTTP; each returns the webhook payload GitHub would send) ----------

  /** A comment by `login` (anyone may comment); returns it and its `issue_comment.created` payload. */
  commentAs(login: string, issueNumber: number, body: string): { comment: IssueCommentJson; payload: IssueCommentCreatedPayload } {
    const comment = createComment(this.world, login, issueNumber, body);
    const payload = checked<IssueCommentCreatedPayload>(
      'issue_comment',
      issueCommentCreatedPayload(this.world, requireIssue(this.world, issueNumber), comment),
    );
    return { comment: commentJson(this.world, comment) as unknown as IssueCommentJson, payload };
  }

  /**
   * `login` edits a comment (anyone with write access may edit others' comments, e.g. tick a box);
   * returns the `issue_comment.edited` payload.
   */
  editCommentAs(login: string, commentId: number, edit: (body: string) => string): IssueCommentEditedPayload {
    const comment = requireComment(this.world, commentId);
    if (comment.author !== login && !this.world.users.can(login, 'write'))
      throw new Error(`${login} may not edit comment ${commentId}: only its author and collaborators with write access may`);
    const from = comment.body;
    updateComment(this.world, comment, edit(from));
    return checked<IssueCommentEditedPayload>(
      'issue_comment',
      issueCommentEditedPayload(this.world, requireIssue(this.world, comment.issueNumber), comment, from, login),
    );
  }

  /** An issue opened by `login`; returns it and its `issues.opened` payload. */
  openIssue(login: string, title: string, body: string): { issue: IssueJson; payload: IssuesOpenedPayload } {
    const issue = createIssue(this.world, login, { title, body });
    return {
      issue: issueJson(this.world, issue) as unknown as IssueJson,
      payload: checked<IssuesOpenedPayload>('issues', issuesOpenedPayload(this.world, issue)),
    };
  }

  /** Merges as `login` would with the merge button (needs write access); returns the `pull_request.closed` payload. */
  mergePullRequest(number: number, login: string): PullRequestClosedPayload {
    const pr = requirePull(this.world, number);
    mergePull(this.world, login, pr);
    return checked<PullRequestClosedPayload>('pull_request', pullRequestClosedPayload(this.world, pr, login));
  }

  /** Reopens a PR closed without merging (as the Reopen button does; the app acts on its later merge). */
  reopenPullRequest(number: number, login: string): void {
    if (!this.world.users.can(login, 'triage')) throw new Error(`${login} may not reopen #${number}`);
    reopenPull(this.world, requirePull(this.world, number));
  }

  /** Closes without merging (needs triage access, or being the author); returns the `pull_request.closed` payload. */
  closePullRequest(number: number, login: string): PullRequestClosedPayload {
    const pr = requirePull(this.world, number);
    closePull(this.world, login, pr);
    return checked<PullRequestClosedPayload>('pull_request', pullRequestClosedPayload(this.world, pr, login));
  }

  /**
   * A commit by `login` on `branch` (created from the default branch when missing) setting each
   * path to its text, or deleting it for null. Returns the new commit sha.
   */
  pushCommit(
    branch: string,
    files: ReadonlyMap<string, string | null> | Readonly<Record<string, string | null>>,
    message: string,
    login: string,
  ): string {
    if (!this.world.users.can(login, 'write')) throw new Error(`${login} may not push to ${this.owner}/${this.repo}`);
    const parent = this.world.branchSha(branch) ?? this.world.branchSha(this.defaultBranch)!;
    const changes = files instanceof Map ? files : new Map(Object.entries(files));
    const sha = commitFileChanges(this.world, parent, changes, message, login);
    moveBranch(this.world, branch, sha);
    return sha;
  }

  /** A commit status from CI (`github-actions[bot]`); returns the `status` payload. */
  setStatus(sha: string, state: StatusState, context: string, description: string | null, targetUrl?: string): StatusPayload {
    const status = createStatus(this.world, STATUS_CREATOR, sha, { state, context, description, targetUrl: targetUrl ?? null });
    return checked<StatusPayload>('status', statusPayload(this.world, status));
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /** Text of every file at a branch, tag or commit sha. */
  filesAt(ref: string): Map<string, string> {
    const sha = this.world.git.resolveCommit(ref);
    if (!sha) throw new Error(`unknown ref ${ref}`);
    return this.world.git.readTextFiles(this.world.git.commit(sha)!.tree);
  }

  /** Every pull request as `GET /pulls/{n}` shows it, by number. */
  pullRequests(): PullRequestJson[] {
    return allPulls(this.world)
      .sort((a, b) => a.number - b.number)
      .map((pr) => pullJson(this.world, pr) as unknown as PullRequestJson);
  }

  /** An issue (or the issue side of a pull request) as `GET /issues/{n}` shows it. */
  issue(number: number): IssueJson {
    return issueJson(this.world, requireIssue(this.world, number)) as unknown as IssueJson;
  }

  /** The comments of an issue or pull request, oldest first, as the REST API shows them. */
  comments(issueNumber: number): IssueCommentJson[] {
    return this.world.records.commentsOn(issueNumber).map((c) => commentJson(this.world, c) as unknown as IssueCommentJson);
  }

  /** Mentions GitHub would have notified: one per `@login` in each comment as created, oldest first. */
  mentions(issueNumber: number): ReadonlyArray<{ login: string; commentId: number }> {
    return this.world.records.mentions.filter((m) => m.issueNumber === issueNumber).map(({ login, commentId }) => ({ login, commentId }));
  }

  /** Reactions to an issue comment, oldest first. */
  reactions(commentId: number): ReactionJson[] {
    return this.world.records.reactionsTo(`comment:${commentId}`).map((r) => reactionJson(this.world, r) as unknown as ReactionJson);
  }

  /** Branch name → head commit sha. */
  branches(): Map<string, string> {
    const heads = this.world.git.allRefs().filter(([name]) => name.startsWith('refs/heads/'));
    return new Map(heads.map(([name, sha]) => [name.slice('refs/heads/'.length), sha]));
  }

  /** Every ref (`refs/heads/…`, lock refs, …) → sha. */
  refs(): Map<string, string> {
    return new Map(this.world.git.allRefs());
  }
}

/** Payloads the simulator builds must be valid: a failure here is a simulator bug. */
function checked<T>(name: string, payload: Json): T {
  webhookPayloadValidator().assertValid(name, payload);
  return payload as unknown as T;
}
