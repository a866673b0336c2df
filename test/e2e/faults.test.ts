import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../../demo/harness.js';
import { TARGET } from '../../demo/scenarios/drive.js';

/** Upgrade started, control-plane PR merged: the next `/upgrade continue` opens the gateways PR. */
async function atGatewaysStep() {
  const h = await DemoHarness.create();
  const issue = h.openIssue('alice', 'Upgrade ASM');
  await h.comment('alice', issue, `/upgrade ${TARGET}`);
  await h.merge(2);
  const { payload } = h.sim.commentAs('alice', issue, '/upgrade continue');
  return { h, issue, payload };
}

function assertOneGatewaysPhase(h: DemoHarness, issue: number): void {
  const gateways = h.sim.pullRequests().filter((p) => p.head.ref.endsWith('02-gateways'));
  expect(gateways).toHaveLength(1);
  expect([...h.sim.branches().keys()].filter((b) => b.endsWith('02-gateways'))).toHaveLength(1);
  const sticky = h.sim.comments(issue).filter((c) => (c.body ?? '').includes('mesh-upgrade-state'));
  expect(sticky).toHaveLength(1);
  expect(h.state(issue)?.phases.find((p) => p.id === 'gateways')).toMatchObject({ status: 'open', pr: gateways[0]!.number });
  expect(h.sim.violations.join('\n')).toBe('');
}

describe('faults while a phase is opened', () => {
  it.each([
    ['POST', /\/git\/trees$/],
    ['POST', /\/git\/commits$/],
    ['POST', /\/git\/refs$/],
    ['GET', /\/pulls$/],
    ['POST', /\/pulls$/],
    ['POST', /\/issues\/\d+\/labels$/],
    ['PATCH', /\/issues\/comments\/\d+$/],
  ])('GitHub 502s on %s %s beyond the retries: the redelivered event completes the phase once', async (method, pathPattern) => {
    const { h, issue, payload } = await atGatewaysStep();
    h.sim.failNext({ method, pathPattern }, { status: 502, body: { message: 'Server Error' } }, 4);
    await expect(h.deliver('issue_comment', payload)).rejects.toThrow();
    await h.deliver('issue_comment', payload);
    assertOneGatewaysPhase(h, issue);
  });

  it('GitHub 502s on the repo download while a merge is handled: the next command re-reads and completes', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    h.sim.failNext({ method: 'GET', pathPattern: /\/tarball\// }, { status: 502, body: { message: 'Server Error' } }, 4);
    await expect(h.merge(2)).rejects.toThrow();
    await h.comment('alice', issue, '/upgrade continue');
    assertOneGatewaysPhase(h, issue);
  });

  it('a secondary rate limit on the PR creation: the retry of the event opens exactly one PR', async () => {
    const { h, issue, payload } = await atGatewaysStep();
    h.sim.failNext(
      { method: 'POST', pathPattern: /\/pulls$/ },
      {
        status: 403,
        headers: { 'retry-after': '1' },
        body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
      },
      1,
    );
    await expect(h.deliver('issue_comment', payload)).rejects.toThrow();
    await h.deliver('issue_comment', payload);
    assertOneGatewaysPhase(h, issue);
  });

  it('a crash between the commit and the PR: the next event adopts the branch and opens the PR', async () => {
    const { h, issue, payload } = await atGatewaysStep();
    h.sim.failNext({ method: 'POST', pathPattern: /\/pulls$/ }, { status: 500, body: { message: 'boom' } }, 4);
    await expect(h.deliver('issue_comment', payload)).rejects.toThrow();
    const branch = [...h.sim.branches()].find(([b]) => b.endsWith('02-gateways'));
    expect(branch).toBeDefined();
    // The bot restarts; the maintainer asks for the status.
    h.restart();
    await h.comment('alice', issue, '/upgrade continue');
    assertOneGatewaysPhase(h, issue);
    expect(h.sim.branches().get(branch![0])).toBe(branch![1]);
  });

  it('a flood of 1,000 comments on one issue (100 of them the same command) opens one PR, without a comment storm', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade ASM');
    const payloads = Array.from(
      { length: 1000 },
      (_, i) => h.sim.commentAs('alice', issue, i % 10 === 0 ? `/upgrade ${TARGET}` : `+1 (${i})`).payload,
    );
    const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
    collect();
    const before = process.memoryUsage().heapUsed;
    await Promise.all(payloads.map((p) => h.deliver('issue_comment', p)));
    collect();
    expect(h.sim.pullRequests()).toHaveLength(1);
    // The sticky comment and the one hand-over (the PR to review), nothing else.
    const bot = h.sim.comments(issue).filter((c) => c.user?.login === h.sim.botLogin);
    expect(bot).toHaveLength(2);
    expect(h.handovers(issue)).toHaveLength(1);
    expect(h.state(issue)?.status).toBe('running');
    // What the app keeps after the burst (the simulator's own 1,000 comments included).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(100 * 1024 * 1024);
    expect(h.sim.violations).toEqual([]);
  }, 120_000);
});
