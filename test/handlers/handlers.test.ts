import type { Context } from 'probot';
import { describe, expect, it } from 'vitest';
import { onIssueComment } from '../../src/handlers/on-issue-comment.js';
import { onPullRequestClosed } from '../../src/handlers/on-pull-request-closed.js';
import { onStatus } from '../../src/handlers/on-status.js';
import type { WorkflowFactory } from '../../src/handlers/workflow-factory.js';
import type { UpgradeWorkflow } from '../../src/workflow/upgrade-workflow.js';
import { silentLogger } from '../helpers/silent-logger.js';

/** A factory whose workflow records what it is called with (and for which installation). */
function recording() {
  const calls: Array<[string, unknown]> = [];
  const workflow = {
    onComment: async (event: unknown) => void calls.push(['comment', event]),
    onPullRequestClosed: async (event: unknown) => void calls.push(['closed', event]),
    onCommitStatus: async (sha: string, state: string) => void calls.push(['status', { sha, state }]),
  } as unknown as UpgradeWorkflow;
  const factory: WorkflowFactory = (_octokit, ref, installation) => {
    calls.push(['for', { ref, installation }]);
    return workflow;
  };
  return { factory, calls };
}

function context<T>(payload: object, isBot = false): T {
  return {
    id: 'd1',
    isBot,
    payload: { installation: { id: 7 }, ...payload },
    octokit: {},
    repo: () => ({ owner: 'o', repo: 'r' }),
    log: { child: () => ({ ...silentLogger }) },
  } as unknown as T;
}

const comment = (over: { user?: object; pull_request?: object } = {}) => ({
  issue: { number: 3, ...(over.pull_request ? { pull_request: over.pull_request } : {}) },
  comment: { id: 11, body: '/upgrade status', user: over.user ?? { login: 'alice', type: 'User' } },
  sender: { login: 'alice' },
});

describe('handlers: guard, then call the workflow of the event’s repository', () => {
  it('issue_comment.created: a person’s comment on an issue goes to the workflow', async () => {
    const { factory, calls } = recording();
    await onIssueComment(context<Context<'issue_comment.created'>>(comment()), factory);
    expect(calls).toEqual([
      ['for', { ref: { owner: 'o', repo: 'r' }, installation: 7 }],
      ['comment', { issue: 3, commentId: 11, body: '/upgrade status', author: 'alice' }],
    ]);
  });

  it.each([
    ['by a bot (the user type)', context<Context<'issue_comment.created'>>(comment({ user: { login: 'ci[bot]', type: 'Bot' } }))],
    ['by a bot (the sender)', context<Context<'issue_comment.created'>>(comment(), true)],
    ['on a pull request', context<Context<'issue_comment.created'>>(comment({ pull_request: {} }))],
  ])('issue_comment.created: ignored %s', async (_, event) => {
    const { factory, calls } = recording();
    await onIssueComment(event, factory);
    expect(calls).toEqual([]);
  });

  it('pull_request.closed: only phase branches reach the workflow', async () => {
    const pr = (ref: string) => ({
      pull_request: {
        number: 5,
        merged: true,
        merge_commit_sha: 'm',
        body: 'b',
        head: { ref, repo: { full_name: 'o/r' } },
        user: { login: 'bot[bot]' },
      },
    });
    const { factory, calls } = recording();
    await onPullRequestClosed(context<Context<'pull_request.closed'>>(pr('feature/x')), factory);
    expect(calls).toEqual([]);
    await onPullRequestClosed(context<Context<'pull_request.closed'>>(pr('mesh-upgrade/prod/asm-1140-0/02-gateways')), factory);
    expect(calls.at(-1)).toEqual([
      'closed',
      {
        number: 5,
        merged: true,
        mergeSha: 'm',
        body: 'b',
        headRef: 'mesh-upgrade/prod/asm-1140-0/02-gateways',
        author: 'bot[bot]',
        headRepo: 'o/r',
      },
    ]);
  });

  it('status: only a success is looked at', async () => {
    const { factory, calls } = recording();
    await onStatus(context<Context<'status'>>({ sha: 'abc', state: 'pending' }), factory);
    expect(calls).toEqual([]);
    await onStatus(context<Context<'status'>>({ sha: 'abc', state: 'success' }), factory);
    expect(calls.at(-1)).toEqual(['status', { sha: 'abc', state: 'success' }]);
  });
});
