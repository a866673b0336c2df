import { isMergeable, type PullRequestRecord, pullComparison, pullShas } from '../domain/pulls.js';
import type { World } from '../world.js';
import { type Json, nodeId, repositoryJson, userJson } from './common.js';
import { issueLabels } from './issues.js';

/** `GET /pulls` items (pull-request-simple): no merge state, no diff statistics. */
export function pullSimpleJson(world: World, pr: PullRequestRecord): Json {
  const api = world.apiUrl(`/pulls/${pr.number}`);
  const issueApi = world.apiUrl(`/issues/${pr.number}`);
  const html = world.webUrl(`/pull/${pr.number}`);
  const { headSha, baseSha } = pullShas(world, pr);
  const link = (href: string) => ({ href });
  return {
    url: api,
    id: pr.pull.id,
    node_id: nodeId('PR', pr.pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueApi,
    number: pr.number,
    state: pr.state,
    locked: pr.locked,
    title: pr.title,
    user: userJson(world, pr.author),
    body: pr.body,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.pull.mergedAt,
    merge_commit_sha: pr.pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    // The pull-request-simple schema types label descriptions as plain strings (issues allow null).
    labels: issueLabels(world, pr).map((label) => ({
      ...(label as Record<string, unknown>),
      description: (label as { description?: unknown }).description ?? '',
    })),
    milestone: null,
    draft: pr.pull.draft,
    commits_url: `${api}/commits`,
    review_comments_url: `${api}/comments`,
    review_comment_url: world.apiUrl('/pulls/comments{/number}'),
    comments_url: `${issueApi}/comments`,
    statuses_url: world.apiUrl(`/statuses/${headSha}`),
    head: branchEndJson(world, pr.pull.headRef, headSha),
    base: branchEndJson(world, pr.pull.baseRef, baseSha),
    _links: {
      self: link(api),
      html: link(html),
      issue: link(issueApi),
      comments: link(`${issueApi}/comments`),
      review_comments: link(`${api}/comments`),
      review_comment: link(world.apiUrl('/pulls/comments{/number}')),
      commits: link(`${api}/commits`),
      statuses: link(world.apiUrl(`/statuses/${headSha}`)),
    },
    author_association: world.users.association(pr.author),
    auto_merge: null,
    active_lock_reason: null,
  };
}

/** `GET /pulls/{n}`, create and update answers, and webhook `pull_request` (pull-request). */
export function pullJson(world: World, pr: PullRequestRecord): Json {
  const comparison = pullComparison(world, pr);
  const files = comparison?.files ?? [];
  const mergeable = isMergeable(world, pr);
  return {
    ...pullSimpleJson(world, pr),
    merged: pr.pull.mergedAt !== null,
    mergeable,
    rebaseable: mergeable,
    mergeable_state: pr.state !== 'open' ? 'unknown' : pr.pull.draft ? 'draft' : mergeable ? 'clean' : 'dirty',
    merged_by: pr.pull.mergedBy ? userJson(world, pr.pull.mergedBy) : null,
    comments: world.records.commentsOn(pr.number).length,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: comparison?.commits.length ?? 0,
    additions: files.reduce((sum, f) => sum + f.additions, 0),
    deletions: files.reduce((sum, f) => sum + f.deletions, 0),
    changed_files: files.length,
  };
}

function branchEndJson(world: World, ref: string, sha: string): Json {
  return { label: `${world.owner}:${ref}`, ref, sha, user: userJson(world, world.owner), repo: repositoryJson(world) };
}
