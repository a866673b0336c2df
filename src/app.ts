import type { Probot } from 'probot';
import type { GitHubClient } from './adapters/github/ref-store.js';
import { onIssueComment, onIssueCommentEdited } from './handlers/on-issue-comment.js';
import { onPullRequestClosed } from './handlers/on-pull-request-closed.js';
import { onStatus } from './handlers/on-status.js';
import { type AppOptions, workflowFactory } from './handlers/workflow-factory.js';

/** Wires the webhook events to the workflow. Everything else lives behind the handlers. */
export function createApp(options: AppOptions) {
  const workflowFor = workflowFactory(options);
  return (app: Probot): void => {
    app.on('issue_comment.created', (context) => onIssueComment(context, workflowFor));
    app.on('issue_comment.edited', (context) => onIssueCommentEdited(context, workflowFor));
    app.on('pull_request.closed', (context) => onPullRequestClosed(context, workflowFor));
    app.on('status', (context) => onStatus(context, workflowFor));
  };
}

/**
 * Re-checks every running upgrade of every installed repository: on startup and periodically, so
 * gates that were waiting when the bot stopped resume without any event.
 */
export async function reconcileInstallations(app: Probot, options: AppOptions): Promise<number> {
  const workflowFor = workflowFactory(options);
  const appOctokit = await app.auth();
  let upgrades = 0;
  const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, { per_page: 100 });
  for (const installation of installations) {
    const octokit = (await app.auth(installation.id)) as GitHubClient;
    for (const repository of await accessibleRepositories(octokit)) {
      const ref = { owner: repository.owner.login, repo: repository.name };
      upgrades += await workflowFor(octokit, ref, installation.id, app.log.child({ repo: repository.full_name })).reconcileAll();
    }
  }
  return upgrades;
}

async function accessibleRepositories(octokit: GitHubClient) {
  const repositories = [];
  for (let page = 1; ; page++) {
    const { data } = await octokit.rest.apps.listReposAccessibleToInstallation({ per_page: 100, page });
    repositories.push(...data.repositories);
    if (data.repositories.length < 100 || repositories.length >= data.total_count) return repositories;
  }
}
