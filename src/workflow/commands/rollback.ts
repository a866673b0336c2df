import { lockRef } from '../../core/markers.js';
import type { UpgradePlan } from '../../core/plan-types.js';
import type { UpgradeState } from '../../core/state.js';
import type { Messages } from '../../text/messages.js';
import { advance } from '../advance.js';
import type { WorkflowEnv } from '../context.js';
import { answerWithHandOver } from '../hand-over.js';
import { type CommandComment, replyOnce } from '../replies.js';
import { planFor, type RepoView } from '../repo-view.js';
import { findTracking } from '../tracking.js';
import { closeOpenPhases, isActive, phaseRecordsOf } from '../upgrade-state.js';
import { closePullRequests } from './abort.js';

type RollbackDecision = { readonly kind: 'reply'; readonly text: string } | { readonly kind: 'plan'; readonly state: UpgradeState };

/** Whether the issue's upgrade can be rolled back; refused once the old control plane is gone. */
export function decideRollback(messages: Messages, state: UpgradeState | null): RollbackDecision {
  if (!state) return { kind: 'reply', text: messages.say('reply.rollback-none') };
  if (state.mode === 'rollback') {
    return {
      kind: 'reply',
      text: isActive(state)
        ? messages.say('reply.rollback-under-way')
        : state.status === 'rolled-back'
          ? messages.say('reply.rollback-done', { target: state.target })
          : messages.say('reply.rollback-aborted', { target: state.target }),
    };
  }
  const cleanedUp =
    state.status === 'completed' || state.phases.some((p) => p.id === 'cleanup' && ['merged', 'passed', 'done'].includes(p.status));
  if (cleanedUp) return { kind: 'reply', text: messages.say('reply.rollback-after-cleanup', { from: String(state.from) }) };
  return { kind: 'plan', state };
}

/** The state of the way back: the rollback plan's phases, running. */
export function rollbackState(messages: Messages, state: UpgradeState, plan: UpgradePlan, author: string, now: Date): UpgradeState {
  return {
    ...state,
    mode: 'rollback',
    target: plan.to.revision,
    targetVersion: plan.to.version,
    from: plan.from.revision,
    fromVersion: plan.from.version,
    status: 'running',
    reason: messages.say('reason.rollback-requested', { user: author }),
    phases: phaseRecordsOf(plan),
    history: state.phases,
    startedAt: now.toISOString(),
  };
}

/**
 * `/upgrade rollback`: the merged phases are undone as reviewed PRs, derived from the repo as it is
 * (applications, gateways, then tags and Service back, then the new control plane removed).
 */
export async function rollback(env: WorkflowEnv, event: CommandComment, view: RepoView): Promise<void> {
  const { messages } = env;
  const tracking = await findTracking(env, event.issue);
  const decision = decideRollback(messages, tracking?.state ?? null);
  if (decision.kind === 'reply') return replyOnce(env, event, decision.text);
  const { state } = decision;
  const planned = await planFor(env, view, state.path, { kind: 'rollback', state });
  if (planned.kind === 'refused') return replyOnce(env, event, messages.say('reply.rollback-refused', { reason: planned.reason }));
  const closed = closeOpenPhases(state, messages.say('note.closed-by-rollback'));
  await closePullRequests(env, closed.pullRequests);
  const lock = await env.repo.acquireLock(lockRef(state.cluster), state.issue, view.head);
  if (lock.kind === 'refused') return replyOnce(env, event, messages.say('reply.error', { reason: lock.reason }));
  if (lock.kind === 'held')
    return replyOnce(env, event, messages.say('reply.rollback-cluster-held', { cluster: state.cluster, issue: String(lock.issue) }));
  const back = rollbackState(messages, closed.state, planned.plan, event.author, env.now());
  env.log.info({ issue: state.issue, cluster: state.cluster, back: back.target, phases: back.phases.length }, 'rollback planned');
  const advanced = await advance(env, { ...tracking!, state: back }, view, { continued: false, plan: planned.plan, handOverInReply: true });
  const count = back.phases.filter((p) => p.status !== 'done').length;
  const text = messages.say('reply.rolling-back', { cluster: state.cluster, from: state.target, to: back.target, count });
  await answerWithHandOver(env, event, text, advanced, view.config.reviewers);
}
