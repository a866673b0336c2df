import { PERMISSION_REFUSAL_MARKER, replyMarker } from '../core/markers.js';
import { type ReplyNotice, renderReply } from '../text/render.js';
import type { WorkflowEnv } from './context.js';

/** The command comment a reply answers. */
export interface CommandComment {
  readonly issue: number;
  readonly commentId: number;
  readonly author: string;
  /** What marks the reply, when not the comment id (a box ticked in the sticky comment: one reply per tick). */
  readonly replyKey?: string;
}

function replyKeyOf(event: CommandComment): string {
  return event.replyKey ?? String(event.commentId);
}

/** How long one permission refusal per issue stands for all (only a reaction within it). */
const OUTSIDER_REPLY_INTERVAL_MS = 3_600_000;

/** Answers a command comment once: a redelivered event finds the marked reply and says nothing. */
export async function replyOnce(
  env: WorkflowEnv,
  event: CommandComment,
  text: string,
  issueLink: string | null = null,
  notify: ReplyNotice | null = null,
): Promise<void> {
  await answerOnce(env, event, text, issueLink, notify);
}

/** replyOnce, saying whether the answer was posted now or existed already (a redelivery). */
export async function answerOnce(
  env: WorkflowEnv,
  event: CommandComment,
  text: string,
  issueLink: string | null = null,
  notify: ReplyNotice | null = null,
): Promise<'posted' | 'existing'> {
  // A comment seen for the first time (our 👀 was new) cannot have a reply yet; a redelivery checks.
  if (!env.firstSighting.has(event.commentId)) {
    const comments = await env.repo.listIssueComments(event.issue);
    if (comments.some((c) => c.byThisApp && c.body.includes(replyMarker(replyKeyOf(event))))) return 'existing';
  }
  await env.repo.createComment(event.issue, renderReply(env.templates, replyKeyOf(event), text, issueLink, notify));
  return 'posted';
}

/**
 * A command from someone without the permission: one short reply per issue and hour, naming the
 * permission and nobody (no mention, nothing of what was typed); within the hour only a reaction,
 * so a flood of comments does not become a flood of replies or notifications.
 */
export async function refuseOutsider(env: WorkflowEnv, event: CommandComment, required: string): Promise<void> {
  const comments = await env.repo.listIssueComments(event.issue);
  const since = env.now().getTime() - OUTSIDER_REPLY_INTERVAL_MS;
  const recent = comments.some((c) => c.byThisApp && c.body.includes(PERMISSION_REFUSAL_MARKER) && Date.parse(c.createdAt) >= since);
  if (recent || comments.some((c) => c.byThisApp && c.body.includes(replyMarker(replyKeyOf(event))))) {
    await env.repo.react(event.commentId, 'confused');
    return;
  }
  const text = env.messages.say('reply.permission', { permission: required });
  await env.repo.createComment(event.issue, `${renderReply(env.templates, replyKeyOf(event), text, null)}${PERMISSION_REFUSAL_MARKER}\n`);
}
