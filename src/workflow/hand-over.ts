import { handoverMarker } from '../core/markers.js';
import type { UpgradeState } from '../core/state.js';
import { plainText } from '../core/user-text.js';
import { fitComment, mentionsOf, type ReplyNotice, renderResourceTable } from '../text/render.js';
import type { WorkflowEnv } from './context.js';
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
      reason: plainText(state.reason ?? ''),
      url: at.stickyUrl,
    });
  }
  await env.repo.createComment(state.issue, fitComment(`${text}\n${marker}`, marker));
}

/** A hand-over told in the reply to the command that led to it: the people it mentions and its marker. */
export function replyNotice(state: UpgradeState, handOver: HandOver | null, reviewers: readonly string[]): ReplyNotice | null {
  if (!handOver) return null;
  return { who: mentionsOf([state.requestedBy, ...reviewers]), marker: handoverMarker(handOver.marker) };
}
