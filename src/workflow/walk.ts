import type { GateDecision, GateOutcome } from '../core/gate.js';
import type { NextMove } from '../core/next-move.js';
import { phaseKindOf } from '../core/phase-ids.js';
import type { PlannedPhase, UpgradePlan } from '../core/plan-types.js';
import { newPhaseRecord, type UpgradeState } from '../core/state.js';
import { textDigest } from '../core/text-digest.js';
import type { Messages } from '../text/messages.js';
import { gateNote } from '../text/render.js';
import { isActive, isSettled, withPods } from './upgrade-state.js';

/**
 * The walk over the phases of one upgrade, decided without I/O: `step(walk, observation, now)`
 * returns the next walk and the actions to perform. An action is either an effect (report a gate
 * failure, schedule a check, release the lock) or a question (a PR's state, the plan, the gate's
 * answer, the phase PR opened) whose answer the executor (advance.ts) feeds back as the next
 * observation. The walk ends (`done`) with the state, the next move (who acts, and what they do),
 * and why a `/upgrade continue` could not pass the current phase, if it could not. When the next
 * move is a person's and a new hand-over, the walk asks for them to be told (once: the state keeps
 * the last hand-over told).
 */

/** What the walk needs to know beyond the state: words, and the repo config and head it runs at. */
interface WalkContext {
  readonly messages: Messages;
  /** The repo config's scaleDownGraceHours. */
  readonly graceHours: number;
  readonly headSha: string;
  readonly base: string;
}

export interface Walk {
  readonly context: WalkContext;
  readonly state: UpgradeState;
  /** The plan of the repo as it is, once known. */
  readonly plan: UpgradePlan | null;
  /** The phase the walk is at. */
  readonly index: number;
  /** The walk was started by `/upgrade continue`. */
  readonly byContinue: boolean;
  /** A `/upgrade continue` not yet spent on a phase (it passes one manual gate, not two). */
  readonly continued: boolean;
  readonly next: NextMove | null;
  readonly refusal: string | null;
  readonly done: boolean;
}

/** A phase PR as the walk needs it. */
export interface PullRequestFacts {
  readonly number: number;
  readonly state: 'open' | 'closed';
  readonly merged: boolean;
  readonly mergeSha: string | null;
  readonly mergedAt: string | null;
  readonly headRef: string;
}

export type WalkObservation =
  | { readonly kind: 'begin' }
  | { readonly kind: 'pull-request'; readonly pr: PullRequestFacts }
  /** The gate's outcome; `plan` when the gate's facts needed one, `planFailure` when planning was refused. */
  | { readonly kind: 'gate'; readonly outcome: GateOutcome; readonly plan: UpgradePlan | null; readonly planFailure: string | null }
  | { readonly kind: 'plan'; readonly plan: UpgradePlan }
  | { readonly kind: 'plan-failed'; readonly reason: string }
  /** The phase PR, or none; `paused` says why the upgrade cannot go on (lock held elsewhere, branch refused, foreign commits). */
  | { readonly kind: 'opened'; readonly pr: Pick<PullRequestFacts, 'number' | 'headRef'> | null; readonly paused: string | null };

export type WalkAction =
  | { readonly kind: 'read-pull-request'; readonly pr: number }
  | { readonly kind: 'ask-gate'; readonly index: number; readonly continued: boolean }
  | { readonly kind: 'plan' }
  | { readonly kind: 'open-phase'; readonly index: number; readonly planned: PlannedPhase }
  | HandOver
  | { readonly kind: 'schedule-check'; readonly delayMs: number }
  | { readonly kind: 'release-lock' };

/** Tell the person whose turn it is (a new comment that mentions them); a failed gate's comment says what failed. */
export interface HandOver {
  readonly kind: 'hand-over';
  /** What the hand-over is about (`review:gateways:5`). */
  readonly handover: string;
  /** Marks its comment: unique per upgrade and hand-over, so a walk redone after a crash finds it. */
  readonly marker: string;
  readonly text: string | null;
  readonly failure: { readonly index: number; readonly decision: Extract<GateDecision, { status: 'fail' }> } | null;
}

interface WalkStep {
  readonly walk: Walk;
  readonly actions: readonly WalkAction[];
}

/** Phases that point at, or depend on, the new control plane being there. */
const NEEDS_TARGET = new Set(['default-revision', 'scale-down', 'cleanup', 'operator-cleanup']);

export function beginWalk(context: WalkContext, state: UpgradeState, options: { continued: boolean; plan?: UpgradePlan | null }): Walk {
  return {
    context,
    // A plan given is made at this head (a start, a rollback).
    state: options.plan ? { ...state, plannedAt: context.headSha } : state,
    plan: options.plan ?? null,
    index: 0,
    byContinue: options.continued,
    continued: options.continued,
    next: null,
    refusal: null,
    done: false,
  };
}

/** The questions an action asks (the executor answers them with an observation). */
export function isQuestion(
  action: WalkAction,
): action is Extract<WalkAction, { kind: 'read-pull-request' | 'ask-gate' | 'plan' | 'open-phase' }> {
  return action.kind === 'read-pull-request' || action.kind === 'ask-gate' || action.kind === 'plan' || action.kind === 'open-phase';
}

/** Mutable while one step runs; the walk passed in is never changed (the state is copied first). */
type Draft = { -readonly [K in keyof Walk]: Walk[K] } & { state: UpgradeState };

export function step(walk: Walk, observation: WalkObservation, now: Date): WalkStep {
  if (walk.done) return { walk, actions: [] };
  const w: Draft = { ...walk, state: structuredClone(walk.state) };
  const actions: WalkAction[] = [];
  const say = w.context.messages.say;
  const { state } = w;
  let answer: WalkObservation | null = observation.kind === 'begin' ? null : observation;
  const ask = (action: WalkAction): WalkStep => ({ walk: w, actions: [...actions, action] });
  const pause = (reason: string) => {
    state.status = 'paused';
    state.reason = reason;
  };
  // The repo plans again: a pause it caused (a refused plan) is over. Whatever else paused the
  // upgrade (the lock, a branch, a missing control plane) is checked again further on and pauses anew.
  const resume = () => {
    if (state.status !== 'paused') return;
    state.status = 'running';
    state.reason = null;
  };
  const personNext = (text: string | null, handover: string) => {
    w.next = { actor: 'person', text, handover };
  };
  const botNext = (text: string) => {
    w.next = { actor: 'bot', text };
  };

  if (answer?.kind === 'plan') {
    // The remaining phases are planned from this commit now.
    w.plan = answer.plan;
    state.plannedAt = w.context.headSha;
    resume();
    answer = null;
  } else if (answer?.kind === 'plan-failed') {
    pause(answer.reason);
    return finish(w, actions);
  }

  for (; w.index < state.phases.length; w.index++) {
    const index = w.index;
    const phase = state.phases[index]!;
    if (isSettled(phase)) continue;
    if (phase.status === 'failed') {
      // A failed gate waits for a person: only `/upgrade continue` asks it again (decideContinue).
      if (state.status !== 'paused') pause(phase.note ?? say('note.closed-unmerged'));
      personNext(say('next.fix-cluster'), `gate-failed:${phase.id}:${phase.mergeSha ?? phase.pr}`);
      return finish(w, actions);
    }
    if (phase.status === 'closed' && phase.pr !== null) {
      // Reopened, or reopened and merged, since: follow the PR; still closed: stay paused.
      if (answer?.kind !== 'pull-request') return ask({ kind: 'read-pull-request', pr: phase.pr });
      if (answer.pr.state === 'closed' && !answer.pr.merged) {
        answer = null;
        pause(say('reason.closed-unmerged', { number: index + 1, id: phase.id }));
        personNext(say('next.reopen', { pr: String(phase.pr) }), `reopen:${phase.id}:${phase.pr}`);
        return finish(w, actions);
      }
      phase.status = 'open';
      phase.note = null;
      state.status = 'running';
      state.reason = null;
    }
    if (phase.status === 'closed') {
      pause(say('reason.closed-unmerged', { number: index + 1, id: phase.id }));
      personNext(say('next.reopen', { pr: String(phase.pr) }), `reopen:${phase.id}:${phase.pr}`);
      return finish(w, actions);
    }
    if (phase.status === 'open' && phase.pr !== null) {
      if (answer?.kind !== 'pull-request') return ask({ kind: 'read-pull-request', pr: phase.pr });
      const { pr } = answer;
      answer = null;
      if (pr.state === 'open') {
        personNext(say('next.review', { pr: pr.number }), `review:${phase.id}:${pr.number}`);
        return finish(w, actions);
      }
      if (!pr.merged) {
        phase.status = 'closed';
        phase.note = say('note.closed-unmerged');
        pause(say('reason.closed-unmerged', { number: index + 1, id: phase.id }));
        personNext(say('next.reopen', { pr: pr.number }), `reopen:${phase.id}:${pr.number}`);
        return finish(w, actions);
      }
      phase.status = 'merged';
      phase.mergeSha = pr.mergeSha;
      phase.gate = { mergedAt: pr.mergedAt, healthySince: null, wasHealthy: false };
    }
    // A manual-only phase (open, without a PR) is looked at again from the repo below, like a
    // pending one: what it must commit may have landed since.
    if (phase.status === 'merged') {
      phase.gate.mergedAt ??= now.toISOString();
      if (answer?.kind !== 'gate') return ask({ kind: 'ask-gate', index, continued: w.continued });
      const { outcome } = answer;
      w.plan ??= answer.plan;
      if (answer.planFailure !== null) pause(answer.planFailure);
      else if (answer.plan !== null) resume();
      answer = null;
      const { decision } = outcome;
      phase.gate.healthySince = outcome.healthySince?.toISOString() ?? null;
      phase.gate.wasHealthy = outcome.wasHealthy;
      phase.note = gateNote(decision, outcome.warnings);
      if (decision.status === 'wait') {
        // A gate that polls is asked again by a timer; the others wait for a person.
        if (outcome.retryAfterMs === undefined) {
          personNext(
            say('next.check-and-continue', { number: index + 1, pr: String(phase.pr) }),
            `check:${phase.id}:${phase.mergeSha ?? phase.pr}`,
          );
        } else {
          botNext(say('next.wait-for-argocd', { pr: String(phase.pr) }));
          actions.push({ kind: 'schedule-check', delayMs: outcome.retryAfterMs });
        }
        return finish(w, actions);
      }
      if (decision.status === 'fail') {
        phase.status = 'failed';
        pause(decision.reason);
        personNext(say('next.fix-cluster'), `gate-failed:${phase.id}:${phase.mergeSha ?? phase.pr}`);
        return finish(w, actions, { index, decision });
      }
      w.continued = false;
      phase.status = 'passed';
      continue;
    }
    // pending (or manual): generate it from the repo as it is now.
    if (w.plan === null) return ask({ kind: 'plan' });
    const plan = w.plan;
    if (adoptPlanShape(w, index, plan)) {
      w.index--;
      continue;
    }
    const planned = plan.phases.find((p) => p.id === phase.id);
    if (!planned || planned.status === 'done') {
      const wasManual = phase.status === 'open' && phase.pr === null;
      phase.status = wasManual ? 'passed' : 'done';
      phase.note = say(wasManual ? 'note.manual-result-seen' : planned ? 'note.already-in-repo' : 'note.no-longer-needed');
      if (wasManual) w.continued = false;
      continue;
    }
    const missing = missingTarget(w.context.messages, state, plan, planned);
    if (missing) {
      // Pointing the default, the validator or the istiod Service at a control plane that does
      // not exist, or deleting the only one, breaks the mesh: never proposed.
      pause(missing);
      phase.note = say('note.blocked-no-target');
      personNext(say('next.install-target', { target: state.target }), `install-target:${phase.id}`);
      if (w.byContinue) w.refusal = say('reply.phase-not-opened', { number: index + 1, title: phase.title, reason: missing });
      return finish(w, actions);
    }
    const previous = state.phases[index - 1];
    if (phase.id === 'cleanup' && previous?.id === 'scale-down' && previous.gate.mergedAt) {
      // The old istiod stays scaled down, and recoverable, for the grace period before it is deleted.
      const graceEnds = Date.parse(previous.gate.mergedAt) + w.context.graceHours * 3_600_000;
      if (now.getTime() < graceEnds) {
        const until = `${new Date(graceEnds).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
        phase.note = say('note.grace-period', { until });
        botNext(say('next.grace-period', { until, from: String(state.from) }));
        actions.push({ kind: 'schedule-check', delayMs: graceEnds - now.getTime() });
        return finish(w, actions);
      }
    }
    if (planned.blockedBy.length > 0) {
      // Cleanup waits until nothing in the repo uses the old revision any more.
      const users = `${planned.blockedBy.slice(0, 10).join(', ')}${planned.blockedBy.length > 10 ? ', …' : ''}`;
      pause(say('reason.old-revision-in-use', { from: String(state.from), users }));
      phase.note = say('note.blocked-old-revision');
      personNext(say('next.move-old-revision-users'), `old-revision-in-use:${phase.id}`);
      return finish(w, actions);
    }
    if (planned.files.length === 0) {
      phase.status = 'open';
      phase.note = say('note.manual-steps');
      if (planned.manualResult === 'repo') {
        // Its result is files: it passes when the repo shows them (above), not on a word.
        const sha = w.context.headSha.slice(0, 7);
        const missingResult =
          phase.id === 'control-plane' ? say('manual.no-control-plane', { sha, target: state.target }) : say('manual.no-result', { sha });
        phase.note = say('note.manual-waiting', { missing: missingResult });
        personNext(say('next.manual-commit', { number: index + 1, base: w.context.base }), `manual:${phase.id}`);
        if (w.continued)
          w.refusal = say('reply.manual-not-done', { number: index + 1, title: phase.title, missing: missingResult, base: w.context.base });
        return finish(w, actions);
      }
      if (w.continued) {
        w.continued = false;
        phase.status = 'passed';
        phase.note = say('note.manual-confirmed');
        continue;
      }
      personNext(say('next.manual-steps', { number: index + 1 }), `manual:${phase.id}`);
      return finish(w, actions);
    }
    if (answer?.kind !== 'opened') return ask({ kind: 'open-phase', index, planned });
    const opened = answer;
    answer = null;
    if (opened.paused !== null) pause(opened.paused);
    if (opened.pr === null) return finish(w, actions);
    phase.status = 'open';
    phase.pr = opened.pr.number;
    phase.branch = opened.pr.headRef;
    phase.note = null;
    personNext(say('next.review', { pr: opened.pr.number }), `review:${phase.id}:${opened.pr.number}`);
    return finish(w, actions);
  }
  return finish(w, actions);
}

/**
 * The walk ends: an upgrade whose phases all passed is complete, and its lock is given back; a
 * paused one waits for a person; a person whose turn is new is told.
 */
function finish(w: Draft, actions: WalkAction[], failure: HandOver['failure'] = null): WalkStep {
  const { state } = w;
  if (state.phases.every(isSettled) && isActive(state)) {
    state.status = state.mode === 'rollback' ? 'rolled-back' : 'completed';
    state.reason = null;
    actions.push({ kind: 'release-lock' });
  }
  if (state.status === 'paused' && w.next?.actor !== 'person') w.next = pausedMove(state.reason);
  if (!isActive(state)) w.next = null;
  const handOver = handOverFor(state, w.next, failure);
  if (handOver) actions.push(handOver);
  w.done = true;
  return { walk: w, actions };
}

/** The next move of an upgrade paused without a phase-specific step (the plan refused, the lock held elsewhere, a branch refused). */
export function pausedMove(reason: string | null): NextMove {
  return { actor: 'person', text: null, handover: `paused:${textDigest(reason ?? '')}` };
}

/**
 * Whether `next` is a new hand-over, recorded in `state` (changed in place): the person is told
 * once per hand-over. The bot's turn ends one, so the same hand-over later (a gate failing again
 * after a retry) is news again.
 */
export function handOverFor(state: UpgradeState, next: NextMove | null, failure: HandOver['failure'] = null): HandOver | null {
  if (next?.actor === 'bot') state.handover = null;
  if (next?.actor !== 'person' || next.handover === state.handover) return null;
  const first = state.handover === undefined;
  state.handover = next.handover;
  // A state written before hand-overs were told: this turn began then, and its people know.
  if (first) return null;
  state.handovers = (state.handovers ?? 0) + 1;
  const marker = `${next.handover}.u${textDigest(state.startedAt ?? state.plannedAt ?? state.target)}.${state.handovers}`;
  return { kind: 'hand-over', handover: next.handover, marker, text: next.text, failure };
}

/**
 * When the repo changed under a running upgrade (new workloads, other waves), the remaining phases
 * follow the new plan rather than the old list, so no wave is ever skipped. Returns true when the
 * list changed.
 */
function adoptPlanShape(w: Draft, from: number, plan: UpgradePlan): boolean {
  const { state } = w;
  const remaining = state.phases.slice(from).map((p) => p.id);
  const settled = new Set(state.phases.slice(0, from).map((p) => p.id));
  const planned = plan.phases.filter((p) => !settled.has(p.id));
  if (planned.length === remaining.length && planned.every((p, i) => p.id === remaining[i])) return false;
  const added = w.context.messages.say('note.added');
  state.phases = [...state.phases.slice(0, from), ...planned.map((p) => withPods(newPhaseRecord(p.id, p.title, 'pending', added), p.pods))];
  return true;
}

/**
 * Why a phase that needs the new control plane cannot be opened yet, or null: the default,
 * cleanup and what follows need istiod-<target> in the repo, or, where the control plane is
 * installed outside git, a passed control-plane phase (a maintainer's confirmation or the gate).
 */
function missingTarget(messages: Messages, state: UpgradeState, plan: UpgradePlan, planned: PlannedPhase): string | null {
  if (state.mode === 'rollback') return null;
  const kind = phaseKindOf(planned.id);
  if (!kind || !NEEDS_TARGET.has(kind)) return null;
  if (plan.inventory.revisions.some((r) => r.name === state.target)) return null;
  const controlPlane = state.phases.find((p) => p.id === 'control-plane');
  const confirmed = controlPlane !== undefined && isSettled(controlPlane);
  if (plan.install === 'external' && confirmed) return null;
  const phase = `${planned.title.charAt(0).toLowerCase()}${planned.title.slice(1)}`;
  return messages.say('reason.missing-target', { target: state.target, external: plan.install === 'external', phase });
}
