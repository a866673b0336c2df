import type { NextMove } from '../../core/next-move.js';
import type { UpgradeState } from '../../core/state.js';
import type { Messages } from '../../text/messages.js';
import { advance } from '../advance.js';
import type { WorkflowEnv } from '../context.js';
import { answerWithHandOver } from '../hand-over.js';
import { type CommandComment, replyOnce } from '../replies.js';
import type { RepoView } from '../repo-view.js';
import { findTracking } from '../tracking.js';
import { currentPhase, isActive } from '../upgrade-state.js';

/** The one-line answer to `/upgrade status` (and the line a `/upgrade continue` is answered with). */
export function statusReply(messages: Messages, state: UpgradeState, next: NextMove | null, url: string): string {
  const active = isActive(state);
  return messages.say('reply.status', {
    rollback: state.mode === 'rollback',
    cluster: state.cluster,
    target: state.target,
    status: state.status,
    reason: state.reason,
    phase: currentPhase(state)?.title ?? messages.say('status.no-phase'),
    next: active ? (next?.text ?? null) : null,
    who: active && next?.actor === 'person' ? state.requestedBy : null,
    url,
  });
}

/** `/upgrade status`: brings the upgrade up to date, then says where it is. */
export async function status(env: WorkflowEnv, event: CommandComment, view: RepoView): Promise<void> {
  const tracking = await findTracking(env, event.issue);
  if (!tracking) return replyOnce(env, event, env.messages.say('reply.status-none'));
  if (!isActive(tracking.state)) {
    return replyOnce(env, event, statusReply(env.messages, tracking.state, null, tracking.comment.htmlUrl));
  }
  const advanced = await advance(env, tracking, view, { continued: false, handOverInReply: true });
  await answerWithHandOver(
    env,
    event,
    statusReply(env.messages, advanced.state, advanced.next, advanced.stickyUrl),
    advanced,
    view.config.reviewers,
  );
}
