import { planUpgrade } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { loadFixture } from '../helpers/fixtures.js';

/**
 * Every fixture with the targets its tests plan it for (test/core/starting-points, test/core,
 * test/e2e). `argocd` holds Argo CD API answers, not a repo to plan.
 */
export const FIXTURE_TARGETS: Readonly<Record<string, readonly string[]>> = {
  'admission-policies': ['1-22-1'],
  'applicationset-git-files': ['1-22-1'],
  'applicationset-revisions': ['1-22-1'],
  argocd: [],
  'asm-manifests': ['asm-1140-0', 'asm-managed-rapid'],
  'asmcli-kpt': ['asm-1201-1', 'asm-managed-rapid'],
  'eks-version-skew': ['1-21-6'],
  'flux-helm-nonrevisioned': ['1-22-1'],
  'flux-shared-values': ['1-22-1'],
  'helm-app-of-apps': ['1-22-1'],
  'helm-app-of-apps-nonrevisioned': ['1-22-1'],
  'helm-argocd': ['1-22-1'],
  'helm-nonrevisioned': ['1-22-1'],
  'iop-kustomize-overlay': ['1-22-1'],
  'istio-operator': ['1-22-1'],
  'kustomize-components': ['1-21-2'],
  'kustomize-images-selectors': ['1-21-2'],
  'kustomize-json-namespace-patches': ['1-22-1'],
  'kustomize-null-patches': ['1-22-1'],
  'kustomize-overlays': ['1-21-2'],
  'kustomize-sidecar-patches': ['1-21-2'],
  'managed-asm': ['asm-managed-rapid'],
  'operator-argocd-apps': ['1-24-2', '1-23-5'],
  'operator-nonrevisioned': ['1-22-1', '1-23-4'],
  'rendered-kustomize-patches': ['1-22-1'],
  'rendered-nonrevisioned': ['1-22-1'],
  'sail-operator': ['v1.24.3'],
};

export interface FixturePlan {
  readonly fixture: string;
  readonly to: string;
  readonly plan: UpgradePlan;
}

/** The plan of every fixture for each of its targets. */
export async function fixturePlans(): Promise<FixturePlan[]> {
  const plans: FixturePlan[] = [];
  for (const [fixture, targets] of Object.entries(FIXTURE_TARGETS)) {
    if (targets.length === 0) continue;
    const snapshot = await loadFixture(fixture);
    for (const to of targets) plans.push({ fixture, to, plan: planUpgrade(snapshot, { to }) });
  }
  return plans;
}
