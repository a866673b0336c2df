import { describe, expect, it } from 'vitest';
import { CommitStatusGate } from '../../../src/adapters/github/commit-status-gate.js';
import { type GateQuestion, knownFacts } from '../../../src/core/gate.js';

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
  facts: knownFacts(applications),
  ...over,
});

/** `statuses` newest first, as GitHub lists them; `secondsAgo` before NOW. */
function gate(
  statuses: Array<[context: string, state: string, secondsAgo: number, description?: string]>,
  options: { onCommit?: string; commits?: string[]; window?: number } = {},
) {
  const list: Status[] = statuses.map(([context, state, ago, description]) => ({
    context,
    state,
    description: description ?? null,
    createdAt: new Date(NOW.getTime() - ago * 1000).toISOString(),
  }));
  const on = options.onCommit ?? HEAD;
  const read: string[] = [];
  const repo = {
    getBranchHead: async () => ({ sha: HEAD, treeSha: 't' }),
    commitsSince: async () => ({ status: 'ahead' as const, commits: options.commits ?? [HEAD] }),
    listCommitStatuses: async (sha: string) => {
      read.push(sha);
      return sha === on ? list : [];
    },
  };
  return Object.assign(
    new CommitStatusGate(repo, async () => 'main', { stabilityWindowMs: options.window ?? 60_000, timeoutMs: 30 * 60_000 }),
    { read },
  );
}

describe('CommitStatusGate: token-free mode holds for the stability window (issue 11 item 6)', () => {
  it('does not pass on a success that just appeared (on-deployed can fire while the rollout still runs)', async () => {
    const outcome = await gate([['continuous-delivery/prod-mesh', 'success', 5, 'Argo CD: synced and healthy']]).evaluate(
      question(['prod-mesh']),
    );
    expect(outcome.decision).toEqual({
      status: 'wait',
      reason: 'Argo CD Notifications reported prod-mesh deployed; holding for another 655 s (no failure may follow)',
    });
    // The window starts at the status: the workflow checks again exactly when it ends.
    expect(outcome.healthySince).toEqual(new Date(NOW.getTime() - 5_000));
  });

  it('passes once the success is older than the window with no failure after it', async () => {
    const outcome = await gate([['continuous-delivery/prod-mesh', 'success', 661]]).evaluate(question(['prod-mesh']));
    expect(outcome.decision).toEqual({
      status: 'pass',
      summary: 'Argo CD Notifications reported prod-mesh deployed at or after the merge commit, with no failure for 661 s',
    });
    expect(outcome.wasHealthy).toBe(true);
  });

  it('fails on a failure status that came after the success (on-health-degraded)', async () => {
    const outcome = await gate([
      ['continuous-delivery/prod-mesh', 'failure', 10, 'Argo CD: health degraded'],
      ['continuous-delivery/prod-mesh', 'success', 70, 'Argo CD: synced and healthy'],
    ]).evaluate(question(['prod-mesh']));
    expect(outcome.decision).toEqual({
      status: 'fail',
      reason: 'Argo CD reported prod-mesh failure: Argo CD: health degraded',
      resources: [],
    });
  });

  it('the newest report counts: a success after an old failure holds the window afresh', async () => {
    const outcome = await gate([
      ['continuous-delivery/prod-mesh', 'success', 20],
      ['continuous-delivery/prod-mesh', 'failure', 200],
    ]).evaluate(question(['prod-mesh']));
    expect(outcome.decision.status).toBe('wait');
  });

  it('matches the context exactly: prod-mesh does not count for prod-mesh-canary, nor the reverse', async () => {
    const canaryOnly = gate([['continuous-delivery/prod-mesh-canary', 'success', 700]]);
    expect(await canaryOnly.evaluate(question(['prod-mesh']))).toMatchObject({
      decision: { status: 'wait', reason: 'waiting for Argo CD Notifications to report prod-mesh deployed' },
    });
    const meshOnly = gate([['continuous-delivery/prod-mesh', 'success', 700]]);
    expect(await meshOnly.evaluate(question(['prod-mesh-canary']))).toMatchObject({
      decision: { status: 'wait', reason: 'waiting for Argo CD Notifications to report prod-mesh-canary deployed' },
    });
    // Another app's failure is not this app's.
    const otherFailed = gate([
      ['continuous-delivery/prod-mesh-canary', 'failure', 10],
      ['continuous-delivery/prod-mesh', 'success', 700],
    ]);
    expect((await otherFailed.evaluate(question(['prod-mesh']))).decision.status).toBe('pass');
    // Nor does a context that merely contains the name.
    const ci = gate([['ci/prod-mesh-lint', 'success', 700]]);
    expect((await ci.evaluate(question(['prod-mesh']))).decision.status).toBe('wait');
  });

  it('waits for every application; the last success starts the window', async () => {
    const g = gate([
      ['continuous-delivery/prod-mesh-canary', 'success', 30],
      ['continuous-delivery/prod-mesh', 'success', 700],
    ]);
    expect((await g.evaluate(question(['prod-mesh', 'prod-mesh-canary']))).decision).toEqual({
      status: 'wait',
      reason: 'Argo CD Notifications reported prod-mesh, prod-mesh-canary deployed; holding for another 630 s (no failure may follow)',
    });
  });
});

describe('CommitStatusGate: statuses from the merge commit to the head, and a timeout (review item 1)', () => {
  const MID = 'c'.repeat(40);

  it('reads the statuses of X and every commit after it: Notifications posts on the synced revision, which stays at X when later commits change nothing for the app', async () => {
    const g = gate([['continuous-delivery/prod-mesh', 'success', 700]], { onCommit: X, commits: [MID, HEAD] });
    const outcome = await g.evaluate(question(['prod-mesh']));
    expect(outcome.decision.status).toBe('pass');
    expect(g.read).toEqual([X, MID, HEAD]);
  });

  it('takes the newest status per exact context over all those commits (a failure on a later commit after a success on X fails)', async () => {
    const list: Status[] = [
      {
        context: 'continuous-delivery/prod-mesh',
        state: 'success',
        description: null,
        createdAt: new Date(NOW.getTime() - 200_000).toISOString(),
      },
      {
        context: 'continuous-delivery/prod-mesh',
        state: 'failure',
        description: 'Argo CD: health degraded',
        createdAt: new Date(NOW.getTime() - 10_000).toISOString(),
      },
    ];
    const repo = {
      getBranchHead: async () => ({ sha: HEAD, treeSha: 't' }),
      commitsSince: async () => ({ status: 'ahead' as const, commits: [HEAD] }),
      listCommitStatuses: async (sha: string) => (sha === X ? [list[0]!] : sha === HEAD ? [list[1]!] : []),
    };
    const outcome = await new CommitStatusGate(repo, async () => 'main', { stabilityWindowMs: 60_000, timeoutMs: 30 * 60_000 }).evaluate(
      question(['prod-mesh']),
    );
    expect(outcome.decision).toEqual({
      status: 'fail',
      reason: 'Argo CD reported prod-mesh failure: Argo CD: health degraded',
      resources: [],
    });
  });

  it('no status by the phase timeout (measured from the merge): fails with a clear reason instead of waiting forever', async () => {
    const late = question(['prod-mesh'], { now: new Date('2026-11-22T10:31:00Z') });
    const outcome = await gate([]).evaluate(late);
    expect(outcome.decision).toEqual({
      status: 'fail',
      reason:
        'timed out after 30 min: no continuous-delivery/prod-mesh status on the merge commit or a later one: check that Argo CD synced it and that the notifications controller posts commit statuses for the application (README, "Token-free signal")',
      resources: [],
    });
    // Before the timeout it waits.
    expect((await gate([]).evaluate(question(['prod-mesh']))).decision.status).toBe('wait');
  });

  it('a newest pending status does not wait forever either', async () => {
    const late = question(['prod-mesh'], { now: new Date('2026-11-22T10:31:00Z') });
    const outcome = await gate([['continuous-delivery/prod-mesh', 'pending', 1500]]).evaluate(late);
    expect(outcome.decision).toEqual({
      status: 'fail',
      reason: 'timed out after 30 min: Argo CD Notifications report prod-mesh pending (a sync is running), and no newer status followed',
      resources: [],
    });
  });
});

describe('CommitStatusGate: a window longer than a Deployment’s progress deadline (review item 2)', () => {
  it('holds a success for at least 660 s whatever gateTiming says: on-deployed can fire on the pre-sync health, and a never-ready Deployment turns Degraded only after progressDeadlineSeconds (600 s)', async () => {
    const g = gate([['continuous-delivery/prod-mesh', 'success', 300]], { window: 60_000 });
    expect(g.stabilityWindowMs).toBe(660_000);
    expect((await g.evaluate(question(['prod-mesh']))).decision).toEqual({
      status: 'wait',
      reason: 'Argo CD Notifications reported prod-mesh deployed; holding for another 360 s (no failure may follow)',
    });
  });

  it('a longer gateTiming.stabilityWindowSeconds (a longer progress deadline) counts', async () => {
    const g = gate([['continuous-delivery/prod-mesh', 'success', 700]], { window: 900_000 });
    expect(g.stabilityWindowMs).toBe(900_000);
    expect((await g.evaluate(question(['prod-mesh']))).decision.status).toBe('wait');
  });
});
