import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade, type UpgradePlan } from '../../../src/core/plan.js';
import type { RepoSnapshot } from '../../../src/core/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { hasKubectl, kustomizeBuild, objectKey, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';
import { renderedRevision } from '../../sim/demo/prepared-render.js';

const TO = '1-22-1';
const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'overlays/prod');

/** The person's commit of the control-plane phase, as its manual steps say. */
function withManualControlPlane(repo: RepoSnapshot): RepoSnapshot {
  const next = new Map(repo);
  next.set(`base/istio-system/${TO}/istiod.yaml`, renderedRevision(TO, '1.22.1'));
  const k = 'base/istio-system/kustomization.yaml';
  next.set(k, repo.get(k)!.replace('  - rendered/istio.yaml', `  - ${TO}/istiod.yaml\n  - rendered/istio.yaml`));
  return next;
}

describe('first canary from a rendered install customised by a kustomize overlay (fixture rendered-kustomize-patches)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('rendered-kustomize-patches');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO }, (phase, repo) => (phase === 'control-plane' ? withManualControlPlane(repo) : null));
  });

  it('plans the first canary from "default", rendered manifests, and warns that the name-keyed patches do not reach the new revision', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(json.install).toBe('manifests');
    expect(json.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'default-revision', 'workloads', 'cleanup']);
    expect(plan.warnings.filter((w) => w.code === 'patch-not-carried-over').map((w) => w.file)).toEqual(['overlays/prod/istiod.yaml', 'overlays/prod/mesh-config.yaml']);
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'default-revision', 'workloads', 'cleanup']);
  });

  it.skipIf(!hasKubectl)('builds the overlay after every phase: one injector per pod, no namespace loses injection, nothing removed before cleanup', async () => {
    const initialKeys = new Set((await build(snapshot)).map(objectKey));
    for (const step of steps) {
      const objects = await build(step.after);
      const keys = new Set(objects.map(objectKey));
      if (step.phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${step.phase}`).toBe(true);
      for (const [ns, labels] of [['web', { app: 'frontend' }], ['orders', { app: 'orders-api' }], ['monitoring', {}], ['istio-ingress', {}]] as const) {
        const hits = injectorsFor(objects as never, ns, labels);
        expect(hits.length, `${ns} after ${step.phase}: ${hits.join(', ')}`).toBe(ns === 'web' || ns === 'orders' ? 1 : 0);
      }
    }
    const final = await build(steps.at(-1)!.after);
    expect(injectorsFor(final as never, 'web', {})[0]).toContain(`istiod-${TO}`);
    // The overlay keeps deciding the label; the base's Namespace list is untouched.
    expect(steps.at(-1)!.after.get('base/apps/namespaces.yaml')).toBe(snapshot.get('base/apps/namespaces.yaml'));
  });

  it('is idempotent and writes schema-valid objects', async () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    const changed = steps
      .filter((s) => s.phase !== 'control-plane')
      .flatMap((s) => [...s.after].filter(([p, t]) => s.before.get(p) !== t).map(([path, content]) => ({ path, content })));
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
  });
});
