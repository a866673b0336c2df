import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade, type UpgradePlan } from '../../../src/core/plan.js';
import { loadFixture } from '../../helpers/fixtures.js';

describe('checks that belong before the merge', () => {
  let plan: UpgradePlan;
  beforeAll(async () => {
    plan = planUpgrade(await loadFixture('asm-manifests'), { to: 'asm-1140-0', cleanupMode: 'scale-then-delete' });
  });

  it('cleanup: no proxy may still use the old istiod, checked before merging rather than after the sync', () => {
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.beforeMerge).toEqual([expect.stringMatching(/^istioctl proxy-status \| grep -c istiod-asm-1130-0 /)]);
    expect(cleanup.verify.some((c) => c.includes('proxy-status'))).toBe(false);
    expect(cleanup.verify).toContain('istioctl analyze -A   # no IST0139 (a webhook calling a missing Service)');
  });

  it('scale-down: the same check, before the old istiod stops', () => {
    const scaleDown = plan.phases.find((p) => p.id === 'scale-down')!;
    expect(scaleDown.beforeMerge).toEqual([expect.stringMatching(/^istioctl proxy-status \| grep -c istiod-asm-1130-0 /)]);
    expect(scaleDown.verify.some((c) => c.includes('proxy-status'))).toBe(false);
  });

  it('other phases have nothing to check before merging', () => {
    const others = plan.phases.filter((p) => ['control-plane', 'gateways', 'workloads', 'default-revision'].includes(p.id));
    expect(others).toHaveLength(4);
    for (const phase of others) expect(phase.beforeMerge, phase.id).toEqual([]);
  });
});
