import type { UpgradeState } from '../../core/state.js';
import type { Messages } from '../../text/messages.js';
import { advance } from '../advance.js';
import type { WorkflowEnv } from '../context.js';
import { answerWithHandOver } from '../hand-over.js';
import { type CommandComment, replyOnce } from '../replies.js';
import type { RepoView } from '../repo-view.js';
import { findTracking } from '../tracking.js';
import { currentPhase, isActive } from '../upgrade-state.js';
import { statusReply } from './status.js';

type ContinueDecision =
  | { readonly kind: 'reply'; readonly text: string }
  /** The current phase's PR must be looked at first: open, it is still in review. */
  | { readonly kind: 'check-pull-request'; readonly pr: number; readonly inReview: string }
  /** Walk on from `state` (a closed phase opened again, a failed gate asked again). */
  | { readonly kind: 'resume'; readonly state: UpgradeState };

/** `/upgrade continue` on the issue's upgrade; `prOpen`: the current phase's PR was read and is open. */
export function decideContinue(messages: Messages, state: UpgradeState | null, prOpen: boolean | null = null): ContinueDecision {
  if (!state || !isActive(state)) return { kind: 'reply', text: messages.say('reply.continue-none') };
  const phase = currentPhase(state);
  if (phase?.status === 'open' && phase.pr !== null) {
    const inReview = messages.say('reply.continue-in-review', { title: phase.title, pr: phase.pr });
    if (prOpen === null) return { kind: 'check-pull-request', pr: phase.pr, inReview };
    if (prOpen) return { kind: 'reply', text: inReview };
  }
  const phases = state.phases.map((p) =>
    p === phase && (p.status === 'closed' || p.status === 'failed')
      ? { ...p, status: p.status === 'closed' ? ('pending' as const) : ('merged' as const), note: null }
      : p,
  );
  return { kind: 'resume', state: { ...state, phases, status: 'running', reason: null } };
}

/** `/upgrade continue`: passes a manual gate, or resumes after a pause. */
export async function continueUpgrade(env: WorkflowEnv, event: CommandComment, view: RepoView): Promise<void> {
  const tracking = await findTracking(env, event.issue);
  let decision = decideContinue(env.messages, tracking?.state ?? null);
  if (decision.kind === 'check-pull-request') {
    const pr = await env.repo.getPullRequest(decision.pr);
    decision = decideContinue(env.messages, tracking!.state, pr.state === 'open');
  }
  if (decision.kind === 'reply') return replyOnce(env, event, decision.text);
  if (decision.kind !== 'resume') return;
  const advanced = await advance(env, { ...tracking!, state: decision.state }, view, { continued: true, handOverInReply: true });
  const status = statusReply(env.messages, advanced.state, advanced.next, advanced.stickyUrl);
  const text =
    advanced.refusal ??
    env.messages.say(advanced.state.status === 'paused' ? 'reply.continue-still-paused' : 'reply.continued', { status });
  await answerWithHandOver(env, event, text, advanced, view.config.reviewers);
}
