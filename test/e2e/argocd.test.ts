import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../sim/demo/harness.js';
import { ARGO_SCENARIOS, SCENARIOS } from '../sim/demo/scenarios.js';

async function run(name: string) {
  const h = await DemoHarness.create({ argocd: ARGO_SCENARIOS[name]! });
  const result = await SCENARIOS[name]!(h);
  return { h, result, transcript: h.transcript(name, result.trackingIssue) };
}

/** The gate decisions the app logged, in order. */
function decisions(h: DemoHarness): Array<{ phase: string; decision: string; reason: string; time: number }> {
  return h.logs
    .map((line) => JSON.parse(line) as { msg: string; phase?: string; decision?: string; reason?: string; time: number })
    .filter((l) => l.msg === 'gate decision')
    .map((l) => ({ phase: l.phase!, decision: l.decision!, reason: l.reason!, time: l.time }));
}

describe('Argo CD gate end to end', () => {
  it('argocd-healthy: opens each next phase within 2 s of the gate holding (push signal), one PR per phase', async () => {
    const { h, transcript, result } = await run('argocd-healthy');
    expect(h.sim.violations).toEqual([]);
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual(['control-plane', 'gateways', 'workloads-1', 'workloads-2', 'default-revision', 'cleanup']);
    expect(result.gateLatencies).toHaveLength(5);
    for (const { ms } of result.gateLatencies!) expect(ms).toBeLessThan(2_000);
    expect(h.argo!.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('degraded: pauses at gateways, names the degraded resource once, opens nothing further', async () => {
    const { h, transcript } = await run('degraded');
    expect(transcript.final).toEqual({ status: 'paused', phase: 'gateways' });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual(['control-plane', 'gateways']);
    const failures = transcript.comments.filter((c) => c.body.includes('did not become healthy'));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.body).toContain('Degraded after having been healthy');
    expect(failures[0]!.body).toContain('| Deployment | istio-ingress | istio-ingressgateway | Deployment "istio-ingressgateway" exceeded its progress deadline');
    expect(failures[0]!.body).toContain('/upgrade continue');
  });

  it('stale-status: never passes on health that predates the sync', async () => {
    const { h, transcript } = await run('stale-status');
    expect(transcript.final.status).toBe('completed');
    const log = decisions(h);
    expect(log.some((d) => d.reason.includes('reconciledAt < finishedAt'))).toBe(true);
    // Every pass comes after a stale observation of its phase was replaced by a fresh, held one.
    for (const pass of log.filter((d) => d.decision === 'pass')) {
      const before = log.filter((d) => d.phase === pass.phase && d.time <= pass.time);
      const lastStale = before.filter((d) => d.reason.includes('reconciledAt < finishedAt')).at(-1);
      const holding = before.filter((d) => d.reason.includes('holding for'));
      expect(holding.length, pass.phase).toBeGreaterThan(0);
      if (lastStale) expect(holding[0]!.time, pass.phase).toBeGreaterThanOrEqual(lastStale.time);
    }
  });

  it('argocd-down: waits and says Argo CD is unreachable, then completes with no duplicate PR', async () => {
    const { h, transcript } = await run('argocd-down');
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    expect(new Set(transcript.pullRequests.map((p) => p.phase)).size).toBe(transcript.pullRequests.length);
    expect(decisions(h).some((d) => d.decision === 'wait' && /Argo CD at https:\/\/argocd\.sim\.example is unreachable/.test(d.reason))).toBe(true);
    expect(h.argo!.requests.some((r) => r.status === 0)).toBe(true);
  });
});

describe('restart safety of a waiting gate', () => {
  it('a new app instance resumes the gate from GitHub alone (startup reconcile), without any event', async () => {
    const h = await DemoHarness.create({ argocd: {} });
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, '/upgrade asm-1140-0');
    await h.merge(2);
    // The bot dies with its timers: nothing is scheduled any more.
    h.restart();
    h.scheduler.clear();
    await h.advance(5 * 60_000);
    expect(h.sim.pullRequests()).toHaveLength(1);
    expect(await h.reconcileOnStartup()).toBe(1);
    await h.advance(3 * 60_000);
    expect(h.sim.pullRequests().map((p) => p.head.ref)).toEqual(['mesh-upgrade/prod/asm-1140-0/01-control-plane', 'mesh-upgrade/prod/asm-1140-0/02-gateways']);
    expect(h.sim.violations.join('\n')).toBe('');
  });
});

describe('Argo CD answering garbage', () => {
  it('pauses with a clear reason instead of crashing, and resumes on /upgrade continue once Argo CD is sane', async () => {
    const h = await DemoHarness.create({ argocd: { garbageBetween: [0, 60_000] } });
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, '/upgrade asm-1140-0');
    await h.merge(2);
    expect(h.state(issue)).toMatchObject({ status: 'paused' });
    expect(h.state(issue)?.reason).toContain('with something that is not JSON');
    expect(h.sim.comments(issue).filter((c) => (c.body ?? '').includes('did not become healthy'))).toHaveLength(1);
    await h.advance(2 * 60_000);
    await h.comment('alice', issue, '/upgrade continue');
    await h.advance(3 * 60_000);
    expect(h.sim.pullRequests().map((p) => p.head.ref.split('/').pop())).toEqual(['01-control-plane', '02-gateways']);
  });
});
