import { describe, expect, it } from 'vitest';
import { GitHubApiError } from '../../../src/adapters/github/errors.js';
import { refAnswerOf, refFailureReason, summarizeGitHubMessage } from '../../../src/adapters/github/ref-errors.js';

const e422 = (message: string) => new GitHubApiError('create branch', 422, message);

describe('refAnswerOf', () => {
  it.each([
    ['Reference already exists', 'exists'],
    ['Update is not a fast forward', 'not-fast-forward'],
    ['Reference does not exist', 'missing'],
    ['Reference update failed', 'transient'],
    ['Repository rule violations found\n\nCannot create ref due to creations being restricted.\n\n', 'refused'],
    ['Object does not exist', 'refused'],
  ])('tells %j apart (%s)', (message, kind) => {
    expect(refAnswerOf(e422(message))?.kind).toBe(kind);
  });

  it('leaves anything but a 422 from GitHub to the caller', () => {
    expect(refAnswerOf(new GitHubApiError('create branch', 502, 'Server Error'))).toBeNull();
    expect(refAnswerOf(new Error('Reference already exists'))).toBeNull();
  });
});

describe('summarizeGitHubMessage', () => {
  it('puts a ruleset message on one bounded line of plain characters', () => {
    expect(summarizeGitHubMessage('Repository rule violations found\n\nCannot create ref due to creations being restricted.\n\n')).toBe(
      'Repository rule violations found: Cannot create ref due to creations being restricted.',
    );
    const summary = summarizeGitHubMessage(
      `Repository rule violations found\n\nRef name must match @org/admins \`<!-- x -->\` ${'y'.repeat(10_000)}\n`,
    );
    expect(summary.length).toBeLessThanOrEqual(200);
    expect(summary).not.toMatch(/[@`<>\n]/);
  });

  it('says what was refused and what to do, without the rest of GitHub’s answer', () => {
    const reason = refFailureReason(
      { kind: 'branch', name: 'mesh-upgrade/prod/x/02-gateways' },
      refAnswerOf(e422('Repository rule violations found\n\nCannot create ref due to creations being restricted.\n\n'))!,
      1,
    );
    expect(reason).toBe(
      'GitHub refused to create the branch `mesh-upgrade/prod/x/02-gateways`: `Repository rule violations found: Cannot create ref due to creations being restricted.`. A ruleset or branch protection of this repository blocks the bot: exempt the App or allow branches `mesh-upgrade/*`, then say `/upgrade continue`.',
    );
    expect(refFailureReason({ kind: 'lock', name: 'refs/mesh-upgrade/locks/prod' }, { kind: 'transient' }, 3)).toContain(
      'GitHub answered `Reference update failed` 3 times in a row for the lock ref `refs/mesh-upgrade/locks/prod`',
    );
  });
});
