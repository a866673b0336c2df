import { beforeAll, describe, expect, it } from 'vitest';
import { renderedRevision } from '../../../demo/prepared-render.js';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { discoverMesh } from '../../../src/core/discover.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { PlanOptions } from '../../../src/core/plan-types.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { hasKubectl, kustomizeBuild, objectKey, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const KUSTOMIZATION = 'overlays/prod/kustomization.yaml';
const ORDERS = 'overlays/prod/orders-injection.yaml';
const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'overlays/prod');
const PODS = [
  ['web', { app: 'frontend' }],
  ['orders', { app: 'orders-api' }],
  ['legacy', { app: 'batch-runner' }],
  ['monitoring', {}],
] as const;

/** The person's commit of the control-plane phase, as its manual steps say. */
function withManualControlPlane(repo: RepoSnapshot): RepoSnapshot {
  const next = new Map(repo);
  next.set(`base/istio-system/${TO}/istiod.yaml`, renderedRevision(TO, '1.22.1'));
  const k = 'base/istio-system/kustomization.yaml';
  next.set(k, repo.get(k)!.replace('  - rendered/istio.yaml', `  - ${TO}/istiod.yaml\n  - rendered/istio.yaml`));
  return next;
}
/** The person's regeneration of the pinned ingress gateway (proxyv2 image, CA_ADDR), as the gateways phase asks. */
function withRegeneratedGateway(repo: RepoSnapshot): RepoSnapshot {
  const file = 'base/istio-ingress/gateway.yaml';
  return new Map(repo).set(
    file,
    repo
      .get(file)!
      .replace('proxyv2:1.21.2', 'proxyv2:1.22.1')
      .replace('istiod.istio-system.svc:15012', `istiod-${TO}.istio-system.svc:15012`),
  );
}
const manual = (phase: string, repo: RepoSnapshot) =>
  phase === 'control-plane' ? withManualControlPlane(repo) : phase === 'gateways' ? withRegeneratedGateway(repo) : null;

describe('namespaces meshed by JSON6902 patches with a target (fixture kustomize-json-namespace-patches)', () => {
  let snapshot: RepoSnapshot;
  const runs: Record<'tag' | 'relabel', UpgradeStep[]> = { tag: [], relabel: [] };
  const options = (strategy: 'tag' | 'relabel'): PlanOptions => ({ to: TO, ...(strategy === 'relabel' ? { strategy } : {}) });
  beforeAll(async () => {
    snapshot = await loadFixture('kustomize-json-namespace-patches');
    runs.tag = runUpgrade(snapshot, options('tag'), manual);
    runs.relabel = runUpgrade(snapshot, options('relabel'), manual);
  });

  it('reads the labels the JSON patches leave: web and orders meshed, legacy not (its base label removed)', () => {
    const namespaces = discoverMesh(buildYamlIndex(snapshot)).namespaces;
    const of = (name: string) => namespaces.find((n) => n.name === name)!;
    expect(of('web').labels).toEqual({ team: 'storefront', 'istio-injection': 'enabled' });
    expect(of('orders').labels).toEqual({ team: 'fulfilment', 'istio-injection': 'enabled' });
    expect(of('legacy').labels).toEqual({ team: 'platform' });
    expect([of('web').revision, of('orders').revision, of('legacy').revision]).toEqual(['default', 'default', null]);
    // The JSON6902 operations file is a patch, not a skipped file.
    expect(planUpgrade(snapshot, { to: TO }).warnings.filter((w) => w.file === ORDERS)).toEqual([]);
  });

  it('plans the first canary from "default" (rendered manifests): with tags by default, relabelling on request', () => {
    for (const strategy of ['tag', 'relabel'] as const) {
      const json = toPlanJson(planUpgrade(snapshot, options(strategy)));
      expect(json.from).toEqual({ revision: 'default', version: '1.21.2' });
      expect(json.install).toBe('manifests');
      expect(planUpgrade(snapshot, options(strategy)).strategy).toBe(strategy);
    }
    expect(toPlanJson(planUpgrade(snapshot, options('tag'))).phases.map((p) => p.id)).toEqual([
      'control-plane',
      'gateways',
      'default-revision',
      'workloads',
      'cleanup',
    ]);
    expect(toPlanJson(planUpgrade(snapshot, options('relabel'))).phases.map((p) => p.id)).toEqual([
      'control-plane',
      'gateways',
      'workloads',
      'default-revision',
      'cleanup',
    ]);
  });

  it('relabels in the JSON patches that decide the label: istio-injection becomes istio.io/rev, byte for byte', () => {
    const workloads = runs.relabel.find((s) => s.phase === 'workloads')!;
    expect(workloads.after.get(KUSTOMIZATION)).toBe(
      snapshot
        .get(KUSTOMIZATION)!
        .replace(
          '      - op: add\n        path: /metadata/labels/istio-injection\n        value: enabled\n',
          `      - op: add\n        path: /metadata/labels/istio.io~1rev\n        value: ${TO}\n`,
        ),
    );
    expect(workloads.after.get(ORDERS)).toBe(
      snapshot.get(ORDERS)!.replace('/istio-injection\n  value: enabled   #', `/istio.io~1rev\n  value: ${TO}   #`),
    );
    // The base decides nothing here, and legacy's removal stays.
    for (const step of runs.relabel)
      expect(step.after.get('base/apps/namespaces.yaml'), step.phase).toBe(snapshot.get('base/apps/namespaces.yaml'));
    expect(runs.relabel.at(-1)!.after.get(KUSTOMIZATION)).toContain('      - op: remove\n        path: /metadata/labels/istio-injection\n');
    // With tags the namespaces keep following the default tag: the patches are not touched.
    for (const step of runs.tag)
      for (const f of [KUSTOMIZATION, ORDERS]) expect(step.after.get(f), `${f} after ${step.phase}`).toBe(snapshot.get(f));
  });

  it.skipIf(!hasKubectl)(
    'builds the overlay after every phase: one injector for web and orders, none for legacy, nothing removed before cleanup',
    async () => {
      const initialKeys = new Set((await build(snapshot)).map(objectKey));
      for (const [strategy, steps] of Object.entries(runs)) {
        for (const step of steps) {
          const objects = await build(step.after);
          const keys = new Set(objects.map(objectKey));
          if (step.phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${strategy} ${step.phase}`).toBe(true);
          for (const [ns, labels] of PODS) {
            const hits = injectorsFor(objects as never, ns, labels);
            expect(hits.length, `${ns} after ${strategy} ${step.phase}: ${hits.join(', ')}`).toBe(ns === 'web' || ns === 'orders' ? 1 : 0);
          }
          const legacy = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === 'legacy')!;
          expect(legacy.metadata.labels, `${strategy} ${step.phase}`).toEqual({ team: 'platform' });
        }
        const final = await build(steps.at(-1)!.after);
        for (const ns of ['web', 'orders']) expect(injectorsFor(final as never, ns, {})[0], `${strategy} ${ns}`).toContain(`istiod-${TO}`);
        if (strategy === 'relabel') {
          for (const ns of ['web', 'orders']) {
            const labels = final.find((o) => o.kind === 'Namespace' && o.metadata.name === ns)!.metadata.labels;
            expect(labels?.['istio.io/rev'], ns).toBe(TO);
            expect(labels?.['istio-injection'], ns).toBeUndefined();
          }
        }
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
      const changed = steps
        .filter((s) => s.phase !== 'control-plane')
        .flatMap((s) =>
          [...s.after]
            .filter(([p, t]) => s.before.get(p) !== t && p !== ORDERS && !p.endsWith('kustomization.yaml'))
            .map(([path, content]) => ({ path, content })),
        );
      const report = await validateYamlFiles(changed);
      expect(report.errors).toEqual([]);
    }
  });

  it('refuses, writing nothing, an operation it cannot rewrite (JSON flow style)', () => {
    const flow = new Map(snapshot);
    flow.set(ORDERS, '[{"op": "add", "path": "/metadata/labels/istio-injection", "value": "enabled"}]\n');
    expect(discoverMesh(buildYamlIndex(flow)).namespaces.find((n) => n.name === 'orders')!.revision).toBe('default');
    let error: unknown;
    try {
      planUpgrade(withManualControlPlane(flow), options('relabel'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect((error as UpgradeRefusedError).code).toBe('json-patch-not-editable');
    expect((error as Error).message).toContain(ORDERS);
  });

  it('reports commonLabels or labels that put an injection label on the namespaces it builds', () => {
    const repo = new Map(snapshot);
    repo.set('base/apps/kustomization.yaml', `${snapshot.get('base/apps/kustomization.yaml')}commonLabels:\n  istio-injection: enabled\n`);
    const warning = planUpgrade(repo, options('relabel')).warnings.find((w) => w.code === 'injection-label-from-transformer');
    expect(warning?.file).toBe('base/apps/kustomization.yaml');
    expect(warning?.message).toContain('legacy');
    const labels = new Map(snapshot);
    labels.set(
      'base/apps/kustomization.yaml',
      `${snapshot.get('base/apps/kustomization.yaml')}labels:\n  - pairs:\n      istio.io/rev: default\n`,
    );
    expect(planUpgrade(labels, options('relabel')).warnings.some((w) => w.code === 'injection-label-from-transformer')).toBe(true);
    expect(planUpgrade(snapshot, options('relabel')).warnings.some((w) => w.code === 'injection-label-from-transformer')).toBe(false);
  });
});
