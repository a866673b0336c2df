import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { discoverMesh } from '../../../src/core/discover.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { PlanOptions } from '../../../src/core/plan-types.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { hasKubectl, kustomizeBuild, objectKey, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';
import { revisionInjector } from './cluster-webhooks.js';

const TO = '1-21-2';
const LABELS = 'components/mesh/namespace-labels.yaml';
const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'clusters/prod');
const options = (strategy: 'tag' | 'relabel'): PlanOptions => ({ to: TO, strategy });

describe('mesh labels from a kustomize Component (fixture kustomize-components)', () => {
  let snapshot: RepoSnapshot;
  const runs: Record<'tag' | 'relabel', UpgradeStep[]> = { tag: [], relabel: [] };
  beforeAll(async () => {
    snapshot = await loadFixture('kustomize-components');
    for (const strategy of ['tag', 'relabel'] as const) runs[strategy] = runUpgrade(snapshot, options(strategy));
  });

  it("reads the component's patches as patches, before the overlay's own: orders meshed, billing not", () => {
    const index = buildYamlIndex(snapshot);
    expect(index.objects.filter((o) => o.isPatch).map((o) => o.file)).toEqual([LABELS]);
    expect(index.kustomizations.find((k) => k.file === 'clusters/prod/kustomization.yaml')!.components).toEqual(['components/mesh']);
    const namespaces = discoverMesh(index).namespaces;
    const of = (name: string) => namespaces.find((n) => n.name === name)!;
    expect(of('orders').labels).toEqual({ team: 'orders', 'istio.io/rev': '1-20-3' });
    // The component adds istio-injection, the overlay's inline patch (run after it) removes it.
    expect(of('billing').labels).toEqual({ team: 'billing', 'data-classification': 'confidential' });
    expect(of('billing').revision).toBeNull();
    expect(planUpgrade(snapshot, options('relabel')).warnings.filter((w) => w.code === 'skipped-file')).toEqual([]);
  });

  it('plans from 1-20-3 (IstioOperator)', () => {
    for (const strategy of ['tag', 'relabel'] as const) {
      const json = toPlanJson(planUpgrade(snapshot, options(strategy)));
      expect(json.from).toEqual({ revision: '1-20-3', version: '1.20.3' });
      expect(json.install).toBe('istio-operator');
      expect(json.phases.map((p) => p.id)).toEqual(
        strategy === 'tag'
          ? ['control-plane', 'gateways', 'default-revision', 'workloads', 'cleanup']
          : ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'],
      );
      const workloads = planUpgrade(snapshot, options(strategy)).phases.find((p) => p.id === 'workloads')!;
      expect(workloads.namespaces).toEqual(['orders']);
    }
  });

  it("relabels in the component's patch file, byte for byte, and leaves billing's patches alone", () => {
    for (const strategy of ['tag', 'relabel'] as const) {
      const workloads = runs[strategy].find((s) => s.phase === 'workloads')!;
      expect(workloads.after.get(LABELS)).toBe(snapshot.get(LABELS)!.replace('istio.io/rev: 1-20-3 #', `istio.io/rev: ${TO} #`));
      for (const step of runs[strategy]) {
        for (const f of [
          'components/mesh/billing-injection.yaml',
          'components/mesh/kustomization.yaml',
          'clusters/prod/kustomization.yaml',
          'base/namespaces.yaml',
          'base/apps/billing.yaml',
        ])
          expect(step.after.get(f), `${f} after ${strategy} ${step.phase}`).toBe(snapshot.get(f));
      }
    }
  });

  it.skipIf(!hasKubectl)(
    'builds after every phase: one injector for orders, none for billing, nothing removed before cleanup',
    async () => {
      const initialKeys = new Set((await build(snapshot)).map(objectKey));
      for (const [strategy, steps] of Object.entries(runs)) {
        for (const step of steps) {
          const objects = await build(step.after);
          const keys = new Set(objects.map(objectKey));
          if (step.phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${strategy} ${step.phase}`).toBe(true);
          // The operator renders each revision's own injector outside git (the old one goes at cleanup).
          const cluster = [...objects, ...(step.phase === 'cleanup' ? [] : [revisionInjector('1-20-3')]), revisionInjector(TO)];
          expect(injectorsFor(cluster as never, 'orders', { app: 'orders-api' }).length, `orders after ${strategy} ${step.phase}`).toBe(1);
          expect(injectorsFor(cluster as never, 'billing', { app: 'billing' }), `billing after ${strategy} ${step.phase}`).toEqual([]);
        }
        const final = await build(steps.at(-1)!.after);
        expect(final.find((o) => o.kind === 'Namespace' && o.metadata.name === 'orders')!.metadata.labels?.['istio.io/rev'], strategy).toBe(
          TO,
        );
        expect(injectorsFor([...final, revisionInjector(TO)] as never, 'orders', {}), strategy).toEqual([
          expect.stringContaining(`istiod-${TO}`),
        ]);
      }
    },
  );

  it('is idempotent and writes schema-valid objects', async () => {
    for (const [strategy, steps] of Object.entries(runs)) {
      const again = planUpgrade(steps.at(-1)!.after, options(strategy as 'tag' | 'relabel'));
      expect(
        again.phases.every((p) => p.status === 'done'),
        strategy,
      ).toBe(true);
      const changed = steps.flatMap((s) =>
        [...s.after]
          .filter(([p, t]) => s.before.get(p) !== t && p !== LABELS && !p.endsWith('kustomization.yaml'))
          .map(([path, content]) => ({ path, content })),
      );
      const report = await validateYamlFiles(changed);
      expect(report.errors).toEqual([]);
      expect(report.validated.length, strategy).toBeGreaterThan(0);
    }
  });
});
