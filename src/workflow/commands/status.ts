import type { UpgradeState } from '../../core/state.js';
import type { Messages } from '../../text/messages.js';
import { advance } from '../advance.js';
import type { WorkflowEnv } from '../context.js';
import { type CommandComment, replyOnce } from '../replies.js';
import type { RepoView } from '../repo-view.js';
import { findTracking } from '../tracking.js';
import { currentPhase, isActive } from '../upgrade-state.js';

/** The one-line answer to `/upgrade status`. */
export function statusReply(messages: Messages, state: UpgradeState, url: string): string {
  return messages.say('reply.status', {
    cluster: state.cluster,
    target: state.target,
    status: state.status,
    reason: state.reason,
    phase: currentPhase(state)?.title ?? messages.say('status.no-phase'),
    url,
  });
}

/** `/upgrade status`: brings the upgrade up to date, then says where it is. */
export async function status(env: WorkflowEnv, event: CommandComment, view: RepoView): Promise<void> {
  const tracking = await findTracking(env, event.issue);
  if (!tracking) return replyOnce(env, event, env.messages.say('reply.status-none'));
  if (isActive(tracking.state)) await advance(env, tracking, view, { continued: false });
  const fresh = (await findTracking(env, event.issue)) ?? tracking;
  await replyOnce(env, event, statusReply(env.messages, fresh.state, fresh.comment.htmlUrl));
}
