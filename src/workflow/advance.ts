import { ForeignCommitsError } from '../adapters/github/errors.js';
import type { PullRequestInfo } from '../adapters/github/ports.js';
import type { HealthGate, PhaseFacts } from '../core/gate.js';
import { lockRef, phaseBranch, phaseCommitMessage, phaseLabels, stateLabelName } from '../core/markers.js';
import type { NextMove } from '../core/next-move.js';
import type { PlannedPhase, UpgradePlan } from '../core/plan-types.js';
import type { PhaseRecord, UpgradeState } from '../core/state.js';
import { metrics } from '../observability/metrics.js';
import { describeGate, renderPullRequest } from '../text/render.js';
import { issueKey, type WorkflowEnv } from './context.js';
import { gateQuestion, phaseExpectations, touchedApplications } from './gate-question.js';
import { tellHandOver } from './hand-over.js';
import { type RepoView, replan } from './repo-view.js';
import { type Tracking, writeSticky } from './tracking.js';
import { beginWalk, type HandOver, isQuestion, step, type Walk, type WalkAction, type WalkObservation } from './walk.js';

/** Where a walk acts: the repo as read, and the sticky comment a hand-over links to. */
interface WalkSite {
  readonly view: RepoView;
  readonly stickyUrl: string;
  /** PRs this walk created (they carry the `waiting-for-you` state label from the start). */
  readonly opened: Set<number>;
  /** Hand-overs the command's reply tells (a failed gate's is told on its own: it carries the details). */
  readonly deferred: HandOver[] | null;
}

/** How a walk ended: the state shown, the next move, and why a `/upgrade continue` could not pass the current phase. */
export interface Advanced {
  /** A hand-over left to the command's reply to tell (`handOverInReply`), so the person gets one comment, not two. */
  readonly handOver: HandOver | null;
  readonly state: UpgradeState;
  readonly next: NextMove | null;
  readonly refusal: string | null;
  readonly stickyUrl: string;
}

/**
 * Walks the phases in order from the repo as it is now (walk.ts decides), performing what the walk
 * asks: reads PRs, plans, asks the gate, opens the next phase's PR, tells the person whose turn it
 * is, then rewrites the sticky comment.
 */
export async function advance(
  env: WorkflowEnv,
  tracking: Tracking,
  view: RepoView,
  options: { continued: boolean; plan?: UpgradePlan; handOverInReply?: boolean },
): Promise<Advanced> {
  const gate = env.gateFor(view.config);
  const context = { messages: env.messages, graceHours: view.config.scaleDownGraceHours, headSha: view.head.sha, base: view.base };
  const at: WalkSite = { view, stickyUrl: tracking.comment.htmlUrl, opened: new Set(), deferred: options.handOverInReply ? [] : null };
  let result = step(
    beginWalk(context, tracking.state, { continued: options.continued, plan: options.plan ?? null }),
    { kind: 'begin' },
    env.now(),
  );
  for (;;) {
    let question: WalkAction | null = null;
    for (const action of result.actions) {
      if (isQuestion(action)) question = action;
      else await perform(env, result.walk, action, at);
    }
    if (question === null) break;
    result = step(result.walk, await answer(env, gate, result.walk, question, at), env.now());
  }
  const { walk } = result;
  const written = await writeSticky(env, tracking, walk.state, walk.plan, walk.next, view, at.opened, {
    deferHandOver: at.deferred !== null,
  });
  // A pause found while writing replaces the walk's next move, and its hand-over the one left for the reply.
  const paused = written.next !== walk.next;
  return {
    state: written.state,
    next: written.next,
    refusal: walk.refusal,
    stickyUrl: tracking.comment.htmlUrl,
    handOver: paused ? written.handOver : (at.deferred?.at(-1) ?? null),
  };
}

async function perform(env: WorkflowEnv, walk: Walk, action: WalkAction, at: WalkSite): Promise<void> {
  const { state } = walk;
  switch (action.kind) {
    case 'schedule-check':
      env.scheduler?.schedule(issueKey(env, state.issue), action.delayMs, () => env.recheck(state.issue));
      return;
    case 'hand-over':
      if (at.deferred && !action.failure) {
        at.deferred.push(action);
        return;
      }
      return tellHandOver(env, walk.state, action, { stickyUrl: at.stickyUrl, reviewers: at.view.config.reviewers });
    case 'release-lock':
      await env.repo.releaseLockOf(lockRef(state.cluster), state.issue);
      env.log.info({ issue: state.issue, cluster: state.cluster, target: state.target }, 'upgrade completed');
      return;
    default:
      throw new Error(`not an effect: ${action.kind}`);
  }
}

async function answer(env: WorkflowEnv, gate: HealthGate, walk: Walk, question: WalkAction, at: WalkSite): Promise<WalkObservation> {
  const { state } = walk;
  const { view } = at;
  switch (question.kind) {
    case 'read-pull-request':
      return { kind: 'pull-request', pr: await env.repo.getPullRequest(question.pr) };
    case 'plan': {
      const planned = await replan(env, state, view);
      return planned.kind === 'planned' ? { kind: 'plan', plan: planned.plan } : { kind: 'plan-failed', reason: planned.reason };
    }
    case 'ask-gate':
      return askGate(env, gate, walk, state.phases[question.index]!, question.continued, view);
    case 'open-phase':
      return openPhase(env, state, question.index, question.planned, at);
    default:
      throw new Error(`not a question: ${question.kind}`);
  }
}

/** Asks the gate about a merged phase; the facts it asks for are read on demand, each once. */
async function askGate(
  env: WorkflowEnv,
  gate: HealthGate,
  walk: Walk,
  phase: PhaseRecord,
  continued: boolean,
  view: RepoView,
): Promise<WalkObservation> {
  const { state } = walk;
  let plan: Promise<UpgradePlan | null> | null = null;
  let planFailure: string | null = null;
  const planOnce = () =>
    (plan ??= walk.plan
      ? Promise.resolve(walk.plan)
      : replan(env, state, view).then((result) => {
          if (result.kind === 'planned') return result.plan;
          planFailure = result.reason;
          return null;
        }));
  const facts: PhaseFacts = {
    applications: async () => {
      const known = await planOnce();
      const files = phase.pr !== null ? await env.repo.listPullRequestFiles(phase.pr) : [];
      return touchedApplications(view.config, state, known, files);
    },
    expectations: async () => phaseExpectations(state, phase, await planOnce()),
  };
  const now = env.now();
  const outcome = await gate.evaluate(gateQuestion(state, phase, { continued, now, facts }));
  const { decision } = outcome;
  metrics.gateDecisions.inc({ gate: gate.metricLabel, decision: decision.status });
  if (decision.status === 'pass' && phase.gate.mergedAt) {
    metrics.phaseSeconds.observe(
      { phase: phase.id.replace(/-\d+$/, ''), gate: gate.metricLabel },
      (now.getTime() - Date.parse(phase.gate.mergedAt)) / 1000,
    );
  }
  env.log.info(
    { issue: state.issue, phase: phase.id, gate: gate.name, decision: decision.status, reason: describeGate(decision) },
    'gate decision',
  );
  return { kind: 'gate', outcome, plan: plan === null ? null : await plan, planFailure };
}

/** Branch, commit and PR of the next phase, if this issue holds the cluster and GitHub takes them. */
async function openPhase(
  env: WorkflowEnv,
  state: UpgradeState,
  index: number,
  planned: PlannedPhase,
  at: WalkSite,
): Promise<WalkObservation> {
  const { repo, log, messages } = env;
  const { view } = at;
  const branch = phaseBranch(state.cluster, state.target, index, planned.id);
  // Only the issue that holds the cluster opens its phases, whatever its stored state says.
  const ref = lockRef(state.cluster);
  let holder = await repo.readLock(ref);
  if (holder === undefined && (await repo.acquireLock(ref, state.issue, view.head)).kind === 'acquired') holder = state.issue;
  if (holder !== state.issue) {
    log.warn({ issue: state.issue, cluster: state.cluster, holder }, 'phase not opened: the cluster lock is held elsewhere');
    const by = holder ? `#${holder}` : messages.say('lock.another-upgrade');
    return { kind: 'opened', pr: null, paused: messages.say('reason.cluster-held', { cluster: state.cluster, holder: by }) };
  }
  const text = renderPullRequest(env.templates, state, planned, index, view.config.gate);
  const result = await repo.ensureBranchCommit(branch, view.head, planned.files, phaseCommitMessage(state.cluster, planned.title));
  if (result.kind === 'refused') {
    // A ruleset (or retries given up): asking again at once would get the same answer.
    log.warn({ issue: state.issue, branch }, 'phase branch refused by GitHub');
    return { kind: 'opened', pr: null, paused: result.reason };
  }
  if (result.kind === 'foreign-commits') {
    log.warn({ issue: state.issue, branch }, 'phase branch has foreign commits');
    const pr = await repo.findPullRequest(branch);
    return { kind: 'opened', pr: pr && pr.state === 'open' ? pr : null, paused: new ForeignCommitsError(branch).message };
  }
  const { pr, created }: { pr: PullRequestInfo; created: boolean } = await repo.ensurePullRequest(
    branch,
    view.base,
    text.title,
    text.body,
    [...phaseLabels(planned.id, view.config.labels), stateLabelName('waiting-for-you')],
  );
  if (created) at.opened.add(pr.number);
  log.info({ issue: state.issue, phase: planned.id, pr: pr.number, created, branch: result.kind }, 'phase pull request ensured');
  return { kind: 'opened', pr, paused: null };
}
