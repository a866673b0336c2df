import { Octokit } from '@octokit/rest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubSimulator, MAX_BODY_CHARACTERS, REF_ANSWERS } from '../../../demo/github/simulator.js';
import { silentOctokitLog } from '../../helpers/silent-logger.js';

const ref = { owner: 'acme', repo: 'cluster-config' };
let sim: GitHubSimulator;
let octokit: Octokit;

beforeEach(() => {
  sim = new GitHubSimulator({
    ...ref,
    files: new Map([['README.md', '# config\n']]),
    collaborators: { alice: 'admin' },
    webhookSecret: 's',
    appId: 1,
    installationId: 2,
  });
  octokit = new Octokit({
    auth: sim.createInstallationToken(),
    request: { fetch: sim.fetch },
    log: silentOctokitLog,
  });
});

afterEach(() => {
  expect(sim.violations).toEqual([]);
});

async function failure(
  promise: Promise<unknown>,
): Promise<{ status: number; data: { message?: string; errors?: Array<Record<string, unknown>> } }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { status: number; response: { data: { message?: string; errors?: Array<Record<string, unknown>> } } };
    return { status: e.status, data: e.response.data };
  }
  throw new Error('the call succeeded');
}

describe('GitHub body limits', () => {
  it('answers 422 "body is too long" for comment, issue and pull request bodies over 65,536 characters, and takes exactly 65,536', async () => {
    const issue = sim.openIssue('alice', 'Upgrade', '').issue.number;
    const atLimit = 'x'.repeat(MAX_BODY_CHARACTERS);
    const { data: comment } = await octokit.rest.issues.createComment({ ...ref, issue_number: issue, body: atLimit });
    expect(comment.body).toHaveLength(MAX_BODY_CHARACTERS);

    const tooLong = `${atLimit}y`;
    const created = await failure(octokit.rest.issues.createComment({ ...ref, issue_number: issue, body: tooLong }));
    expect(created.status).toBe(422);
    expect(created.data.message).toBe('Validation Failed');
    expect(created.data.errors).toEqual([
      { resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' },
    ]);
    expect((await failure(octokit.rest.issues.updateComment({ ...ref, comment_id: comment.id, body: tooLong }))).status).toBe(422);
    expect(sim.comments(issue).map((c) => c.body?.length)).toEqual([MAX_BODY_CHARACTERS]);
    expect((await failure(octokit.rest.issues.create({ ...ref, title: 'Big', body: tooLong }))).status).toBe(422);
    expect((await failure(octokit.rest.issues.update({ ...ref, issue_number: issue, body: tooLong }))).status).toBe(422);

    sim.pushCommit('topic', { 'a.txt': 'a\n' }, 'a', 'alice');
    expect(
      (await failure(octokit.rest.pulls.create({ ...ref, head: 'topic', base: 'main', title: 'PR', body: tooLong }))).data.errors?.[0],
    ).toMatchObject({ resource: 'PullRequest', field: 'body' });
    const { data: pr } = await octokit.rest.pulls.create({ ...ref, head: 'topic', base: 'main', title: 'PR', body: 'short' });
    expect((await failure(octokit.rest.pulls.update({ ...ref, pull_number: pr.number, body: tooLong }))).status).toBe(422);
  });

  it('counts characters, not UTF-16 units: 65,536 emoji fit', async () => {
    const issue = sim.openIssue('alice', 'Upgrade', '').issue.number;
    await octokit.rest.issues.createComment({ ...ref, issue_number: issue, body: '🚀'.repeat(MAX_BODY_CHARACTERS) });
    expect(
      (await failure(octokit.rest.issues.createComment({ ...ref, issue_number: issue, body: '🚀'.repeat(MAX_BODY_CHARACTERS + 1) })))
        .status,
    ).toBe(422);
  });
});

describe('ref rulesets and 422 answers of the refs API', () => {
  async function commit(): Promise<string> {
    const { data: head } = await octokit.rest.git.getRef({ ...ref, ref: 'heads/main' });
    const { data: parent } = await octokit.rest.git.getCommit({ ...ref, commit_sha: head.object.sha });
    const { data } = await octokit.rest.git.createCommit({ ...ref, message: 'x', tree: parent.tree.sha, parents: [head.object.sha] });
    return data.sha;
  }

  it('refuses creations a ruleset restricts with "Repository rule violations found", until it is removed', async () => {
    sim.addRuleset({ name: 'bots', include: /^refs\/heads\/mesh-upgrade\//, restrict: ['creation'] });
    const sha = await commit();
    const refused = await failure(octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/mesh-upgrade/prod/x', sha }));
    expect(refused.status).toBe(422);
    expect(refused.data.message).toBe('Repository rule violations found\n\nCannot create ref due to creations being restricted.\n\n');
    expect(sim.branches().has('mesh-upgrade/prod/x')).toBe(false);
    // Other refs are not targeted.
    await octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/feature', sha });
    sim.removeRuleset('bots');
    await octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/mesh-upgrade/prod/x', sha });
    expect(sim.branches().get('mesh-upgrade/prod/x')).toBe(sha);
  });

  it('enforces a branch-name pattern on creation, and restricted updates and deletions', async () => {
    sim.addRuleset({
      name: 'names',
      include: /^refs\/heads\//,
      namePattern: { pattern: /^(main|release\/.+)$/, description: 'main or release/*' },
    });
    const sha = await commit();
    const refused = await failure(octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/mesh-upgrade/x', sha }));
    expect(refused.data.message).toContain("Ref name must match the pattern 'main or release/*'.");
    sim.removeRuleset('names');
    sim.addRuleset({ name: 'locks', include: /^refs\/mesh-upgrade\//, restrict: ['update', 'deletion'] });
    await octokit.rest.git.createRef({ ...ref, ref: 'refs/mesh-upgrade/locks/prod', sha });
    expect(
      (await failure(octokit.rest.git.updateRef({ ...ref, ref: 'mesh-upgrade/locks/prod', sha, force: true }))).data.message,
    ).toContain('Cannot update this protected ref.');
    expect((await failure(octokit.rest.git.deleteRef({ ...ref, ref: 'mesh-upgrade/locks/prod' }))).data.message).toContain(
      'Cannot delete this protected ref.',
    );
  });

  it('offers GitHub’s other 422 answers for fault injection', async () => {
    const sha = await commit();
    sim.failNext({ method: 'POST', pathPattern: /\/git\/refs$/ }, REF_ANSWERS.updateFailed);
    sim.failNext(
      { method: 'POST', pathPattern: /\/git\/refs$/ },
      REF_ANSWERS.ruleViolation('Cannot create ref due to creations being restricted.'),
    );
    expect((await failure(octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/a', sha }))).data.message).toBe('Reference update failed');
    expect((await failure(octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/a', sha }))).data.message).toMatch(
      /^Repository rule violations found\n\nCannot create ref/,
    );
    await octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/a', sha });
    expect((await failure(octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/a', sha }))).data.message).toBe('Reference already exists');
  });
});
