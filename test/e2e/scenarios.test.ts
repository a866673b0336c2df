import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../sim/demo/harness.js';
import { SCENARIOS, TARGET } from '../sim/demo/scenarios.js';

const PHASES = ['control-plane', 'gateways', 'workloads-1', 'workloads-2', 'default-revision', 'cleanup'];
const FILES: Record<string, string[]> = {
  'control-plane': ['clusters/prod/istio-system/istiocontrolplane-asm-1140-0.yaml'],
  gateways: ['clusters/prod/istio-ingress/gateway.yaml', 'clusters/prod/istio-ingress/namespace.yaml'],
  'workloads-1': ['clusters/prod/apps/search/namespace.yaml', 'clusters/prod/apps/search/statefulset.yaml'],
  'workloads-2': ['clusters/prod/apps/shop/deployments.yaml', 'clusters/prod/apps/shop/namespace.yaml'],
  'default-revision': ['clusters/prod/istio-system/istiod-service.yaml', 'clusters/prod/istio-system/revision-tags.yaml'],
  cleanup: ['clusters/prod/istio-system/istiocontrolplane-asm-1130-0.yaml'],
};

async function run(name: string) {
  const h = await DemoHarness.create();
  const result = await SCENARIOS[name]!(h);
  return { h, result, transcript: h.transcript(name, result.trackingIssue) };
}

describe.each(['happy', 'duplicate-delivery', 'restart', 'concurrent'])('scenario %s', (name) => {
  it('completes with exactly one pull request per phase, in phase order, each with its files', async () => {
    const { h, transcript, result } = await run(name);

    expect(h.sim.violations).toEqual([]);
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    expect(transcript.pullRequests.map((pr) => pr.phase)).toEqual(PHASES);
    expect(transcript.pullRequests.every((pr) => pr.state === 'merged')).toBe(true);
    for (const pr of transcript.pullRequests) expect(pr.files, pr.phase).toEqual(FILES[pr.phase]);
    expect(transcript.pullRequests.map((pr) => pr.branch)).toEqual(PHASES.map((p, i) => `mesh-upgrade/prod/${TARGET}/${String(i + 1).padStart(2, '0')}-${p}`));
    // Every phase PR costs a handful of requests from the gate pass, whatever the repo size.
    for (const { phase, requests } of result.requestsPerPhase) expect(requests, phase).toBeLessThanOrEqual(12);
    // One sticky plan comment, edited in place, on the tracking issue.
    const botComments = transcript.comments.filter((c) => c.issue === result.trackingIssue && c.author === h.sim.botLogin);
    expect(botComments.filter((c) => c.body.includes('mesh-upgrade-state'))).toHaveLength(1);
    // The lock is released once the upgrade completes.
    expect([...h.sim.refs().keys()].filter((r) => r.includes('locks'))).toEqual([]);
  });
});

describe('scenario unauthorized', () => {
  it('refuses visibly, naming the permission required, and changes nothing', async () => {
    const { h, transcript } = await run('unauthorized');
    expect(transcript.final).toEqual({ status: 'refused', phase: null });
    expect(transcript.pullRequests).toEqual([]);
    const replies = transcript.comments.filter((c) => c.author === h.sim.botLogin);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('@bob, `/upgrade` needs **write** permission on this repository (you have read). Nothing was changed.');
    expect(transcript.githubRequests.filter((r) => r.method !== 'GET' && !r.path.includes('reactions') && !r.path.includes('access_tokens') && !r.path.endsWith('/comments'))).toEqual([]);
    expect([...h.sim.branches().keys()]).toEqual(['main']);
  });
});

describe('scenario concurrent', () => {
  it('lets one issue hold the cluster and tells the other where the upgrade runs', async () => {
    const { h, result } = await run('concurrent');
    const loser = result.trackingIssue === 1 ? 2 : 1;
    const replies = h.sim.comments(loser).filter((c) => c.user?.login === h.sim.botLogin);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain(`An upgrade of cluster \`prod\` is already in progress in #${result.trackingIssue}`);
    expect(h.state(loser)).toBeNull();
  });
});
