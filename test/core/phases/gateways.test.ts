import { describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import { loadFixture } from '../../helpers/fixtures.js';

describe('gateways verify: rollout status per restarted gateway', () => {
  it('names each gateway Deployment the phase restarts (no type-wide form, which needs kubectl ≥ 1.25)', async () => {
    const plan = planUpgrade(await loadFixture('asm-manifests'), { to: 'asm-1140-0' });
    const checks = plan.phases.find((p) => p.id === 'gateways')!.verify.filter((c) => c.includes('rollout status'));
    expect(checks).toEqual(['kubectl -n istio-ingress rollout status deployment/istio-ingressgateway --timeout=10m']);
  });

  it('keeps a marked type-wide form for gateways installed by a Helm release (their Deployment is not in the repo)', async () => {
    const plan = planUpgrade(await loadFixture('helm-argocd'), { to: '1-22-1' });
    const gateways = plan.phases.find((p) => p.id === 'gateways')!;
    const checks = gateways.verify.filter((c) => c.includes('rollout status'));
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks) expect(check).toMatch(/rollout status deployment --timeout=10m {3}# kubectl ≥ 1\.25$/);
  });
});
