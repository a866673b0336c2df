import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade, snapshotAfter } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { loadFixture } from '../../helpers/fixtures.js';

describe('checks that belong before the merge', () => {
  let plan: UpgradePlan;
  beforeAll(async () => {
    plan = planUpgrade(await loadFixture('asm-manifests'), { to: 'asm-1140-0', cleanupMode: 'scale-then-delete' });
  });

  it('cleanup: no proxy may still use the old istiod, checked before merging rather than after the sync', () => {
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.beforeMerge).toEqual([
      expect.stringContaining("istioctl proxy-status | grep -cE 'istiod-asm-1130-0-[a-z0-9]+-[a-z0-9]{5}( |$)'"),
    ]);
    expect(cleanup.verify.some((c) => c.includes('proxy-status'))).toBe(false);
    expect(cleanup.verify).toContain('istioctl analyze -A   # no IST0139 (a webhook calling a missing Service)');
  });

  it('scale-down: the same check, before the old istiod stops', () => {
    const scaleDown = plan.phases.find((p) => p.id === 'scale-down')!;
    expect(scaleDown.beforeMerge).toEqual([
      expect.stringContaining("istioctl proxy-status | grep -cE 'istiod-asm-1130-0-[a-z0-9]+-[a-z0-9]{5}( |$)'"),
    ]);
    expect(scaleDown.verify.some((c) => c.includes('proxy-status'))).toBe(false);
  });

  it('other phases have nothing to check before merging', () => {
    const others = plan.phases.filter((p) => ['control-plane', 'gateways', 'workloads', 'default-revision'].includes(p.id));
    expect(others).toHaveLength(4);
    for (const phase of others) expect(phase.beforeMerge, phase.id).toEqual([]);
  });
});

describe('cleanup is not held back by the old revision itself', () => {
  it('ignores config that the old control plane owns (and cleanup deletes) when looking for what still uses it', async () => {
    const snapshot = new Map(await loadFixture('asm-manifests'));
    // A per-revision EnvoyFilter as ASM ships them: labelled with the revision, no component label.
    snapshot.set(
      'clusters/prod/istio-system/asm-1130-0/stats.yaml',
      'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: tcp-stats-filter-1.13-asm-1130-0\n  namespace: istio-system\n  labels:\n    istio.io/rev: asm-1130-0\nspec:\n  configPatches: []\n',
    );
    const plan = planUpgrade(snapshot, { to: 'asm-1140-0' });
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.blockedBy).toEqual([]);
    expect(cleanup.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toContain('delete EnvoyFilter tcp-stats-filter-1.13-asm-1130-0');
    expect(plan.phases.find((p) => p.id === 'gateways')!.changes.map((c) => c.name)).not.toContain('tcp-stats-filter-1.13-asm-1130-0');
  });

  it("keeps somebody's config that only carries the old revision in its name: unlabelled for both control planes, never deleted", async () => {
    const snapshot = new Map(await loadFixture('asm-manifests'));
    const path = 'clusters/prod/istio-system/ext-authz.yaml';
    snapshot.set(
      path,
      'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: ext-authz-asm-1130-0 # platform team, mesh-wide\n  namespace: istio-system\n  labels:\n    istio.io/rev: asm-1130-0\nspec:\n  configPatches: []\n',
    );
    const plan = planUpgrade(snapshot, { to: 'asm-1140-0' });
    expect(plan.phases.find((p) => p.id === 'cleanup')!.changes.map((c) => c.name)).not.toContain('ext-authz-asm-1130-0');
    const gateways = plan.phases.find((p) => p.id === 'gateways')!;
    expect(gateways.files.find((f) => f.path === path)!.content).not.toContain('istio.io/rev');
    expect(snapshotAfter(plan, plan.phases.length).get(path)).toContain('name: ext-authz-asm-1130-0 # platform team, mesh-wide');
  });
});

describe('gateways an IstioOperator runs', () => {
  it('hold cleanup back (deleting the IstioOperator would delete them), including those its profile enables by default', async () => {
    const fixture = await loadFixture('istio-operator');
    const path = 'clusters/staging/istio-system/istiocontrolplane-1-21-2.yaml';
    // profile: default, no components block: the operator runs istio-ingressgateway by itself.
    const byProfile = fixture
      .get(path)!
      .replace('profile: minimal', 'profile: default')
      .replace(/\n {4}# gateways are managed[\s\S]*?enabled: false\n/, '\n');
    const plan = planUpgrade(new Map([...fixture, [path, byProfile]]), { to: '1-22-1' });
    expect(plan.phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual([
      'gateway istio-ingressgateway of IstioOperator istiocontrolplane-1-21-2',
    ]);
    expect(plan.warnings.find((w) => w.code === 'operator-managed-gateways')!.message).toContain('istio-ingressgateway');
    // Minimal profile with the gateway disabled, as the fixture has it: nothing holds cleanup back.
    expect(planUpgrade(fixture, { to: '1-22-1' }).phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual([]);
  });
});
