import type { Context } from 'probot';
import { type WorkflowFactory, workflowForEvent } from './workflow-factory.js';

/** `issue_comment.created`: commands on issues (not on pull requests), from people. */
export async function onIssueComment(context: Context<'issue_comment.created'>, workflowFor: WorkflowFactory): Promise<void> {
  const { issue, comment } = context.payload;
  const log = context.log.child({ delivery: context.id, issue: issue.number, comment: comment.id });
  if (context.isBot || comment.user?.type === 'Bot') return log.debug({}, 'ignored: comment by a bot');
  if (issue.pull_request) return log.debug({}, 'ignored: comment on a pull request');
  await workflowForEvent(workflowFor, context, log).onComment({
    issue: issue.number,
    commentId: comment.id,
    body: comment.body,
    author: comment.user?.login ?? context.payload.sender.login,
  });
}

/**
 * `issue_comment.edited`: a box ticked in the sticky comment (by a person) runs its command; other
 * edits are ignored, as are the bot's own edits of the sticky comment.
 */
export async function onIssueCommentEdited(context: Context<'issue_comment.edited'>, workflowFor: WorkflowFactory): Promise<void> {
  const { issue, comment, changes, sender } = context.payload;
  const log = context.log.child({ delivery: context.id, issue: issue.number, comment: comment.id });
  if (context.isBot || sender.type === 'Bot') return log.debug({}, 'ignored: edited by a bot');
  if (issue.pull_request || changes.body?.from === undefined) return;
  await workflowForEvent(workflowFor, context, log).onCommentEdited({
    issue: issue.number,
    commentId: comment.id,
    before: changes.body.from,
    after: comment.body,
    editor: sender.login,
    delivery: context.id,
  });
}
