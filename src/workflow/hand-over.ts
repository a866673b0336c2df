import { handoverMarker } from '../core/markers.js';
import type { UpgradeState } from '../core/state.js';
import { plainText } from '../core/user-text.js';
import { fitComment, mentionsOf, renderResourceTable } from '../text/render.js';
import type { WorkflowEnv } from './context.js';
import { answerOnce, type CommandComment } from './replies.js';
import type { HandOver } from './walk.js';

/**
 * Tells the person whose turn it is, in a new comment that mentions the requester and the repo
 * config's reviewers (edits of the sticky comment notify nobody). A failed gate's hand-over is the
 * comment that says what is unhealthy. Marked, so a walk that died before writing its state does
 * not tell them twice.
 */
export async function tellHandOver(
  env: WorkflowEnv,
  state: UpgradeState,
  action: HandOver,
  at: { readonly stickyUrl: string; readonly reviewers: readonly string[] },
): Promise<void> {
  const marker = handoverMarker(action.marker);
  const comments = await env.repo.listIssueComments(state.issue);
  if (comments.some((c) => c.byThisApp && c.body.includes(marker))) return;
  const who = mentionsOf([state.requestedBy, ...at.reviewers]);
  let text: string;
  if (action.failure) {
    const phase = state.phases[action.failure.index]!;
    const { decision } = action.failure;
    text = env.messages.say('comment.gate-failed', {
      who,
      title: phase.title,
      pr: String(phase.pr),
      reason: plainText(decision.reason),
      table: renderResourceTable(decision.resources),
      url: at.stickyUrl,
    });
  } else {
    text = env.messages.say('comment.handover', {
      who,
      cluster: state.cluster,
      next: action.text === null ? null : plainText(action.text),
      // Said as a sentence of its own: one full stop at its end.
      reason: `${plainText(state.reason ?? '').replace(/[.\s]+$/, '')}.`,
      url: at.stickyUrl,
    });
  }
  await env.repo.createComment(state.issue, fitComment(`${text}\n${marker}`, marker));
}

/**
 * Answers a command and tells, in that same comment, the hand-over its walk led to (one comment,
 * not two). A redelivered command whose answer exists already tells the hand-over on its own.
 */
export async function answerWithHandOver(
  env: WorkflowEnv,
  event: CommandComment,
  text: string,
  advanced: { readonly state: UpgradeState; readonly handOver: HandOver | null; readonly stickyUrl: string },
  reviewers: readonly string[],
): Promise<void> {
  const { state, handOver } = advanced;
  const notice = handOver ? { who: mentionsOf([state.requestedBy, ...reviewers]), marker: handoverMarker(handOver.marker) } : null;
  const answered = await answerOnce(env, event, text, null, notice);
  if (answered === 'existing' && handOver) await tellHandOver(env, state, handOver, { stickyUrl: advanced.stickyUrl, reviewers });
}
