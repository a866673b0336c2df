import {
  addLabels,
  createComment,
  createIssue,
  createLabel,
  deleteComment,
  react,
  requireComment,
  requireIssue,
  setIssueState,
  setLabels,
  touch,
  updateComment,
} from '../domain/issues.js';
import { assertBodyFits } from '../domain/limits.js';
import { closePull, isPull, reopenPull } from '../domain/pulls.js';
import { noContent, notFound, ok, paginate, type SimResponse } from '../http.js';
import type { IssueRecord, ReactionContent } from '../records.js';
import { commentJson, issueJson, labelJson, reactionJson } from '../representations/issues.js';
import type { World } from '../world.js';
import { bodyOf, numberParam, type RouteContext, type RouteTable, requirePermission, stringParam } from './context.js';

type LabelInput = string | { name: string };
type LabelsBody = { labels?: LabelInput[] } | LabelInput[] | string;

export const issueRoutes: RouteTable = {
  'issues/list-for-repo': (context) => {
    const { world, params } = context;
    const state = String(params.state ?? 'open');
    const wanted = params.labels
      ? String(params.labels)
          .split(',')
          .map((l) => l.trim().toLowerCase())
          .filter(Boolean)
      : [];
    const issues = [...world.records.issues.values()].filter(
      (issue) =>
        (state === 'all' || issue.state === state) &&
        wanted.every((label) => issue.labels.some((l) => l.toLowerCase() === label)) &&
        (params.creator === undefined || issue.author === params.creator) &&
        (params.since === undefined || issue.updatedAt >= String(params.since)),
    );
    return paginate(
      sortIssues(issues, params).map((i) => issueJson(world, i)),
      context.query,
      context.path,
    );
  },

  'issues/create': (context) => {
    const { world, actor } = context;
    const { title, body, labels } = bodyOf<{ title: string | number; body?: string | null; labels?: LabelInput[] }>(context);
    // Labels from users without triage access are dropped silently, as on GitHub.
    const allowedLabels = world.users.can(actor, 'triage') ? (labels ?? []).map(labelName) : [];
    const issue = createIssue(world, actor, { title: String(title), body: body ?? null, labels: allowedLabels });
    return ok(issueJson(world, issue), 201);
  },

  'issues/get': (context) => ok(issueJson(context.world, requireIssue(context.world, numberParam(context, 'issue_number')))),

  'issues/update': (context) => {
    const { world } = context;
    const issue = requireIssue(world, numberParam(context, 'issue_number'));
    const { title, body, state, state_reason, labels } = bodyOf<{
      title?: string | number | null;
      body?: string | null;
      state?: 'open' | 'closed';
      state_reason?: IssueRecord['stateReason'];
      labels?: LabelInput[];
    }>(context);
    assertBodyFits(isPull(issue) ? 'PullRequest' : 'Issue', body);
    if (title !== undefined && title !== null) issue.title = String(title);
    if (body !== undefined) issue.body = body;
    if (labels !== undefined) setLabels(world, issue, labels.map(labelName));
    // Closing a pull request through the issues API closes the pull request itself.
    if (state && isPull(issue)) {
      if (state === 'closed') closePull(world, context.actor, issue);
      else reopenPull(world, issue);
    } else if (state) {
      setIssueState(world, issue, state, state_reason);
    }
    touch(world, issue);
    return ok(issueJson(world, issue));
  },

  'issues/list-comments': (context) => {
    const { world, params } = context;
    const issue = requireIssue(world, numberParam(context, 'issue_number'));
    const comments = world.records
      .commentsOn(issue.number)
      .filter((c) => params.since === undefined || c.updatedAt >= String(params.since));
    return paginate(
      comments.map((c) => commentJson(world, c)),
      context.query,
      context.path,
    );
  },

  'issues/list-comments-for-repo': (context) => {
    const { world } = context;
    const comments = [...world.records.comments.values()].sort((a, b) => a.id - b.id);
    return paginate(
      comments.map((c) => commentJson(world, c)),
      context.query,
      context.path,
    );
  },

  'issues/create-comment': (context) => {
    const { body } = bodyOf<{ body: string }>(context);
    const comment = createComment(context.world, context.actor, numberParam(context, 'issue_number'), body);
    return ok(commentJson(context.world, comment), 201);
  },

  'issues/get-comment': (context) => ok(commentJson(context.world, requireComment(context.world, numberParam(context, 'comment_id')))),

  'issues/update-comment': (context) => {
    const comment = requireComment(context.world, numberParam(context, 'comment_id'));
    if (comment.author !== context.actor) requirePermission(context, 'write');
    updateComment(context.world, comment, bodyOf<{ body: string }>(context).body);
    return ok(commentJson(context.world, comment));
  },

  'issues/delete-comment': (context) => {
    const comment = requireComment(context.world, numberParam(context, 'comment_id'));
    if (comment.author !== context.actor) requirePermission(context, 'write');
    deleteComment(context.world, comment);
    return noContent();
  },

  'reactions/list-for-issue-comment': (context) => {
    const comment = requireComment(context.world, numberParam(context, 'comment_id'));
    return listReactions(context, `comment:${comment.id}`);
  },

  'reactions/create-for-issue-comment': (context) => {
    const comment = requireComment(context.world, numberParam(context, 'comment_id'));
    return createReaction(context, `comment:${comment.id}`);
  },

  'reactions/list-for-issue': (context) =>
    listReactions(context, `issue:${requireIssue(context.world, numberParam(context, 'issue_number')).number}`),

  'reactions/create-for-issue': (context) =>
    createReaction(context, `issue:${requireIssue(context.world, numberParam(context, 'issue_number')).number}`),

  'issues/list-labels-for-repo': (context) => {
    const labels = [...context.world.records.labels.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    return paginate(
      labels.map((l) => labelJson(context.world, l)),
      context.query,
      context.path,
    );
  },

  'issues/create-label': (context) => {
    requirePermission(context, 'triage');
    const { name, color, description } = bodyOf<{ name: string; color?: string; description?: string }>(context);
    return ok(labelJson(context.world, createLabel(context.world, { name, color, description })), 201);
  },

  'issues/get-label': (context) => {
    const label = context.world.records.label(stringParam(context, 'name'));
    if (!label) throw notFound();
    return ok(labelJson(context.world, label));
  },

  'issues/update-label': (context) => {
    requirePermission(context, 'triage');
    const { world } = context;
    const label = world.records.label(stringParam(context, 'name'));
    if (!label) throw notFound();
    const { new_name, color, description } = bodyOf<{ new_name?: string; color?: string; description?: string }>(context);
    if (new_name !== undefined) {
      const oldName = label.name;
      world.records.labels.delete(oldName.toLowerCase());
      label.name = new_name;
      world.records.labels.set(new_name.toLowerCase(), label);
      for (const issue of world.records.issues.values()) issue.labels = issue.labels.map((l) => (l === oldName ? new_name : l));
    }
    if (color !== undefined) label.color = color.replace(/^#/, '');
    if (description !== undefined) label.description = description;
    return ok(labelJson(world, label));
  },

  'issues/delete-label': (context) => {
    requirePermission(context, 'triage');
    const { world } = context;
    const label = world.records.label(stringParam(context, 'name'));
    if (!label) throw notFound();
    world.records.labels.delete(label.name.toLowerCase());
    for (const issue of world.records.issues.values()) issue.labels = issue.labels.filter((l) => l !== label.name);
    return noContent();
  },

  'issues/list-labels-on-issue': (context) => {
    const { world } = context;
    const issue = requireIssue(world, numberParam(context, 'issue_number'));
    return paginate(
      issueLabelRecords(world, issue).map((l) => labelJson(world, l)),
      context.query,
      context.path,
    );
  },

  'issues/add-labels': (context) => labelIssue(context, (world, issue, names) => addLabels(world, issue, names)),

  'issues/set-labels': (context) => labelIssue(context, (world, issue, names) => setLabels(world, issue, names)),

  'issues/remove-all-labels': (context) => {
    requirePermission(context, 'triage');
    const issue = requireIssue(context.world, numberParam(context, 'issue_number'));
    setLabels(context.world, issue, []);
    return noContent();
  },
};

function labelIssue(context: RouteContext, apply: (world: World, issue: IssueRecord, names: string[]) => void): SimResponse {
  requirePermission(context, 'triage');
  const { world } = context;
  const issue = requireIssue(world, numberParam(context, 'issue_number'));
  apply(world, issue, labelNamesOf(bodyOf<LabelsBody>(context)));
  return ok(issueLabelRecords(world, issue).map((l) => labelJson(world, l)));
}

function listReactions(context: RouteContext, subject: string): SimResponse {
  const content = context.params.content;
  const reactions = context.world.records.reactionsTo(subject).filter((r) => content === undefined || r.content === content);
  return paginate(
    reactions.map((r) => reactionJson(context.world, r)),
    context.query,
    context.path,
  );
}

function createReaction(context: RouteContext, subject: string): SimResponse {
  const { content } = bodyOf<{ content: ReactionContent }>(context);
  const { reaction, created } = react(context.world, context.actor, subject, content);
  return ok(reactionJson(context.world, reaction), created ? 201 : 200);
}

function issueLabelRecords(world: World, issue: IssueRecord) {
  return issue.labels.flatMap((name) => world.records.label(name) ?? []);
}

/** `POST/PUT /issues/{n}/labels` accept names or `{name}` objects, bare or under `labels`. */
function labelNamesOf(body: LabelsBody): string[] {
  if (typeof body === 'string') return [body];
  const list = Array.isArray(body) ? body : (body.labels ?? []);
  return list.map(labelName);
}

function labelName(label: LabelInput): string {
  return typeof label === 'string' ? label : label.name;
}

function sortIssues(issues: IssueRecord[], params: Readonly<Record<string, unknown>>): IssueRecord[] {
  const key = params.sort === 'updated' ? (i: IssueRecord) => i.updatedAt : (i: IssueRecord) => i.createdAt;
  const ascending = params.direction === 'asc';
  return [...issues].sort((a, b) => {
    const order = key(a).localeCompare(key(b)) || a.number - b.number;
    return ascending ? order : -order;
  });
}
