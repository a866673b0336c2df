import type { IssueComment } from '../adapters/github/ports.js';
import { isStateComment } from '../core/markers.js';
import type { NextMove } from '../core/next-move.js';
import type { UpgradePlan } from '../core/plan-types.js';
import { parseStateBlock, type UpgradeState } from '../core/state.js';
import { metrics } from '../observability/metrics.js';
import { type PlanView, renderPlanComment, toPlanView } from '../text/render.js';
import type { WorkflowEnv } from './context.js';
import { tellHandOver } from './hand-over.js';
import { type RepoView, replan } from './repo-view.js';
import { syncStateLabels } from './state-labels.js';
import { isActive, paused } from './upgrade-state.js';
import { type HandOver, handOverFor, pausedMove } from './walk.js';

/** An upgrade as its issue shows it: the state and the sticky comment that holds it. */
export interface Tracking {
  readonly state: UpgradeState;
  readonly comment: IssueComment;
  readonly comments: readonly IssueComment[];
}

/** The upgrade of an issue from its comments; the oldest state comment wins, should two replicas ever have written one each. */
export function trackingFrom(env: WorkflowEnv, issue: number, comments: readonly IssueComment[]): Tracking | null {
  for (const comment of comments) {
    if (!comment.byThisApp || !isStateComment(comment.body)) continue;
    const parsed = parseStateBlock(comment.body, env.stateKey, issue);
    if (parsed.kind === 'state') return { state: parsed.state, comment, comments };
    const reason = parsed.kind === 'invalid' || parsed.kind === 'unauthenticated' ? parsed.reason : 'none';
    env.log.warn(
      { comment: comment.id, reason },
      parsed.kind === 'unauthenticated' ? 'state block ignored: not authenticated' : 'unreadable state block',
    );
  }
  return null;
}

export async function findTracking(env: WorkflowEnv, issue: number): Promise<Tracking | null> {
  // The sticky comment is among the first on its issue: stop reading pages once it is found.
  const comment = await env.repo.findComment(
    issue,
    (c) => c.byThisApp && isStateComment(c.body) && parseStateBlock(c.body, env.stateKey, issue).kind === 'state',
  );
  return comment ? trackingFrom(env, issue, [comment]) : null;
}

/** Creates or updates the sticky comment; of two racing creations the oldest is kept. */
export async function ensureSticky(env: WorkflowEnv, issue: number, existing: IssueComment | null, body: string): Promise<IssueComment> {
  if (existing) {
    if (existing.body !== body) await env.repo.updateComment(existing.id, body);
    return { ...existing, body };
  }
  const created = await env.repo.createComment(issue, body);
  // Two deliveries racing on two replicas could each create one: keep the oldest.
  const others = (await env.repo.listIssueComments(issue)).filter((c) => c.byThisApp && isStateComment(c.body) && c.id !== created.id);
  const older = others.find((c) => c.id < created.id);
  if (older) {
    await env.repo.deleteComment(created.id);
    return older;
  }
  return created;
}

/** The sticky comment as written, with the next move it shows and a hand-over it found and left to the caller. */
export interface WrittenSticky extends Tracking {
  readonly next: NextMove | null;
  /** A pause found while writing (the repo no longer plans), when `deferHandOver`: the caller tells it. */
  readonly handOver: HandOver | null;
}

/** Rewrites the sticky comment with `state` (the plan re-read when none is at hand); returns the comment as written. */
export async function writeSticky(
  env: WorkflowEnv,
  tracking: Tracking,
  state: UpgradeState,
  plan: UpgradePlan | null,
  next: NextMove | null,
  view: RepoView,
  opened: ReadonlySet<number> = new Set(),
  options: { deferHandOver?: boolean } = {},
): Promise<WrittenSticky> {
  const previous = parseStateBlock(tracking.comment.body, env.stateKey, state.issue);
  if (previous.kind !== 'state' || previous.state.status !== state.status) metrics.upgrades.inc({ state: state.status });
  let planView: PlanView | null = plan ? toPlanView(plan, view.head.sha, view.base) : null;
  let shown = state;
  let move = next;
  let deferred: HandOver | null = null;
  if (!planView && isActive(state)) {
    const fresh = await replan(env, state, view);
    if (fresh.kind === 'planned') planView = toPlanView(fresh.plan, view.head.sha, view.base);
    else {
      // The repo no longer plans: paused, and that is a person's turn like any other pause.
      shown = structuredClone(paused(state, fresh.reason));
      move = pausedMove(shown.reason);
      const handOver = handOverFor(shown, move);
      if (handOver && options.deferHandOver) deferred = handOver;
      else if (handOver)
        await tellHandOver(env, shown, handOver, { stickyUrl: tracking.comment.htmlUrl, reviewers: view.config.reviewers });
    }
  }
  if (planView && shown.phases.some((p) => p.id === 'control-plane' && (p.status === 'passed' || p.status === 'done'))) {
    // Once our own control-plane phase is in, "already installed" is news to nobody.
    planView = { ...planView, warnings: planView.warnings.filter((w) => w.code !== 'target-already-installed') };
  }
  shown = await syncStateLabels(env, shown, move, opened);
  const body = renderPlanComment(env.templates, shown, planView, move, env.stateKey);
  if (body === tracking.comment.body) return { ...tracking, state: shown, next: move, handOver: deferred };
  await env.repo.updateComment(tracking.comment.id, body);
  return { ...tracking, state: shown, comment: { ...tracking.comment, body }, next: move, handOver: deferred };
}
