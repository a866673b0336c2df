import { errorBody, HttpError, notFound, validationFailed } from '../http.js';
import type { CommentRecord, IssueRecord, LabelRecord, PullRecord, ReactionContent, ReactionRecord } from '../records.js';
import type { World } from '../world.js';
import { assertBodyFits } from './limits.js';

/** Colour GitHub gives a label created implicitly by labelling an issue. */
const IMPLICIT_LABEL_COLOR = 'ededed';

export function requireIssue(world: World, number: number): IssueRecord {
  const issue = world.records.issue(number);
  if (!issue) throw notFound();
  return issue;
}

export function createIssue(
  world: World,
  author: string,
  fields: { title: string; body?: string | null; labels?: readonly string[]; pull?: PullRecord },
): IssueRecord {
  assertBodyFits(fields.pull ? 'PullRequest' : 'Issue', fields.body);
  const now = world.clock.stamp();
  const issue: IssueRecord = {
    number: world.records.nextNumber(),
    id: world.records.nextId('issue'),
    author,
    title: fields.title,
    body: fields.body ?? null,
    state: 'open',
    stateReason: null,
    labels: [],
    locked: false,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    ...(fields.pull ? { pull: fields.pull } : {}),
  };
  world.records.issues.set(issue.number, issue);
  if (fields.labels) addLabels(world, issue, fields.labels);
  return issue;
}

export function setIssueState(world: World, issue: IssueRecord, state: 'open' | 'closed', reason?: IssueRecord['stateReason']): void {
  if (issue.state === state) return;
  const now = world.clock.stamp();
  issue.state = state;
  issue.updatedAt = now;
  issue.closedAt = state === 'closed' ? now : null;
  issue.stateReason = state === 'closed' ? (reason ?? 'completed') : 'reopened';
}

export function touch(world: World, issue: IssueRecord): void {
  issue.updatedAt = world.clock.stamp();
}

// ---- labels -------------------------------------------------------------------------------

export function createLabel(world: World, fields: { name: string; color?: string; description?: string | null }): LabelRecord {
  if (world.records.label(fields.name)) throw validationFailed({ resource: 'Label', code: 'already_exists', field: 'name' });
  const label: LabelRecord = {
    id: world.records.nextId('label'),
    name: fields.name,
    color: (fields.color ?? IMPLICIT_LABEL_COLOR).replace(/^#/, ''),
    description: fields.description ?? null,
  };
  world.records.labels.set(label.name.toLowerCase(), label);
  return label;
}

/** Adds labels to an issue, creating repository labels that do not exist yet (as GitHub does). */
export function addLabels(world: World, issue: IssueRecord, names: readonly string[]): void {
  for (const name of names) {
    const label = world.records.label(name) ?? createLabel(world, { name });
    if (!issue.labels.some((existing) => existing.toLowerCase() === label.name.toLowerCase())) issue.labels.push(label.name);
  }
  touch(world, issue);
}

export function setLabels(world: World, issue: IssueRecord, names: readonly string[]): void {
  issue.labels = [];
  addLabels(world, issue, names);
}

// ---- comments -----------------------------------------------------------------------------

export function createComment(world: World, author: string, issueNumber: number, body: string): CommentRecord {
  const issue = requireIssue(world, issueNumber);
  if (issue.locked && !world.users.can(author, 'write'))
    throw new HttpError(403, errorBody('Unable to create comment because issue is locked.', 403));
  assertBodyFits('IssueComment', body);
  const now = world.clock.stamp();
  const comment: CommentRecord = { id: world.records.nextId('comment'), issueNumber, author, body, createdAt: now, updatedAt: now };
  world.records.comments.set(comment.id, comment);
  for (const login of mentionsIn(body)) world.records.mentions.push({ login, commentId: comment.id, issueNumber });
  issue.updatedAt = now;
  return comment;
}

/**
 * The people and teams a Markdown body mentions, as GitHub reads them: `@name` after a non-word
 * character, outside code spans and fences (an `@` followed by a zero-width space is no mention).
 */
export function mentionsIn(body: string): string[] {
  const prose = body
    .replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/(`+)[^`]*?\1/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  return [...prose.matchAll(/(?<![\w`@/])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9][A-Za-z0-9_.-]*)?)/g)].map((m) => m[1]!);
}

export function requireComment(world: World, id: number): CommentRecord {
  const comment = world.records.comments.get(id);
  if (!comment) throw notFound();
  return comment;
}

export function updateComment(world: World, comment: CommentRecord, body: string): void {
  assertBodyFits('IssueComment', body);
  comment.body = body;
  comment.updatedAt = world.clock.stamp();
}

export function deleteComment(world: World, comment: CommentRecord): void {
  world.records.comments.delete(comment.id);
  world.clock.stamp();
}

// ---- reactions ----------------------------------------------------------------------------

/** A user's reaction; `created` is false when they had already reacted with that content (GitHub then answers 200). */
export function react(
  world: World,
  user: string,
  subject: string,
  content: ReactionContent,
): { reaction: ReactionRecord; created: boolean } {
  const existing = world.records.reactionsTo(subject).find((r) => r.user === user && r.content === content);
  if (existing) return { reaction: existing, created: false };
  const reaction: ReactionRecord = { id: world.records.nextId('reaction'), subject, user, content, createdAt: world.clock.stamp() };
  world.records.reactions.push(reaction);
  return { reaction, created: true };
}
