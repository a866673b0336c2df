import type { PullRequestRecord } from './domain/pulls.js';
import type { CommentRecord, IssueRecord, StatusRecord } from './records.js';
import { installationLiteJson, type Json, repositoryJson, userJson } from './representations/common.js';
import { commitJson } from './representations/git.js';
import { commentJson, issueJson } from './representations/issues.js';
import { pullJson } from './representations/pulls.js';
import type { World } from './world.js';

/** Webhook payloads as GitHub sends them to the App (validated by the caller before delivery). */

/** Fields every repository event carries. */
function envelope(world: World, sender: string): Json {
  return { repository: repositoryJson(world), sender: userJson(world, sender), installation: installationLiteJson(world) };
}

export function issueCommentCreatedPayload(world: World, issue: IssueRecord, comment: CommentRecord): Json {
  return { action: 'created', issue: issueJson(world, issue), comment: commentJson(world, comment), ...envelope(world, comment.author) };
}

/** A comment edited by `editor` (ticking a task-list box is such an edit). */
export function issueCommentEditedPayload(world: World, issue: IssueRecord, comment: CommentRecord, from: string, editor: string): Json {
  return {
    action: 'edited',
    changes: { body: { from } },
    issue: issueJson(world, issue),
    comment: commentJson(world, comment),
    ...envelope(world, editor),
  };
}

export function issuesOpenedPayload(world: World, issue: IssueRecord): Json {
  return { action: 'opened', issue: issueJson(world, issue), ...envelope(world, issue.author) };
}

export function pullRequestClosedPayload(world: World, pr: PullRequestRecord, sender: string): Json {
  return { action: 'closed', number: pr.number, pull_request: pullJson(world, pr), ...envelope(world, sender) };
}

export function statusPayload(world: World, status: StatusRecord): Json {
  const commit = commitJson(world, world.git.commit(status.sha)!);
  const inner = commit.commit as Json;
  // The webhook schema's verification object has no `verified_at`.
  const { verified_at: _ignored, ...verification } = inner.verification as Json;
  return {
    id: status.id,
    sha: status.sha,
    name: world.fullName,
    target_url: status.targetUrl,
    context: status.context,
    description: status.description,
    state: status.state,
    commit: { ...commit, commit: { ...inner, verification } },
    branches: branchesContaining(world, status.sha),
    created_at: status.createdAt,
    updated_at: status.createdAt,
    ...envelope(world, status.creator),
  };
}

/** Up to ten branches whose history holds the commit, as the status event lists them. */
function branchesContaining(world: World, sha: string): Json[] {
  return world.git
    .allRefs()
    .filter(([name, head]) => name.startsWith('refs/heads/') && world.git.isAncestor(sha, head))
    .slice(0, 10)
    .map(([name, head]) => ({
      name: name.slice('refs/heads/'.length),
      commit: { sha: head, url: world.apiUrl(`/commits/${head}`) },
      protected: false,
    }));
}
