import { lockRef } from '../../core/markers.js';
import type { UpgradeState } from '../../core/state.js';
import type { Messages } from '../../text/messages.js';
import { orphanLocksNote, releaseOrphanLocks } from '../cluster-lock.js';
import type { WorkflowEnv } from '../context.js';
import { type CommandComment, replyOnce } from '../replies.js';
import type { RepoView } from '../repo-view.js';
import { findTracking, writeSticky } from '../tracking.js';
import { closeOpenPhases, isActive } from '../upgrade-state.js';

type AbortDecision =
  /** No upgrade here: free the locks a start that died may have left naming this issue. */
  | { readonly kind: 'release-orphan-locks' }
  /** Close these PRs, give the lock back, show `state`, then say `reply`. */
  | { readonly kind: 'abort'; readonly state: UpgradeState; readonly pullRequests: readonly number[]; readonly reply: string };

export function decideAbort(messages: Messages, state: UpgradeState | null, author: string): AbortDecision {
  if (!state || !isActive(state)) return { kind: 'release-orphan-locks' };
  const closed = closeOpenPhases(state, messages.say('note.closed-by-abort'));
  return {
    kind: 'abort',
    state: { ...closed.state, status: 'aborted', reason: messages.say('reason.aborted-by', { user: author }) },
    pullRequests: closed.pullRequests,
    reply: messages.say('reply.aborted', { target: state.target, rollback: state.mode === 'rollback' }),
  };
}

/** Closes a phase's PR (and its branch) if it is still open. */
export async function closePullRequests(env: WorkflowEnv, numbers: readonly number[]): Promise<void> {
  for (const number of numbers) {
    const pr = await env.repo.getPullRequest(number);
    if (pr.state === 'open') {
      await env.repo.closePullRequest(pr.number);
      await env.repo.deleteBranch(pr.headRef);
    }
  }
}

/** `/upgrade abort`: merged phases stay; open phase PRs are closed and the cluster's lock released. */
export async function abort(env: WorkflowEnv, event: CommandComment, view: RepoView): Promise<void> {
  const tracking = await findTracking(env, event.issue);
  const decision = decideAbort(env.messages, tracking?.state ?? null, event.author);
  if (decision.kind === 'release-orphan-locks') {
    const freed = await releaseOrphanLocks(env.repo, event.issue, env.log);
    return replyOnce(env, event, freed.length > 0 ? orphanLocksNote(env.messages, freed) : env.messages.say('reply.abort-none'));
  }
  await closePullRequests(env, decision.pullRequests);
  await env.repo.releaseLockOf(lockRef(decision.state.cluster), decision.state.issue);
  await writeSticky(env, tracking!, decision.state, null, null, view);
  await replyOnce(env, event, decision.reply);
}
