import type { Probot } from 'probot';
import { onIssueComment } from './handlers/on-issue-comment.js';
import { onPullRequestClosed } from './handlers/on-pull-request-closed.js';
import { workflowFactory, type AppOptions } from './handlers/workflow-factory.js';

/** Wires the webhook events to the workflow. Everything else lives behind the handlers. */
export function createApp(options: AppOptions) {
  const workflowFor = workflowFactory(options);
  return (app: Probot): void => {
    app.on('issue_comment.created', (context) => onIssueComment(context, workflowFor));
    app.on('pull_request.closed', (context) => onPullRequestClosed(context, workflowFor));
  };
}
