import type { CommentRecord, IssueRecord, LabelRecord, ReactionContent, ReactionRecord } from '../records.js';
import type { World } from '../world.js';
import { appJson, type Json, nodeId, userJson } from './common.js';

const REACTIONS: readonly ReactionContent[] = ['+1', '-1', 'laugh', 'hooray', 'confused', 'heart', 'rocket', 'eyes'];

export function labelJson(world: World, label: LabelRecord): Json {
  return {
    id: label.id,
    node_id: nodeId('LA', label.id),
    url: world.apiUrl(`/labels/${encodeURIComponent(label.name)}`),
    name: label.name,
    color: label.color,
    default: false,
    description: label.description,
  };
}

/** An issue or, for pull requests, the issue side of it (what the issues endpoints return). */
export function issueJson(world: World, issue: IssueRecord): Json {
  const url = world.apiUrl(`/issues/${issue.number}`);
  const pull = issue.pull;
  return {
    url,
    repository_url: world.apiUrl(),
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: world.webUrl(`/${pull ? 'pull' : 'issues'}/${issue.number}`),
    id: issue.id,
    node_id: nodeId(pull ? 'PR' : 'I', issue.id),
    number: issue.number,
    title: issue.title,
    user: userJson(world, issue.author),
    labels: issueLabels(world, issue),
    state: issue.state,
    locked: issue.locked,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: world.records.commentsOn(issue.number).length,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    author_association: world.users.association(issue.author),
    active_lock_reason: null,
    body: issue.body,
    reactions: reactionRollupJson(world, `issue:${issue.number}`, `${url}/reactions`),
    timeline_url: `${url}/timeline`,
    performed_via_github_app: null,
    state_reason: issue.stateReason,
    ...(pull
      ? {
          draft: pull.draft,
          pull_request: {
            url: world.apiUrl(`/pulls/${issue.number}`),
            html_url: world.webUrl(`/pull/${issue.number}`),
            diff_url: world.webUrl(`/pull/${issue.number}.diff`),
            patch_url: world.webUrl(`/pull/${issue.number}.patch`),
            merged_at: pull.mergedAt,
          },
        }
      : {}),
  };
}

export function issueLabels(world: World, issue: IssueRecord): Json[] {
  return issue.labels.flatMap((name) => {
    const label = world.records.label(name);
    return label ? [labelJson(world, label)] : [];
  });
}

export function commentJson(world: World, comment: CommentRecord): Json {
  const url = world.apiUrl(`/issues/comments/${comment.id}`);
  const isPull = Boolean(world.records.issue(comment.issueNumber)?.pull);
  const byApp = comment.author === world.users.bot.login;
  return {
    url,
    html_url: world.webUrl(`/${isPull ? 'pull' : 'issues'}/${comment.issueNumber}#issuecomment-${comment.id}`),
    issue_url: world.apiUrl(`/issues/${comment.issueNumber}`),
    id: comment.id,
    node_id: nodeId('IC', comment.id),
    user: userJson(world, comment.author),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: world.users.association(comment.author),
    body: comment.body,
    reactions: reactionRollupJson(world, `comment:${comment.id}`, `${url}/reactions`),
    performed_via_github_app: byApp ? appJson(world) : null,
  };
}

export function reactionJson(world: World, reaction: ReactionRecord): Json {
  return {
    id: reaction.id,
    node_id: nodeId('REA', reaction.id),
    user: userJson(world, reaction.user),
    content: reaction.content,
    created_at: reaction.createdAt,
  };
}

function reactionRollupJson(world: World, subject: string, url: string): Json {
  const reactions = world.records.reactionsTo(subject);
  const counts = Object.fromEntries(REACTIONS.map((content) => [content, reactions.filter((r) => r.content === content).length]));
  return { url, total_count: reactions.length, ...counts };
}
