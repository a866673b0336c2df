import type { ConfigRepo } from '../adapters/github/ports.js';
import { meetsPermission, type RepoConfig } from '../config/repo-config.js';
import { type CommandParse, parseCommand } from '../core/command.js';
import type { HealthGate } from '../core/gate.js';
import { replyMarker, UPGRADE_LABEL } from '../core/markers.js';
import { type StateKey, stateKeyForRepo } from '../core/state.js';
import { newlyTicked, untick } from '../core/sticky-actions.js';
import type { Templates } from '../text/templates.js';
import { abort } from './commands/abort.js';
import { continueUpgrade } from './commands/continue.js';
import { help, invalidCommand } from './commands/help.js';
import { rollback } from './commands/rollback.js';
import { start } from './commands/start.js';
import { status } from './commands/status.js';
import { type GateScheduler, issueKey, type WorkflowEnv } from './context.js';
import { onCommitStatus, onPullRequestClosed, type PullRequestClosedEvent, recheck } from './events.js';
import type { Logger } from './logger.js';
import { refuseOutsider, replyOnce } from './replies.js';
import { readRepo } from './repo-view.js';
import type { WorkflowServices } from './services.js';
import { findTracking } from './tracking.js';

export type { GateScheduler } from './context.js';
export type { PullRequestClosedEvent } from './events.js';
export type { WorkflowServices } from './services.js';

interface WorkflowDeps {
  readonly repo: ConfigRepo;
  readonly templates: Templates;
  /** Authenticates the state block of the sticky comment (derived from the App's secret). */
  readonly stateKey: StateKey;
  readonly gateFor: (config: RepoConfig) => HealthGate;
  readonly log: Logger;
  readonly now: () => Date;
  readonly scheduler: GateScheduler | null;
  /** The installation this repo belongs to (kept in the state for reconciling after a restart). */
  readonly installation: number | null;
  /** The per-issue mutex and the plan cache every workflow of the app shares. */
  readonly services: WorkflowServices;
}

interface CommentEvent {
  readonly issue: number;
  readonly commentId: number;
  readonly body: string;
  readonly author: string;
  readonly replyKey?: string;
}

/** An `issue_comment.edited` event from a person. */
interface CommentEditEvent {
  readonly issue: number;
  readonly commentId: number;
  readonly before: string;
  readonly after: string;
  readonly editor: string;
  /** The webhook delivery (a redelivery keeps it). */
  readonly delivery: string;
}

/** Permission asked for when the repo config cannot be read (the config's own default). */
const DEFAULT_PERMISSION = 'write';

/**
 * One step of one upgrade at a time: read the repo at a pinned commit, plan, ask the gate, and make
 * sure the branch, commit, PR and sticky comment are what they should be. Every step is derived
 * from GitHub as it is, so a replayed event or a restarted bot does the same thing again, or nothing.
 * This class only routes events; each command lives in commands/, the walk over the phases in walk.ts
 * (decide) and advance.ts (act).
 */
export class UpgradeWorkflow {
  private readonly env: WorkflowEnv;

  constructor(deps: WorkflowDeps) {
    const { repo } = deps;
    this.env = {
      repo,
      templates: deps.templates,
      messages: deps.templates.messages,
      stateKey: stateKeyForRepo(deps.stateKey, `${repo.ref.owner}/${repo.ref.repo}`),
      gateFor: deps.gateFor,
      log: deps.log,
      now: deps.now,
      scheduler: deps.scheduler,
      installation: deps.installation,
      services: deps.services,
      firstSighting: new Set(),
      recheck: (issue) => this.recheck(issue),
    };
  }

  /** An `issue_comment.created` event from a person. */
  async onComment(event: CommentEvent): Promise<void> {
    const parsed = parseCommand(event.body);
    if (parsed.kind === 'none') return;
    const { env } = this;
    // Acknowledge at once; the reaction also tells a redelivery from a new comment.
    const reaction = await env.repo.react(event.commentId, 'eyes');
    if (reaction === 'new') env.firstSighting.add(event.commentId);
    env.log.info({ issue: event.issue, comment: event.commentId, redelivery: reaction === 'existing' }, 'upgrade command received');
    await env.services.locks.run(issueKey(env, event.issue), () => this.handleCommand(event, parsed));
  }

  /**
   * A comment was edited. A box ticked in the sticky comment runs the command it names, as if typed
   * by the person who ticked it (same permission check); then the boxes are unticked. Every other
   * edit is ignored: an edited comment never becomes a command.
   */
  async onCommentEdited(event: CommentEditEvent): Promise<void> {
    const actions = newlyTicked(event.before, event.after);
    if (actions.length === 0) return;
    const { env } = this;
    await env.services.locks.run(issueKey(env, event.issue), async () => {
      // Only the sticky comment's boxes count.
      const tracking = await findTracking(env, event.issue);
      if (!tracking || tracking.comment.id !== event.commentId) return;
      for (const action of actions) {
        // One answer per tick: a redelivery (same delivery id) finds it and does nothing more.
        // The delivery id is a header (not covered by the signature): only its GUID characters go into a marker.
        const replyKey = `${event.commentId}-${action}-${event.delivery.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64)}`;
        const comments = await env.repo.listIssueComments(event.issue);
        if (comments.some((c) => c.byThisApp && c.body.includes(replyMarker(replyKey)))) continue;
        env.log.info({ issue: event.issue, user: event.editor, action }, 'box ticked in the sticky comment');
        const command: CommentEvent = { issue: event.issue, commentId: event.commentId, body: '', author: event.editor, replyKey };
        await this.handleCommand(command, { kind: 'command', command: { kind: action } });
      }
      const after = await findTracking(env, event.issue);
      const unticked = after ? untick(after.comment.body, actions) : null;
      if (after && unticked !== after.comment.body) await env.repo.updateComment(after.comment.id, unticked!);
    });
  }

  /** Permission first: nobody without it learns more than that, malformed command or not. */
  private async handleCommand(event: CommentEvent, parsed: Exclude<CommandParse, { kind: 'none' }>): Promise<void> {
    const { env } = this;
    // No role at all is refused before the repo is read: an outsider's comment costs one request.
    const permission = await env.repo.getPermission(event.author);
    const read = permission === 'none' ? null : await readRepo(env);
    const required = read?.kind === 'read' ? read.view.config.permission : DEFAULT_PERMISSION;
    if (read === null || !meetsPermission(permission, required)) {
      env.log.warn({ issue: event.issue, user: event.author, permission, required }, 'command refused: permission');
      await refuseOutsider(env, event, required);
      return;
    }
    if (read.kind === 'bad-config') return replyOnce(env, event, env.messages.say('reply.error', { reason: read.reason }));
    if (parsed.kind === 'invalid') return invalidCommand(env, event, parsed.message);
    const { view } = read;
    const { command } = parsed;
    switch (command.kind) {
      case 'help':
        return help(env, event);
      case 'start':
        return start(env, event, command, view);
      case 'status':
        return status(env, event, view);
      case 'continue':
        return continueUpgrade(env, event, view);
      case 'abort':
        return abort(env, event, view);
      case 'rollback':
        return rollback(env, event, view);
    }
  }

  /** A phase PR was closed: merged → ask the gate; closed unmerged → pause. */
  onPullRequestClosed(event: PullRequestClosedEvent): Promise<void> {
    return onPullRequestClosed(this.env, event);
  }

  /** Re-evaluates the gate of one upgrade (a timer, a commit status, or the startup reconcile). */
  recheck(issue: number): Promise<void> {
    return recheck(this.env, issue);
  }

  /** A commit status arrived: re-check the upgrades whose merged phase it may concern. */
  onCommitStatus(sha: string, state: string): Promise<void> {
    return onCommitStatus(this.env, sha, state);
  }

  /** Every running upgrade of this repo, re-checked (on startup and periodically). */
  async reconcileAll(): Promise<number> {
    const issues = await this.env.repo.listOpenIssues(UPGRADE_LABEL);
    for (const issue of issues) await this.recheck(issue);
    return issues.length;
  }
}
