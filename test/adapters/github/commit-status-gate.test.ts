import { describe, expect, it } from 'vitest';
import { CommitStatusGate } from '../../../src/adapters/github/commit-status-gate.js';
import type { GateQuestion } from '../../../src/core/gate.js';

const X = 'a'.repeat(40);
const HEAD = 'b'.repeat(40);
const NOW = new Date('2026-11-22T10:05:00Z');

type Status = { context: string; state: string; description: string | null; createdAt: string };

const question = (applications: string[], over: Partial<GateQuestion> = {}): GateQuestion => ({
  cluster: 'prod',
  phase: 'gateways',
  mergeSha: X,
  continued: false,
  now: NOW,
  mergedAt: new Date('2026-11-22T10:00:00Z'),
  healthySince: null,
  wasHealthy: false,
  applications,
  expectations: { healthy: [], absent: [], migratedNamespaces: [], oldProxyTag: null },
  ...over,
});

/** `statuses` newest first, as GitHub lists them; `secondsAgo` before NOW. */
function gate(statuses: Array<[context: string, state: string, secondsAgo: number, description?: string]>) {
  const list: Status[] = statuses.map(([context, state, ago, description]) => ({ context, state, description: description ?? null, createdAt: new Date(NOW.getTime() - ago * 1000).toISOString() }));
  const repo = {
    getBranchHead: async () => ({ sha: HEAD, treeSha: 't' }),
    compare: async () => 'ahead' as const,
    listCommitStatuses: async (sha: string) => (sha === HEAD ? list : []),
  };
  return new CommitStatusGate(repo, async () => 'main', { stabilityWindowMs: 60_000 });
}

describe('CommitStatusGate: token-free mode holds for the stability window (issue 11 item 6)', () => {
  it('does not pass on a success that just appeared (on-deployed can fire while the rollout still runs)', async () => {
    const outcome = await gate([['continuous-delivery/prod-mesh', 'success', 5, 'Argo CD: synced and healthy']]).evaluate(question(['prod-mesh']));
    expect(outcome.decision).toEqual({ status: 'wait', reason: 'Argo CD Notifications reported prod-mesh deployed; holding for another 55 s (no failure may follow)' });
    // The window starts at the status: the workflow checks again exactly when it ends.
    expect(outcome.healthySince).toEqual(new Date(NOW.getTime() - 5_000));
  });

  it('passes once the success is older than the window with no failure after it', async () => {
    const outcome = await gate([['continuous-delivery/prod-mesh', 'success', 61]]).evaluate(question(['prod-mesh']));
    expect(outcome.decision).toEqual({ status: 'pass', summary: 'Argo CD Notifications reported prod-mesh deployed at or after the merge commit, with no failure for 61 s' });
    expect(outcome.wasHealthy).toBe(true);
  });

  it('fails on a failure status that came after the success (on-health-degraded)', async () => {
    const outcome = await gate([
      ['continuous-delivery/prod-mesh', 'failure', 10, 'Argo CD: health degraded'],
      ['continuous-delivery/prod-mesh', 'success', 70, 'Argo CD: synced and healthy'],
    ]).evaluate(question(['prod-mesh']));
    expect(outcome.decision).toEqual({ status: 'fail', reason: 'Argo CD reported prod-mesh failure: Argo CD: health degraded', resources: [] });
  });

  it('the newest report counts: a success after an old failure holds the window afresh', async () => {
    const outcome = await gate([
      ['continuous-delivery/prod-mesh', 'success', 20],
      ['continuous-delivery/prod-mesh', 'failure', 200],
    ]).evaluate(question(['prod-mesh']));
    expect(outcome.decision.status).toBe('wait');
  });

  it('matches the context exactly: prod-mesh does not count for prod-mesh-canary, nor the reverse', async () => {
    const canaryOnly = gate([['continuous-delivery/prod-mesh-canary', 'success', 300]]);
    expect(await canaryOnly.evaluate(question(['prod-mesh']))).toMatchObject({ decision: { status: 'wait', reason: 'waiting for Argo CD Notifications to report prod-mesh deployed' } });
    const meshOnly = gate([['continuous-delivery/prod-mesh', 'success', 300]]);
    expect(await meshOnly.evaluate(question(['prod-mesh-canary']))).toMatchObject({ decision: { status: 'wait', reason: 'waiting for Argo CD Notifications to report prod-mesh-canary deployed' } });
    // Another app's failure is not this app's.
    const otherFailed = gate([
      ['continuous-delivery/prod-mesh-canary', 'failure', 10],
      ['continuous-delivery/prod-mesh', 'success', 300],
    ]);
    expect((await otherFailed.evaluate(question(['prod-mesh']))).decision.status).toBe('pass');
    // Nor does a context that merely contains the name.
    const ci = gate([['ci/prod-mesh-lint', 'success', 300]]);
    expect((await ci.evaluate(question(['prod-mesh']))).decision.status).toBe('wait');
  });

  it('waits for every application; the last success starts the window', async () => {
    const g = gate([
      ['continuous-delivery/prod-mesh-canary', 'success', 30],
      ['continuous-delivery/prod-mesh', 'success', 300],
    ]);
    expect((await g.evaluate(question(['prod-mesh', 'prod-mesh-canary']))).decision).toEqual({
      status: 'wait',
      reason: 'Argo CD Notifications reported prod-mesh, prod-mesh-canary deployed; holding for another 30 s (no failure may follow)',
    });
  });
});
