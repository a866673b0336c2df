import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { FIXTURE_CASES, loadFixture } from '../../helpers/fixtures.js';

function deployment(namespace: string, name: string): string {
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  template:\n    spec:\n      containers: [{name: app, image: app:1}]\n`;
}

function namespace(name: string): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels:\n    istio.io/rev: asm-1130-0\n`;
}

function rolloutChecks(snapshot: RepoSnapshot): string[] {
  const plan = planUpgrade(snapshot, { to: 'asm-1140-0' });
  return plan.phases.filter((p) => p.id.startsWith('workloads')).flatMap((p) => p.verify.filter((c) => c.includes('rollout status')));
}

describe('workloads verify: rollout status per restarted workload', () => {
  let snapshot: RepoSnapshot;
  beforeAll(async () => {
    snapshot = await loadFixture('asm-manifests');
  });

  it('names each workload the phase restarts, and skips those opted out of injection', () => {
    const checks = rolloutChecks(snapshot);
    expect(checks).toContain('kubectl -n payments rollout status statefulset/ledger --timeout=10m');
    expect(checks).toContain('kubectl -n batch rollout status daemonset/log-shipper --timeout=10m');
    expect(checks).toContain('kubectl -n bookinfo rollout status deployment/details-v1 --timeout=10m');
    expect(checks.some((c) => c.includes('report-worker'))).toBe(false);
    expect(checks.filter((c) => !c.includes('/'))).toEqual([]);
  });

  it('loops over the namespace (one resource per rollout status) for more than 10 workloads in a namespace', () => {
    const big = new Map([
      ['big/namespace.yaml', namespace('big')],
      ...Array.from({ length: 11 }, (_, i) => [`big/d${i}.yaml`, deployment('big', `svc-${i}`)] as const),
    ]);
    expect(rolloutChecks(big)).toEqual([
      'for w in $(kubectl -n big get deployment -o name); do kubectl -n big rollout status "$w" --timeout=10m; done',
    ]);
    const ten = new Map([
      ['ten/namespace.yaml', namespace('ten')],
      ...Array.from({ length: 10 }, (_, i) => [`ten/d${i}.yaml`, deployment('ten', `svc-${i}`)] as const),
    ]);
    expect(rolloutChecks(ten)).toHaveLength(10);
  });

  it('loops over every workload type of a namespace whose workloads are not in the repo', () => {
    const bare = new Map([
      ['shop/namespace.yaml', namespace('shop')],
      ['web/namespace.yaml', namespace('web')],
      ['web/d.yaml', deployment('web', 'frontend')],
    ]);
    expect(rolloutChecks(bare)).toEqual([
      'for w in $(kubectl -n shop get deployment,statefulset,daemonset -o name); do kubectl -n shop rollout status "$w" --timeout=10m; done',
      'kubectl -n web rollout status deployment/frontend --timeout=10m',
    ]);
  });

  it.each(FIXTURE_CASES.map((c) => [c.name, c.to] as const))('on fixture %s, every rollout status names one resource', async (name, to) => {
    const plan = planUpgrade(await loadFixture(name), { to });
    const checks = plan.phases.flatMap((p) => p.verify.filter((c) => c.includes('rollout status')));
    for (const check of checks) expect(/rollout status ([a-z]+\/\S+|"\$w")(\s|$)/.test(check), check).toBe(true);
  });
});

describe('tag strategy with a namespace that names the old revision itself (fixture admission-policies)', () => {
  it('relabels that namespace (no tag moves it) and leaves cleanup unblocked', async () => {
    const plan = planUpgrade(await loadFixture('admission-policies'), { to: '1-22-1', strategy: 'tag' });
    const workloads = plan.phases.find((p) => p.id === 'workloads')!;
    expect(workloads.changes.map((c) => `${c.kind} ${c.name}`)).toContain('Namespace checkout');
    expect(plan.phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual([]);
  });
});
