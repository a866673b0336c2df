import { generateKeyPairSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Octokit } from '@octokit/rest';
import { verify } from '@octokit/webhooks-methods';
import { Probot } from 'probot';
import { extract } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOpenApiDocument } from '../../../demo/github/openapi-validator.js';
import { ROUTES } from '../../../demo/github/routes.js';
import { GitHubSimulator } from '../../../demo/github/simulator.js';
import { silentOctokitLog } from '../../helpers/silent-logger.js';

const OWNER = 'acme';
const REPO = 'cluster-config';
const ref = { owner: OWNER, repo: REPO };
const SECRET = 'webhook-secret';
const FILES = new Map([
  ['README.md', '# cluster config\n'],
  ['.github/mesh-upgrade.yml', 'lock: refs/mesh-upgrade/lock\n'],
  ['clusters/prod/istio-system/istiod.yaml', 'kind: Deployment\nrevision: 1-21-2\n'],
  ['clusters/prod/apps/shop.yaml', 'kind: Namespace\nname: shop\n'],
]);
/** Any three-part token passes as the App's JWT (the simulator cannot check the signature). */
const FAKE_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjQyNDJ9.c2lnbmF0dXJl';

let sim: GitHubSimulator;
let octokit: Octokit;

beforeEach(async () => {
  sim = new GitHubSimulator({
    owner: OWNER,
    repo: REPO,
    files: FILES,
    collaborators: { alice: 'admin', mona: 'maintain', bob: 'write', carol: 'triage', dave: 'read' },
    webhookSecret: SECRET,
    appId: 4242,
    installationId: 777,
  });
  // The App's way in: JWT → installation token → API calls as mesh-upgrade-bot[bot].
  const asApp = new Octokit({ auth: FAKE_JWT, request: { fetch: sim.fetch }, log: silentOctokitLog });
  const { data: token } = await asApp.rest.apps.createInstallationAccessToken({ installation_id: 777 });
  expect(token.token).toMatch(/^ghs_sim/);
  octokit = new Octokit({ auth: token.token, request: { fetch: sim.fetch }, log: silentOctokitLog });
});

afterEach(() => {
  expect(sim.violations).toEqual([]);
});

/** The HTTP status of an Octokit call, whether it resolved or threw. */
async function statusOf(promise: Promise<{ status: number }>): Promise<number> {
  try {
    return (await promise).status;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

/** A webhook receiver that keeps what it is given. */
function recorder() {
  const deliveries: Array<{ id: string; name: string; payload: string; signature: string }> = [];
  return { deliveries, verifyAndReceive: async (delivery: (typeof deliveries)[number]) => void deliveries.push(delivery) };
}

/** A commit on top of `branch` changing files through the Git Data API, as the app does it. */
async function commitOnto(branch: string, changes: Record<string, string | null>, message: string): Promise<string> {
  const { data: head } = await octokit.rest.repos.getBranch({ ...ref, branch });
  const { data: tree } = await octokit.rest.git.createTree({
    ...ref,
    base_tree: head.commit.commit.tree.sha,
    tree: Object.entries(changes).map(([path, content]) =>
      content === null
        ? { path, mode: '100644' as const, type: 'blob' as const, sha: null }
        : { path, mode: '100644' as const, type: 'blob' as const, content },
    ),
  });
  const { data: commit } = await octokit.rest.git.createCommit({ ...ref, message, tree: tree.sha, parents: [head.commit.sha] });
  return commit.sha;
}

describe('git data', () => {
  it('computes real git object ids', async () => {
    const { data: blob } = await octokit.rest.git.createBlob({ ...ref, content: 'hello\n' });
    expect(blob.sha).toBe('ce013625030ba8dba906f756967f9e9ca394464a'); // `echo hello | git hash-object --stdin`
    const { data: tree } = await octokit.rest.git.createTree({
      ...ref,
      tree: [{ path: 'hello.txt', mode: '100644', type: 'blob', sha: blob.sha }],
    });
    expect(tree.sha).toBe('aaa96ced2d9a1c8e72c56b253a0e2fe78393feb7'); // `git mktree` of that one entry
    const { data: read } = await octokit.rest.git.getBlob({ ...ref, file_sha: blob.sha });
    expect(Buffer.from(read.content, 'base64').toString()).toBe('hello\n');
  });

  it('creates trees from a base tree, commits and refs', async () => {
    const sha = await commitOnto(
      'main',
      { 'clusters/prod/istio-system/istiod-1-22-1.yaml': 'kind: Deployment\nrevision: 1-22-1\n', 'clusters/prod/apps/shop.yaml': null },
      'mesh-upgrade: control plane',
    );
    const { data: created } = await octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/mesh-upgrade/control-plane', sha });
    expect(created.object.sha).toBe(sha);
    expect(await statusOf(octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/mesh-upgrade/control-plane', sha }))).toBe(422);

    const { data: got } = await octokit.rest.git.getRef({ ...ref, ref: 'heads/mesh-upgrade/control-plane' });
    expect(got).toMatchObject({ ref: 'refs/heads/mesh-upgrade/control-plane', object: { type: 'commit', sha } });
    const { data: matching } = await octokit.rest.git.listMatchingRefs({ ...ref, ref: 'heads/mesh-upgrade/' });
    expect(matching.map((r) => r.ref)).toEqual(['refs/heads/mesh-upgrade/control-plane']);
    expect(await statusOf(octokit.rest.git.getRef({ ...ref, ref: 'heads/nope' }))).toBe(404);

    const { data: commit } = await octokit.rest.git.getCommit({ ...ref, commit_sha: sha });
    expect(commit.message).toBe('mesh-upgrade: control plane');
    expect(commit.author.email).toMatch(/\+mesh-upgrade-bot\[bot\]@users\.noreply\.github\.com$/);
    expect(commit.verification.verified).toBe(true);
    const { data: tree } = await octokit.rest.git.getTree({ ...ref, tree_sha: commit.tree.sha, recursive: '1' });
    const paths = tree.tree.filter((e) => e.type === 'blob').map((e) => e.path);
    expect(paths).toContain('clusters/prod/istio-system/istiod-1-22-1.yaml');
    expect(paths).not.toContain('clusters/prod/apps/shop.yaml');
    expect(sim.filesAt('mesh-upgrade/control-plane').get('clusters/prod/istio-system/istiod-1-22-1.yaml')).toContain('1-22-1');

    await octokit.rest.git.deleteRef({ ...ref, ref: 'heads/mesh-upgrade/control-plane' });
    expect(await statusOf(octokit.rest.git.deleteRef({ ...ref, ref: 'heads/mesh-upgrade/control-plane' }))).toBe(422);
    expect([...sim.branches().keys()]).toEqual(['main']);
  });

  it('refuses a non-fast-forward update unless forced', async () => {
    const first = await commitOnto('main', { 'a.yaml': 'a: 1\n' }, 'first');
    await octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/topic', sha: first });
    const sibling = await commitOnto('main', { 'b.yaml': 'b: 1\n' }, 'sibling');
    const error = await octokit.rest.git.updateRef({ ...ref, ref: 'heads/topic', sha: sibling, force: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 422, response: { data: { message: 'Update is not a fast forward' } } });

    const child = await commitOnto('topic', { 'a.yaml': 'a: 2\n' }, 'child');
    await octokit.rest.git.updateRef({ ...ref, ref: 'heads/topic', sha: child, force: false });
    await octokit.rest.git.updateRef({ ...ref, ref: 'heads/topic', sha: sibling, force: true });
    expect(sim.branches().get('topic')).toBe(sibling);
  });

  it('compares branches like GitHub (ahead, behind, diverged, merge base)', async () => {
    const mainBefore = sim.branches().get('main')!;
    const ahead = await commitOnto('main', { 'x.yaml': 'x: 1\n' }, 'x');
    await octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/x', sha: ahead });
    const { data: comparison } = await octokit.rest.repos.compareCommitsWithBasehead({ ...ref, basehead: 'main...x' });
    expect(comparison).toMatchObject({ status: 'ahead', ahead_by: 1, behind_by: 0, merge_base_commit: { sha: mainBefore } });
    expect(comparison.files?.map((f) => [f.filename, f.status])).toEqual([['x.yaml', 'added']]);
    expect(comparison.commits[0]?.author?.login).toBe('mesh-upgrade-bot[bot]');

    sim.pushCommit('main', { 'README.md': '# changed\n' }, 'docs', 'alice');
    const { data: diverged } = await octokit.rest.repos.compareCommits({ ...ref, base: 'main', head: 'x' });
    expect(diverged).toMatchObject({ status: 'diverged', ahead_by: 1, behind_by: 1 });
    const { data: identical } = await octokit.rest.repos.compareCommitsWithBasehead({ ...ref, basehead: 'x...x' });
    expect(identical.status).toBe('identical');
  });

  it('serves a tarball of the tree at a ref', async () => {
    const head = sim.branches().get('main')!;
    const response = await octokit.rest.repos.downloadTarballArchive({ ...ref, ref: head, request: { parseSuccessResponseBody: false } });
    expect(response.headers['content-type']).toBe('application/x-gzip');
    const bytes = new Uint8Array(await new Response(response.data as unknown as ReadableStream).arrayBuffer());
    const entries = await untar(gunzipSync(bytes));
    const top = `${OWNER}-${REPO}-${head.slice(0, 7)}/`;
    expect([...entries.keys()].every((name) => name.startsWith(top))).toBe(true);
    const files = new Map([...entries].filter(([name]) => !name.endsWith('/')).map(([name, text]) => [name.slice(top.length), text]));
    expect(files).toEqual(FILES);
  });

  it('reads files through the contents API', async () => {
    const { data } = await octokit.rest.repos.getContent({ ...ref, path: '.github/mesh-upgrade.yml', ref: 'main' });
    expect(Array.isArray(data) ? null : data.type === 'file' && Buffer.from(data.content, 'base64').toString()).toBe(
      FILES.get('.github/mesh-upgrade.yml'),
    );
    expect(await statusOf(octokit.rest.repos.getContent({ ...ref, path: '.github/missing.yml' }))).toBe(404);
    const { data: repo } = await octokit.rest.repos.get({ ...ref });
    expect(repo.default_branch).toBe('main');
  });
});

describe('pull requests', () => {
  async function branchWith(branch: string, changes: Record<string, string | null>): Promise<string> {
    const sha = await commitOnto('main', changes, `mesh-upgrade: ${branch}`);
    await octokit.rest.git.createRef({ ...ref, ref: `refs/heads/${branch}`, sha });
    return sha;
  }

  it('opens, refuses duplicates and empty branches, and merges with a three-way merge', async () => {
    const head = await branchWith('mesh-upgrade/gateways', {
      'clusters/prod/istio-system/istiod.yaml': 'kind: Deployment\nrevision: 1-22-1\n',
    });
    const { data: pr } = await octokit.rest.pulls.create({
      ...ref,
      head: 'mesh-upgrade/gateways',
      base: 'main',
      title: 'Gateways',
      body: 'phase 2',
    });
    expect(pr).toMatchObject({
      number: 1,
      state: 'open',
      user: { login: 'mesh-upgrade-bot[bot]', type: 'Bot' },
      head: { ref: 'mesh-upgrade/gateways', sha: head },
    });
    expect(pr.html_url).toBe(`https://github.com/${OWNER}/${REPO}/pull/1`);

    const duplicate = await octokit.rest.pulls
      .create({ ...ref, head: 'mesh-upgrade/gateways', base: 'main', title: 'again' })
      .catch((e: unknown) => e);
    expect(duplicate).toMatchObject({
      status: 422,
      response: { data: { errors: [{ message: `A pull request already exists for ${OWNER}:mesh-upgrade/gateways.` }] } },
    });
    await octokit.rest.git.createRef({ ...ref, ref: 'refs/heads/empty', sha: sim.branches().get('main')! });
    expect(await statusOf(octokit.rest.pulls.create({ ...ref, head: 'empty', base: 'main', title: 'nothing' }))).toBe(422);

    const { data: listed } = await octokit.rest.pulls.list({ ...ref, head: `${OWNER}:mesh-upgrade/gateways`, state: 'all' });
    expect(listed.map((p) => p.number)).toEqual([1]);
    const { data: files } = await octokit.rest.pulls.listFiles({ ...ref, pull_number: 1 });
    expect(files.map((f) => [f.filename, f.status, f.additions, f.deletions])).toEqual([
      ['clusters/prod/istio-system/istiod.yaml', 'modified', 1, 1],
    ]);

    // The base moves on a different file: GitHub still merges cleanly.
    sim.pushCommit('main', { 'README.md': '# moved on\n' }, 'docs', 'alice');
    const baseBefore = sim.branches().get('main')!;
    const { data: merge } = await octokit.rest.pulls.merge({ ...ref, pull_number: 1, sha: head });
    expect(merge.merged).toBe(true);
    const { data: mergeCommit } = await octokit.rest.git.getCommit({ ...ref, commit_sha: merge.sha });
    expect(mergeCommit.parents.map((p) => p.sha)).toEqual([baseBefore, head]);
    const merged = sim.filesAt('main');
    expect(merged.get('README.md')).toBe('# moved on\n');
    expect(merged.get('clusters/prod/istio-system/istiod.yaml')).toContain('1-22-1');

    const { data: after } = await octokit.rest.pulls.get({ ...ref, pull_number: 1 });
    expect(after).toMatchObject({ state: 'closed', merged: true, merge_commit_sha: merge.sha });
    expect(await statusOf(octokit.rest.pulls.merge({ ...ref, pull_number: 1 }))).toBe(405);
  });

  it('reports conflicts as not mergeable', async () => {
    await branchWith('conflict', { 'README.md': '# from the branch\n' });
    await octokit.rest.pulls.create({ ...ref, head: 'conflict', base: 'main', title: 'conflict' });
    sim.pushCommit('main', { 'README.md': '# from main\n' }, 'clash', 'alice');
    const { data: pr } = await octokit.rest.pulls.get({ ...ref, pull_number: 1 });
    expect(pr).toMatchObject({ mergeable: false, mergeable_state: 'dirty' });
    expect(await statusOf(octokit.rest.pulls.merge({ ...ref, pull_number: 1 }))).toBe(405);
  });

  it('returns valid pull_request.closed payloads for human merges and closes', async () => {
    await branchWith('one', { 'one.yaml': '1\n' });
    await branchWith('two', { 'two.yaml': '2\n' });
    await octokit.rest.pulls.create({ ...ref, head: 'one', base: 'main', title: 'one' });
    await octokit.rest.pulls.create({ ...ref, head: 'two', base: 'main', title: 'two' });

    const merged = sim.mergePullRequest(1, 'bob');
    expect(merged).toMatchObject({
      action: 'closed',
      number: 1,
      pull_request: { merged: true, merged_by: { login: 'bob' } },
      sender: { login: 'bob' },
      installation: { id: 777 },
    });
    const closed = sim.closePullRequest(2, 'carol');
    expect(closed).toMatchObject({ action: 'closed', pull_request: { merged: false, state: 'closed' } });
    const target = recorder();
    await sim.deliver(target, 'pull_request', merged); // validated against pull_request$closed on the way
    expect(await verify(SECRET, target.deliveries[0]!.payload, target.deliveries[0]!.signature)).toBe(true);
    expect(() => sim.mergePullRequest(2, 'dave')).toThrow();
    expect(sim.pullRequests().map((p) => [p.number, p.state, p.merged])).toEqual([
      [1, 'closed', true],
      [2, 'closed', false],
    ]);
  });

  it('closes a pull request whose head branch is deleted', async () => {
    await branchWith('gone', { 'gone.yaml': 'x\n' });
    await octokit.rest.pulls.create({ ...ref, head: 'gone', base: 'main', title: 'gone' });
    await octokit.rest.git.deleteRef({ ...ref, ref: 'heads/gone' });
    const { data } = await octokit.rest.pulls.get({ ...ref, pull_number: 1 });
    expect(data).toMatchObject({ state: 'closed', merged: false });
  });
});

describe('issues, comments, reactions and labels', () => {
  it('paginates comments with Link headers and tells bots from users', async () => {
    const { issue } = sim.openIssue('alice', 'Upgrade prod to 1-22-1', '/upgrade plan 1-22-1');
    const number = issue.number;
    sim.commentAs('alice', number, '/upgrade start');
    for (let i = 1; i <= 4; i++) await octokit.rest.issues.createComment({ ...ref, issue_number: number, body: `step ${i}` });

    const page = await octokit.rest.issues.listComments({ ...ref, issue_number: number, per_page: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.headers.link).toContain('rel="next"');
    expect(page.headers.link).toContain('page=3>; rel="last"');

    const all = await octokit.paginate(octokit.rest.issues.listComments, { ...ref, issue_number: number, per_page: 2 });
    expect(all.map((c) => c.body)).toEqual(['/upgrade start', 'step 1', 'step 2', 'step 3', 'step 4']);
    expect(all.map((c) => c.user?.type)).toEqual(['User', 'Bot', 'Bot', 'Bot', 'Bot']);
    expect(new Set(all.map((c) => c.id)).size).toBe(5);
    expect(all.map((c) => c.created_at)).toEqual([...all.map((c) => c.created_at)].sort());
    expect(all[1]!.html_url).toBe(`https://github.com/${OWNER}/${REPO}/issues/${number}#issuecomment-${all[1]!.id}`);

    const id = all[1]!.id;
    await octokit.rest.issues.updateComment({ ...ref, comment_id: id, body: 'step 1 (edited)' });
    await octokit.rest.issues.deleteComment({ ...ref, comment_id: all[2]!.id });
    expect(sim.comments(number).map((c) => c.body)).toEqual(['/upgrade start', 'step 1 (edited)', 'step 3', 'step 4']);
  });

  it('answers 201 for a new reaction and 200 for a repeated one', async () => {
    const { issue } = sim.openIssue('alice', 'Upgrade', '');
    const { comment } = sim.commentAs('alice', issue.number, '/upgrade start');
    const first = await octokit.rest.reactions.createForIssueComment({ ...ref, comment_id: comment.id, content: 'eyes' });
    const again = await octokit.rest.reactions.createForIssueComment({ ...ref, comment_id: comment.id, content: 'eyes' });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.data.id).toBe(first.data.id);
    const { data } = await octokit.rest.reactions.listForIssueComment({ ...ref, comment_id: comment.id });
    expect(data.map((r) => [r.content, r.user?.login])).toEqual([['eyes', 'mesh-upgrade-bot[bot]']]);
  });

  it('creates labels on demand and filters issues by label and state', async () => {
    await octokit.rest.issues.createLabel({ ...ref, name: 'mesh-upgrade', color: '0e8a16' });
    expect(await statusOf(octokit.rest.issues.createLabel({ ...ref, name: 'mesh-upgrade' }))).toBe(422);
    const { issue: one } = sim.openIssue('alice', 'one', '');
    sim.openIssue('alice', 'two', '');
    const { data: labels } = await octokit.rest.issues.addLabels({
      ...ref,
      issue_number: one.number,
      labels: ['mesh-upgrade', 'phase:gateways'],
    });
    expect(labels.map((l) => l.name)).toEqual(['mesh-upgrade', 'phase:gateways']);

    const { data: labelled } = await octokit.rest.issues.listForRepo({ ...ref, labels: 'mesh-upgrade,phase:gateways' });
    expect(labelled.map((i) => i.title)).toEqual(['one']);
    await octokit.rest.issues.update({ ...ref, issue_number: one.number, state: 'closed' });
    expect((await octokit.rest.issues.listForRepo({ ...ref, labels: 'mesh-upgrade' })).data).toEqual([]);
    expect((await octokit.rest.issues.listForRepo({ ...ref, state: 'closed' })).data.map((i) => i.title)).toEqual(['one']);
  });

  it('reports collaborator permissions the way GitHub folds roles', async () => {
    const permission = async (username: string) => (await octokit.rest.repos.getCollaboratorPermissionLevel({ ...ref, username })).data;
    expect(await permission('alice')).toMatchObject({ permission: 'admin', role_name: 'admin' });
    expect(await permission('mona')).toMatchObject({ permission: 'write', role_name: 'maintain' });
    expect(await permission('carol')).toMatchObject({ permission: 'read', role_name: 'triage' });
    expect(await permission('stranger')).toMatchObject({ permission: 'none', user: { login: 'stranger' } });
  });

  it('keeps commit statuses and combines them per context', async () => {
    const sha = sim.branches().get('main')!;
    await octokit.rest.repos.createCommitStatus({ ...ref, sha, state: 'pending', context: 'ci/lint' });
    sim.setStatus(sha, 'success', 'ci/lint', 'lint passed');
    const payload = sim.setStatus(sha, 'failure', 'ci/e2e', 'e2e failed', 'https://ci.example/1');
    expect(payload).toMatchObject({ sha, state: 'failure', context: 'ci/e2e', branches: [{ name: 'main' }] });
    const { data: combined } = await octokit.rest.repos.getCombinedStatusForRef({ ...ref, ref: 'main' });
    expect(combined.state).toBe('failure');
    expect(combined.statuses.map((s) => [s.context, s.state]).sort()).toEqual([
      ['ci/e2e', 'failure'],
      ['ci/lint', 'success'],
    ]);
    const { data: statuses } = await octokit.rest.repos.listCommitStatusesForRef({ ...ref, ref: sha });
    expect(statuses).toHaveLength(3);
  });
});

describe('request checking', () => {
  it('records unknown routes and invalid bodies as violations', async () => {
    expect(await statusOf(octokit.request('GET /repos/{owner}/{repo}/no-such-thing', ref))).toBe(404);
    const invalid = await octokit
      .request('POST /repos/{owner}/{repo}/git/refs', { ...ref, ref: 'refs/heads/x' } as never)
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 422 });
    expect(sim.violations).toHaveLength(2);
    expect(sim.violations[0]).toMatch(/GET \/repos\/acme\/cluster-config\/no-such-thing: no such route/);
    expect(sim.violations[1]).toMatch(/POST \/repos\/acme\/cluster-config\/git\/refs: body must have required property 'sha'/);
    sim.violations.length = 0;
  });

  it('requires an issued token', async () => {
    const anonymous = new Octokit({ request: { fetch: sim.fetch }, log: silentOctokitLog });
    expect(await statusOf(anonymous.rest.repos.get({ ...ref }))).toBe(401);
    const forged = new Octokit({ auth: 'ghs_forged', request: { fetch: sim.fetch }, log: silentOctokitLog });
    expect(await statusOf(forged.rest.repos.get({ ...ref }))).toBe(401);
  });

  it('logs requests and injects faults', async () => {
    sim.resetRequestLog();
    sim.failNext({ method: 'GET', pathPattern: /\/git\/ref\// }, { status: 502, body: { message: 'Server Error' } });
    expect(await statusOf(octokit.rest.git.getRef({ ...ref, ref: 'heads/main' }))).toBe(502);
    expect(await statusOf(octokit.rest.git.getRef({ ...ref, ref: 'heads/main' }))).toBe(200);
    expect(sim.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', `/repos/${OWNER}/${REPO}/git/ref/heads/main`, 502],
      ['GET', `/repos/${OWNER}/${REPO}/git/ref/heads/main`, 200],
    ]);
  });
});

describe('webhooks', () => {
  it('builds valid, signed issue_comment.created deliveries', async () => {
    const { issue } = sim.openIssue('alice', 'Upgrade', '');
    const { payload } = sim.commentAs('alice', issue.number, '/upgrade start');
    expect(payload).toMatchObject({
      action: 'created',
      comment: { body: '/upgrade start', user: { login: 'alice', type: 'User' }, author_association: 'COLLABORATOR' },
      installation: { id: 777 },
    });

    const target = recorder();
    const id = await sim.deliver(target, 'issue_comment', payload);
    await sim.deliver(target, 'issue_comment', payload, { id }); // a redelivery keeps its id
    const [first, second] = target.deliveries;
    expect(first!.name).toBe('issue_comment');
    expect(second!.id).toBe(first!.id);
    expect(await verify(SECRET, first!.payload, first!.signature)).toBe(true);
    expect(first!.signature).toBe(await sim.signPayload(first!.payload));
    expect(JSON.parse(first!.payload)).toEqual(payload);
  });

  it('refuses to deliver a payload the webhook schema rejects', async () => {
    const { issue } = sim.openIssue('alice', 'Upgrade', '');
    const { payload } = sim.commentAs('alice', issue.number, 'hi');
    const { comment: _dropped, ...broken } = payload;
    await expect(sim.deliver(recorder(), 'issue_comment', broken)).rejects.toThrow(/issue_comment\$created.*comment/s);
  });

  it('drives a real Probot app end to end', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const probot = new Probot({ appId: 4242, privateKey, secret: SECRET, logLevel: 'fatal', request: { fetch: sim.fetch } });
    probot.on('issue_comment.created', async (context) => {
      await context.octokit.rest.reactions.createForIssueComment(context.repo({ comment_id: context.payload.comment.id, content: 'eyes' }));
      await context.octokit.rest.issues.createComment(context.issue({ body: `seen: ${context.payload.comment.body}` }));
    });
    await probot.ready();
    const { issue } = sim.openIssue('alice', 'Upgrade', '');
    const { comment, payload } = sim.commentAs('alice', issue.number, '/upgrade start');
    await sim.deliver(probot.webhooks, 'issue_comment', payload);

    expect(sim.reactions(comment.id).map((r) => r.content)).toEqual(['eyes']);
    expect(sim.comments(issue.number).map((c) => [c.user?.login, c.body])).toEqual([
      ['alice', '/upgrade start'],
      ['mesh-upgrade-bot[bot]', 'seen: /upgrade start'],
    ]);
  });
});

describe('route coverage', () => {
  it('implements only operations of the OpenAPI description', () => {
    const document = loadOpenApiDocument() as { paths: Record<string, Record<string, { operationId?: string }>> };
    const described = new Set(Object.values(document.paths).flatMap((item) => Object.values(item).map((op) => op.operationId)));
    expect(Object.keys(ROUTES).filter((id) => !described.has(id))).toEqual([]);
  });

  // Every answer below is checked against its OpenAPI response schema (afterEach: no violations).
  it('answers the remaining routes in their documented shapes', async () => {
    const asApp = new Octokit({ auth: FAKE_JWT, request: { fetch: sim.fetch }, log: silentOctokitLog });
    expect((await asApp.rest.apps.getAuthenticated()).data?.slug).toBe('mesh-upgrade-bot');
    expect((await asApp.rest.apps.getRepoInstallation({ ...ref })).data.id).toBe(777);
    expect((await asApp.rest.apps.getInstallation({ installation_id: 777 })).data.app_id).toBe(4242);
    expect((await octokit.rest.apps.listReposAccessibleToInstallation()).data.total_count).toBe(1);
    expect(await statusOf(octokit.rest.apps.getAuthenticated())).toBe(401); // installation tokens are not JWTs

    // contents: create, update (needs the blob sha), delete
    const created = await octokit.rest.repos.createOrUpdateFileContents({
      ...ref,
      path: 'notes/a.md',
      message: 'add',
      content: Buffer.from('a\n').toString('base64'),
    });
    expect(created.status).toBe(201);
    expect(
      await statusOf(octokit.rest.repos.createOrUpdateFileContents({ ...ref, path: 'notes/a.md', message: 'no sha', content: '' })),
    ).toBe(422);
    const updated = await octokit.rest.repos.createOrUpdateFileContents({
      ...ref,
      path: 'notes/a.md',
      message: 'edit',
      content: Buffer.from('b\n').toString('base64'),
      sha: created.data.content!.sha!,
    });
    expect(updated.status).toBe(200);
    const { data: listing } = await octokit.rest.repos.getContent({ ...ref, path: 'notes' });
    expect(Array.isArray(listing) && listing.map((e) => e.name)).toEqual(['a.md']);
    await octokit.rest.repos.deleteFile({ ...ref, path: 'notes/a.md', message: 'rm', sha: updated.data.content!.sha! });
    expect(sim.filesAt('main').has('notes/a.md')).toBe(false);

    // issues: reactions, labels by name, issue label sets, repo-wide comments
    const { data: issue } = await octokit.rest.issues.create({ ...ref, title: 'Upgrade prod', body: 'plan', labels: ['mesh-upgrade'] });
    expect((await octokit.rest.issues.get({ ...ref, issue_number: issue.number })).data.labels).toHaveLength(1);
    expect((await octokit.rest.reactions.createForIssue({ ...ref, issue_number: issue.number, content: 'rocket' })).status).toBe(201);
    expect((await octokit.rest.reactions.listForIssue({ ...ref, issue_number: issue.number })).data).toHaveLength(1);
    await octokit.rest.issues.setLabels({ ...ref, issue_number: issue.number, labels: ['a', 'b'] });
    expect((await octokit.rest.issues.listLabelsOnIssue({ ...ref, issue_number: issue.number })).data.map((l) => l.name)).toEqual([
      'a',
      'b',
    ]);
    await octokit.rest.issues.updateLabel({ ...ref, name: 'a', new_name: 'phase:a', color: 'ff0000' });
    expect((await octokit.rest.issues.getLabel({ ...ref, name: 'phase:a' })).data.color).toBe('ff0000');
    await octokit.rest.issues.deleteLabel({ ...ref, name: 'b' });
    expect((await octokit.rest.issues.listLabelsForRepo({ ...ref })).data.map((l) => l.name)).toEqual(['mesh-upgrade', 'phase:a']);
    await octokit.rest.issues.removeAllLabels({ ...ref, issue_number: issue.number });
    await octokit.rest.issues.createComment({ ...ref, issue_number: issue.number, body: 'hello' });
    const { data: comments } = await octokit.rest.issues.listCommentsForRepo({ ...ref });
    expect((await octokit.rest.issues.getComment({ ...ref, comment_id: comments[0]!.id })).data.body).toBe('hello');

    // pull requests: commits, merge check, reopen, squash and rebase merges
    for (const branch of ['squash-me', 'rebase-me']) {
      const sha = await commitOnto('main', { [`${branch}.yaml`]: `${branch}\n` }, branch);
      await octokit.rest.git.createRef({ ...ref, ref: `refs/heads/${branch}`, sha });
    }
    const { data: squash } = await octokit.rest.pulls.create({ ...ref, head: `${OWNER}:squash-me`, base: 'main', title: 'squash' });
    const { data: rebase } = await octokit.rest.pulls.create({ ...ref, head: 'rebase-me', base: 'main', title: 'rebase' });
    expect((await octokit.rest.pulls.listCommits({ ...ref, pull_number: squash.number })).data.map((c) => c.commit.message)).toEqual([
      'squash-me',
    ]);
    expect(await statusOf(octokit.rest.pulls.checkIfMerged({ ...ref, pull_number: squash.number }))).toBe(404);
    await octokit.rest.pulls.update({ ...ref, pull_number: squash.number, state: 'closed', title: 'squash it' });
    await octokit.rest.pulls.update({ ...ref, pull_number: squash.number, state: 'open' });
    const { data: squashed } = await octokit.rest.pulls.merge({ ...ref, pull_number: squash.number, merge_method: 'squash' });
    expect((await octokit.rest.git.getCommit({ ...ref, commit_sha: squashed.sha })).data.parents).toHaveLength(1);
    expect(await statusOf(octokit.rest.pulls.checkIfMerged({ ...ref, pull_number: squash.number }))).toBe(204);
    const { data: rebased } = await octokit.rest.pulls.merge({ ...ref, pull_number: rebase.number, merge_method: 'rebase' });
    const { data: replayed } = await octokit.rest.git.getCommit({ ...ref, commit_sha: rebased.sha });
    expect([replayed.message, replayed.parents[0]?.sha]).toEqual(['rebase-me', squashed.sha]);
    expect(sim.filesAt('main').has('squash-me.yaml') && sim.filesAt('main').has('rebase-me.yaml')).toBe(true);
    expect((await octokit.rest.pulls.list({ ...ref, state: 'closed', base: 'main' })).data).toHaveLength(2);
  });
});

async function untar(tar: Buffer): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const extractor = extract();
  const done = new Promise<void>((resolve, reject) => {
    extractor.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        entries.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    });
    extractor.on('finish', resolve);
    extractor.on('error', reject);
  });
  extractor.end(tar);
  await done;
  return entries;
}
