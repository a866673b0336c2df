import type { RestEndpointMethodTypes } from '@octokit/rest';
import type { Context } from 'probot';

/**
 * Public types of what the simulator hands to tests, taken from Octokit's REST types and Probot's
 * webhook types. The simulator builds plain JSON; that JSON is checked against GitHub's OpenAPI
 * response schemas and @octokit/webhooks-schemas, which is what makes these casts honest.
 */

type Rest = RestEndpointMethodTypes;

export type IssueJson = Rest['issues']['get']['response']['data'];
export type IssueCommentJson = Rest['issues']['getComment']['response']['data'];
export type PullRequestJson = Rest['pulls']['get']['response']['data'];
export type ReactionJson = Rest['reactions']['createForIssueComment']['response']['data'];

export type IssueCommentCreatedPayload = Context<'issue_comment.created'>['payload'];
export type IssueCommentEditedPayload = Context<'issue_comment.edited'>['payload'];
export type IssuesOpenedPayload = Context<'issues.opened'>['payload'];
export type PullRequestClosedPayload = Context<'pull_request.closed'>['payload'];
export type StatusPayload = Context<'status'>['payload'];
