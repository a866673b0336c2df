import type { Context } from 'probot';
import { type WorkflowFactory, workflowForEvent } from './workflow-factory.js';

/**
 * `status`: a commit status (e.g. from Argo CD Notifications on the revision it synced) may
 * complete a waiting gate; evaluate now instead of at the next poll.
 */
export async function onStatus(context: Context<'status'>, workflowFor: WorkflowFactory): Promise<void> {
  const { sha, state } = context.payload;
  const log = context.log.child({ delivery: context.id, sha, state });
  if (state !== 'success') return log.debug({}, 'ignored: not a success status');
  await workflowForEvent(workflowFor, context, log).onCommitStatus(sha, state);
}
