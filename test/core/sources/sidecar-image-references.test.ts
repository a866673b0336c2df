import { describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import { findPinnedSidecars } from '../../../src/core/version-skew.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { applyFileChanges } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { runUpgrade } from '../../helpers/upgrade-run.js';

const DIGEST = `sha256:${'d'.repeat(64)}`;

describe('pinned sidecars read their release from the tag, never from a digest', () => {
  const deployment = (name: string, image: string) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: legacy\nspec:\n  template:\n    spec:\n      containers:\n        - name: istio-proxy\n          image: ${image}\n`;
  it('tag with digest, registry with a port, digest only', () => {
    const index = buildYamlIndex(
      new Map([
        ['a.yaml', deployment('tagged-digest', `docker.io/istio/proxyv2:1.19.3@${DIGEST}`)],
        ['b.yaml', deployment('port', 'registry:5000/istio/proxyv2:1.20.1-distroless')],
        ['c.yaml', deployment('digest-only', `docker.io/istio/proxyv2@${DIGEST}`)],
      ]),
    );
    // Before: the version of 'tagged-digest' was read out of its digest (and missed).
    expect(findPinnedSidecars(index).map((s) => `${s.object.name}:${s.minor}`)).toEqual(['tagged-digest:19', 'port:20']);
  });
});

describe('a sidecar pinned by digest only', () => {
  it('is warned about (release unknown), never refused', async () => {
    const fixture = await loadFixture('kustomize-sidecar-patches');
    const ORDERS = 'clusters/prod/orders-sidecar.yaml';
    const BASE = 'base/apps/billing.yaml';
    const repo = new Map(fixture).set(
      BASE,
      `${fixture.get(BASE)!}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: legacy\n  namespace: billing\nspec:\n  template:\n    spec:\n      containers:\n        - name: istio-proxy\n          image: docker.io/istio/proxyv2@${DIGEST}\n`,
    );
    expect(repo.get(ORDERS)).toBeDefined();
    const plan = planUpgrade(repo, { to: '1-21-2', strategy: 'relabel' });
    const warning = plan.warnings.find((w) => w.code === 'proxy-version-unknown')!;
    expect(warning.file).toBe(BASE);
    expect(warning.message).toContain('Deployment billing/legacy');
  });
});

describe('sidecar patches keep the image variant and are never retagged beside a digest (fixture kustomize-sidecar-patches)', () => {
  const ORDERS = 'clusters/prod/orders-sidecar.yaml';
  const TO = '1-21-2';

  it('a variant tag becomes the target with the same variant, and the phase is then done', async () => {
    const fixture = await loadFixture('kustomize-sidecar-patches');
    const repo = new Map(fixture).set(ORDERS, fixture.get(ORDERS)!.replace('proxyv2:1.20.3"', 'proxyv2:1.20.3-distroless"'));
    const plan = planUpgrade(repo, { to: TO, strategy: 'relabel' });
    const workloads = plan.phases.find((p) => p.id === 'workloads')!;
    const edited = workloads.files.find((f) => f.path === ORDERS)!.content!;
    expect(edited).toContain('image: "docker.io/istio/proxyv2:1.21.2-distroless"   # keep in step with the control plane');
    const after = applyFileChanges(repo, workloads.files);
    const again = planUpgrade(after, { to: TO, strategy: 'relabel' });
    expect(again.phases.find((p) => p.id === 'workloads')!.files.map((f) => f.path)).not.toContain(ORDERS);
  });

  it('a digest-pinned proxy is a blocking manual step naming the file and kube-inject, and its file is not edited', async () => {
    const fixture = await loadFixture('kustomize-sidecar-patches');
    const repo = new Map(fixture).set(ORDERS, fixture.get(ORDERS)!.replace('proxyv2:1.20.3"', `proxyv2:1.20.3@${DIGEST}"`));
    const plan = planUpgrade(repo, { to: TO, strategy: 'relabel' });
    const workloads = plan.phases.find((p) => p.id === 'workloads')!;
    expect(workloads.files.map((f) => f.path)).not.toContain(ORDERS);
    expect(workloads.manualResult).toBe('repo');
    expect(workloads.manual.some((m) => m.includes('kube-inject') && m.includes('Deployment orders/orders-api'))).toBe(true);
    const warning = plan.warnings.find((w) => w.code === 'sidecar-patch-manual' && w.file === ORDERS)!;
    expect(warning.message).toContain('pinned by digest');
    // Nothing the bot writes in any phase puts the old digest beside a new tag.
    // The person's regeneration (kube-inject with istioctl 1.21.2) of both hand-edited sidecars.
    const KUSTOMIZATION = 'clusters/prod/kustomization.yaml';
    const regenerate = (text: string) =>
      text
        .replace(`proxyv2:1.20.3@${DIGEST}`, 'proxyv2:1.21.2')
        .replaceAll('proxyv2:1.20.3', 'proxyv2:1.21.2')
        .replaceAll('istiod-1-20-3.', `istiod-${TO}.`);
    const steps = runUpgrade(repo, { to: TO, strategy: 'relabel' }, (phase, r) => {
      if (phase !== 'workloads') return null;
      const merged = applyFileChanges(r, planUpgrade(r, { to: TO, strategy: 'relabel' }).phases.find((p) => p.id === phase)!.files);
      return new Map(merged).set(ORDERS, regenerate(merged.get(ORDERS)!)).set(KUSTOMIZATION, regenerate(merged.get(KUSTOMIZATION)!));
    });
    expect(steps.map((s) => s.phase)).toContain('cleanup');
    for (const step of steps) for (const text of step.after.values()) expect(text).not.toContain(`1.21.2@${DIGEST}`);
  });
});
