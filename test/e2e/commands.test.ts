import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../../demo/harness.js';
import { TARGET } from '../../demo/scenarios/drive.js';

async function started() {
  const h = await DemoHarness.create();
  const issue = h.openIssue('alice', 'Upgrade ASM');
  await h.comment('alice', issue, `/upgrade ${TARGET}`);
  return { h, issue };
}

describe('commands on the tracking issue', () => {
  it('acknowledges with 👀 and answers help, unknown flags and typos with the valid commands', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Questions');
    await h.comment('alice', issue, '/upgrade help');
    await h.comment('alice', issue, `/upgrade ${TARGET} --force`);
    await h.comment('alice', issue, '/upgrade statsu');
    const replies = h.botReplies(issue);
    expect(replies).toHaveLength(3);
    expect(replies[0]).toContain('`/upgrade abort`');
    expect(replies[1]).toContain('unknown flag `--force`');
    expect(replies[1]).toContain('`--dry-run`');
    expect(replies[2]).toContain('did you mean `status`?');
    for (const c of h.sim.comments(issue).filter((c) => c.user?.login === 'alice')) {
      expect(h.sim.reactions(c.id).map((r) => r.content)).toEqual(['eyes']);
    }
    expect(h.sim.pullRequests()).toEqual([]);
  });

  it('ignores quoted commands, comments on pull requests and bots', async () => {
    const { h, issue } = await started();
    const before = h.sim.requests.length;
    await h.comment('alice', issue, `> /upgrade ${TARGET}\n\nWhat did this do?`);
    await h.comment('alice', 2, '/upgrade abort');
    expect(h.sim.requests.slice(before).filter((r) => r.method !== 'POST' || !r.path.includes('access_tokens'))).toEqual([]);
    expect(h.state(issue)?.status).toBe('running');
  });

  it('refuses an unsupported upgrade path with the reason and the intermediate release', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', issue, '/upgrade asm-1170-0');
    expect(h.botReplies(issue)[0]).toContain('/upgrade asm-1150-0');
    expect(h.sim.pullRequests()).toEqual([]);
    expect([...h.sim.refs().keys()].filter((r) => r.includes('locks'))).toEqual([]);
  });

  it('pauses when a phase PR is closed unmerged, and opens it again on /upgrade continue', async () => {
    const { h, issue } = await started();
    await h.close(2);
    expect(h.state(issue)).toMatchObject({ status: 'paused' });
    expect(h.state(issue)?.reason).toContain('closed without merging');
    await h.comment('alice', issue, '/upgrade continue');
    const open = h.sim.pullRequests().filter((p) => p.state === 'open');
    expect(open.map((p) => p.head.ref)).toEqual([`mesh-upgrade/prod/${TARGET}/01-control-plane`]);
    expect(h.state(issue)).toMatchObject({ status: 'running' });
  });

  it('aborts: closes the open phase PR, releases the cluster, and says so', async () => {
    const { h, issue } = await started();
    await h.comment('alice', issue, '/upgrade abort');
    expect(h.state(issue)?.status).toBe('aborted');
    expect(h.sim.pullRequests().every((p) => p.state === 'closed')).toBe(true);
    expect([...h.sim.refs().keys()].filter((r) => r.includes('locks'))).toEqual([]);
    expect(h.botReplies(issue).at(-1)).toContain('aborted');
    // The cluster is free again.
    const other = h.openIssue('carol', 'Again');
    await h.comment('carol', other, `/upgrade ${TARGET}`);
    expect(h.state(other)?.status).toBe('running');
  });

  it('posts the plan and the would-be PR bodies on --dry-run, creating no branch', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Preview');
    await h.comment('alice', issue, `/upgrade ${TARGET} --dry-run`);
    const sticky = h.stickyComment(issue)!;
    expect(sticky).toContain('**dry run**');
    expect(sticky).toContain('Would open: mesh-upgrade(prod): 1/6 Install control plane');
    expect([...h.sim.branches().keys()]).toEqual(['main']);
    expect(h.sim.pullRequests()).toEqual([]);
  });

  it('never overwrites commits a person pushed to a phase branch', async () => {
    const { h, issue } = await started();
    const branch = `mesh-upgrade/prod/${TARGET}/01-control-plane`;
    const head = h.sim.pushCommit(
      branch,
      {
        'clusters/prod/istio-system/istiocontrolplane-asm-1140-0.yaml':
          'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: hand-edited\n',
      },
      'tweak the new control plane',
      'alice',
    );
    // The PR is closed; /upgrade continue would regenerate the phase on the same branch.
    await h.close(2);
    await h.comment('alice', issue, '/upgrade continue');
    expect(h.sim.branches().get(branch)).toBe(head);
    expect(h.state(issue)).toMatchObject({ status: 'paused' });
    expect(h.state(issue)?.reason).toContain('has commits that the bot did not make');
  });

  it('answers /upgrade status from GitHub alone, after a restart', async () => {
    const { h, issue } = await started();
    h.restart();
    await h.comment('carol', issue, '/upgrade status');
    expect(h.botReplies(issue).at(-1)).toMatch(/Upgrade of `prod` to `asm-1140-0`: \*\*running\*\*.*Current phase: Install control plane/);
  });

  it('names the offending key of a config file with a typo, once', async () => {
    const h = await DemoHarness.create();
    h.sim.pushCommit(
      'main',
      { '.github/mesh-upgrade.yml': 'clusters:\n  - name: prod\n    path: clusters/prod\npodBuget: 10\n' },
      'config',
      'alice',
    );
    const issue = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', issue, `/upgrade ${TARGET}`, 2);
    const replies = h.botReplies(issue);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain('.github/mesh-upgrade.yml: unknown key `podBuget` at top level');
  });

  it('rejects a webhook with a bad signature and does nothing', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    const { payload } = h.sim.commentAs('alice', issue, `/upgrade ${TARGET}`);
    const app = await h.app();
    await expect(
      app.webhooks.verifyAndReceive({
        id: 'forged',
        name: 'issue_comment',
        payload: JSON.stringify(payload),
        signature: `sha256=${'0'.repeat(64)}`,
      }),
    ).rejects.toThrow();
    expect(h.sim.requests).toEqual([]);
  });
});
