import type { Context } from 'probot';
import { parsePhaseBranch } from '../core/markers.js';
import { type WorkflowFactory, workflowForEvent } from './workflow-factory.js';

/** `pull_request.closed`: a phase PR was merged (ask the gate) or closed unmerged (pause). */
export async function onPullRequestClosed(context: Context<'pull_request.closed'>, workflowFor: WorkflowFactory): Promise<void> {
  const pr = context.payload.pull_request;
  const log = context.log.child({ delivery: context.id, pr: pr.number });
  if (!parsePhaseBranch(pr.head.ref)) return log.debug({}, 'ignored: not a phase branch');
  await workflowForEvent(workflowFor, context, log).onPullRequestClosed({
    number: pr.number,
    merged: pr.merged ?? false,
    mergeSha: pr.merge_commit_sha ?? null,
    body: pr.body ?? null,
    headRef: pr.head.ref,
    author: pr.user?.login ?? '',
    headRepo: pr.head.repo?.full_name ?? null,
  });
}
