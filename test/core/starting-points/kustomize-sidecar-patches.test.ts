import { dump } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { PlanOptions } from '../../../src/core/plan-types.js';
import { findSidecarPatches } from '../../../src/core/sources/sidecar-patches.js';
import { findPinnedSidecars } from '../../../src/core/version-skew.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import { applyFileChanges, type RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { type BuiltObject, hasKubectl, kustomizeBuild, objectKey, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';
import { revisionInjector } from './cluster-webhooks.js';

const TO = '1-21-2';
const ORDERS = 'clusters/prod/orders-sidecar.yaml';
const BILLING = 'clusters/prod/billing-sidecar.json-patch.yaml';
const KUSTOMIZATION = 'clusters/prod/kustomization.yaml';
const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'clusters/prod');
const PODS = [
  ['orders', { app: 'orders-api' }],
  ['billing', { app: 'billing' }],
  ['billing', { app: 'billing-db' }],
] as const;
const options = (strategy: 'tag' | 'relabel'): PlanOptions => ({ to: TO, strategy });

/** The person's regeneration of the inline billing-db sidecar (kube-inject with istioctl 1.21.2), committed with the phase. */
function regenerated(repo: RepoSnapshot): RepoSnapshot {
  return new Map(repo).set(
    KUSTOMIZATION,
    repo.get(KUSTOMIZATION)!.replaceAll('proxyv2:1.20.3', 'proxyv2:1.21.2').replaceAll('istiod-1-20-3.', `istiod-${TO}.`),
  );
}
const manualFor = (strategy: 'tag' | 'relabel') => (phase: string, repo: RepoSnapshot) => {
  if (phase !== 'workloads') return null;
  const files = planUpgrade(repo, options(strategy)).phases.find((p) => p.id === phase)!.files;
  return regenerated(applyFileChanges(repo, files));
};

/** The istio-proxy containers of the built workloads: image and every istiod address they carry. */
function proxies(objects: readonly BuiltObject[]): Array<{ workload: string; text: string }> {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind))
    .flatMap((o) => {
      const containers = (
        (o.spec as { template: { spec: { containers: Array<{ name: string }> } } }).template.spec.containers ?? []
      ).filter((c) => c.name === 'istio-proxy');
      return containers.map((c) => ({ workload: `${o.metadata.namespace}/${o.metadata.name}`, text: JSON.stringify(c) }));
    });
}

describe('pre-injected sidecars written by kustomize patches (fixture kustomize-sidecar-patches)', () => {
  let snapshot: RepoSnapshot;
  const runs: Record<'tag' | 'relabel', UpgradeStep[]> = { tag: [], relabel: [] };
  beforeAll(async () => {
    snapshot = await loadFixture('kustomize-sidecar-patches');
    for (const strategy of ['tag', 'relabel'] as const) runs[strategy] = runUpgrade(snapshot, options(strategy), manualFor(strategy));
  });

  it('finds the three patches: strategic-merge and JSON6902 value ops unambiguous, the inline whole-container add not', () => {
    const found = findSidecarPatches(buildYamlIndex(snapshot), snapshot);
    expect(found.map((p) => [p.file, p.format, `${p.workload.kind} ${p.workload.namespace}/${p.workload.name}`, p.unambiguous])).toEqual([
      [ORDERS, 'strategic-merge', 'Deployment orders/orders-api', true],
      [BILLING, 'json6902', 'Deployment billing/billing', true],
      [KUSTOMIZATION, 'json6902', 'StatefulSet billing/billing-db', false],
    ]);
    // The strategic-merge patch counts for the version-skew preflight too.
    expect(findPinnedSidecars(buildYamlIndex(snapshot)).map((s) => `${s.object.file} ${s.image}`)).toEqual([
      `${ORDERS} docker.io/istio/proxyv2:1.20.3`,
    ]);
  });

  it('plans from 1-20-3 (IstioOperator) with the kube-inject step in the workloads phase and cleanup blocked by it', () => {
    for (const strategy of ['tag', 'relabel'] as const) {
      const plan = planUpgrade(snapshot, options(strategy));
      const json = toPlanJson(plan);
      expect(json.from).toEqual({ revision: '1-20-3', version: '1.20.3' });
      expect(json.install).toBe('istio-operator');
      expect(json.phases.map((p) => p.id)).toEqual(
        strategy === 'tag'
          ? ['control-plane', 'gateways', 'default-revision', 'workloads', 'cleanup']
          : ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'],
      );
      const workloads = plan.phases.find((p) => p.id === 'workloads')!;
      expect(workloads.manualResult).toBe('repo');
      expect(workloads.manual).toHaveLength(1);
      expect(workloads.manual[0]).toContain('istioctl kube-inject --revision 1-21-2');
      expect(workloads.manual[0]).toContain('istioctl 1.21.2');
      expect(workloads.manual[0]).toContain(KUSTOMIZATION);
      expect(workloads.manual[0]).toContain('StatefulSet billing/billing-db');
      expect(workloads.files.map((f) => f.path)).toEqual(expect.arrayContaining([ORDERS, BILLING]));
      expect(workloads.files.map((f) => f.path)).not.toContain(KUSTOMIZATION);
      const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
      expect(cleanup.blockedBy.filter((b) => b.includes('pre-injected'))).toEqual([
        `pre-injected sidecar of StatefulSet billing/billing-db in ${KUSTOMIZATION} (regenerate with istioctl kube-inject --revision ${TO})`,
      ]);
      expect(plan.warnings.some((w) => w.code === 'sidecar-patch-manual' && w.file === KUSTOMIZATION)).toBe(true);
    }
  });

  it('keeps the workloads phase pending until the inline patch is regenerated, then unblocks cleanup', () => {
    for (const strategy of ['tag', 'relabel'] as const) {
      const steps = runs[strategy];
      const at = steps.findIndex((s) => s.phase === 'workloads');
      const merged = applyFileChanges(
        steps[at]!.before,
        planUpgrade(steps[at]!.before, options(strategy)).phases.find((p) => p.id === 'workloads')!.files,
      );
      const still = planUpgrade(merged, options(strategy));
      expect(still.phases.find((p) => p.id === 'workloads')!.status, strategy).toBe('pending');
      expect(still.phases.find((p) => p.id === 'workloads')!.files, strategy).toEqual([]);
      expect(
        still.phases.find((p) => p.id === 'cleanup')!.blockedBy.some((b) => b.includes('billing-db')),
        strategy,
      ).toBe(true);
      const after = planUpgrade(steps[at]!.after, options(strategy));
      expect(after.phases.find((p) => p.id === 'workloads')!.status, strategy).toBe('done');
      expect(
        after.phases.find((p) => p.id === 'cleanup')!.blockedBy.some((b) => b.includes('pre-injected')),
        strategy,
      ).toBe(false);
    }
  });

  it('edits only the pinned values, byte for byte', () => {
    for (const strategy of ['tag', 'relabel'] as const) {
      const workloads = runs[strategy].find((s) => s.phase === 'workloads')!;
      expect(workloads.after.get(ORDERS)).toBe(
        snapshot
          .get(ORDERS)!
          .replace('"docker.io/istio/proxyv2:1.20.3"', '"docker.io/istio/proxyv2:1.21.2"')
          .replaceAll('- istiod-1-20-3.istio-system.svc:15012', `- istiod-${TO}.istio-system.svc:15012`)
          .replace('value: istiod-1-20-3.', `value: istiod-${TO}.`),
      );
      expect(workloads.after.get(BILLING)).toBe(
        snapshot
          .get(BILLING)!
          .replace('proxyv2:1.20.3\n', 'proxyv2:1.21.2\n')
          .replace('value: istiod-1-20-3.istio-system.svc:15012 # CA_ADDR', `value: istiod-${TO}.istio-system.svc:15012 # CA_ADDR`),
      );
      // No other phase touches the sidecar patches; the inline one is the person's commit.
      for (const step of runs[strategy])
        if (step.phase !== 'workloads')
          for (const f of [ORDERS, BILLING, KUSTOMIZATION]) expect(step.after.get(f), `${f} after ${step.phase}`).toBe(step.before.get(f));
      expect(workloads.after.get(KUSTOMIZATION)).toBe(regenerated(snapshot).get(KUSTOMIZATION));
    }
  });

  it.skipIf(!hasKubectl)(
    'builds after every phase: one injector per meshed pod, pinned proxies on 1.21.2 from the workloads phase on, nothing removed before cleanup',
    async () => {
      const initial = await build(snapshot);
      const initialKeys = new Set(initial.map(objectKey));
      expect(proxies(initial).map((p) => p.workload)).toEqual(['billing/billing', 'orders/orders-api', 'billing/billing-db']);
      for (const [strategy, steps] of Object.entries(runs)) {
        let moved = false;
        for (const step of steps) {
          const objects = await build(step.after);
          const keys = new Set(objects.map(objectKey));
          if (step.phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${strategy} ${step.phase}`).toBe(true);
          // The operator renders each revision's own injector outside git (the old one goes at cleanup).
          const cluster = [...objects, ...(step.phase === 'cleanup' ? [] : [revisionInjector('1-20-3')]), revisionInjector(TO)];
          for (const [ns, labels] of PODS)
            expect(injectorsFor(cluster as never, ns, labels).length, `${ns} after ${strategy} ${step.phase}`).toBe(1);
          moved ||= step.phase === 'workloads';
          for (const proxy of proxies(objects)) {
            expect(
              proxy.text.includes('1.20.3') || proxy.text.includes('istiod-1-20-3'),
              `${proxy.workload} after ${strategy} ${step.phase}`,
            ).toBe(!moved);
            if (moved) expect(proxy.text, proxy.workload).toContain(`istiod-${TO}.istio-system.svc:15012`);
          }
        }
        const final = await build(steps.at(-1)!.after);
        for (const ns of ['orders', 'billing'])
          expect(injectorsFor([...final, revisionInjector(TO)] as never, ns, {}), `${strategy} ${ns}`).toEqual([
            expect.stringContaining(`istiod-${TO}`),
          ]);
        // The patch files are partial objects: the workloads they build into are what must be valid.
        const workloads = final.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
        const report = await validateYamlFiles([{ path: 'built.yaml', content: workloads.map((o) => dump(o)).join('---\n') }]);
        expect(report.errors, strategy).toEqual([]);
        expect(report.validated, strategy).toHaveLength(3);
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
      expect(
        again.phases.flatMap((p) => p.files),
        strategy,
      ).toEqual([]);
      const changed = steps.flatMap((s) =>
        [...s.after]
          .filter(([p, t]) => s.before.get(p) !== t && p !== BILLING && !p.endsWith('kustomization.yaml'))
          .map(([path, content]) => ({ path, content })),
      );
      expect(changed.map((c) => c.path)).toContain(ORDERS);
      const report = await validateYamlFiles(changed.filter((c) => c.path !== ORDERS));
      expect(report.errors).toEqual([]);
    }
  });

  it('refuses a target more than two minors ahead of a sidecar a strategic-merge patch pins', () => {
    let error: unknown;
    try {
      planUpgrade(new Map(snapshot).set(ORDERS, snapshot.get(ORDERS)!.replace('proxyv2:1.20.3', 'proxyv2:1.18.7')), { to: TO });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect((error as UpgradeRefusedError).code).toBe('proxy-version-skew');
    expect((error as Error).message).toContain(ORDERS);
  });

  it('asks for kube-inject instead of editing a JSON6902 value it would have to guess at (a flow-style op with the address in args)', () => {
    const repo = new Map(snapshot).set(
      BILLING,
      '[{"op": "add", "path": "/spec/template/spec/containers/1/args", "value": ["proxy", "--discoveryAddress", "istiod-1-20-3.istio-system.svc:15012"]}]\n',
    );
    const plan = planUpgrade(repo, options('relabel'));
    const workloads = plan.phases.find((p) => p.id === 'workloads')!;
    expect(workloads.files.map((f) => f.path)).not.toContain(BILLING);
    expect(workloads.manual.filter((m) => m.includes(BILLING))).toHaveLength(1);
  });
  it('edits an inline JSON6902 value op in the kustomization, and only its text; beside an inline patch it must not touch, asks for kube-inject', () => {
    const fileEntry =
      '  - path: billing-sidecar.json-patch.yaml\n    target:\n      group: apps\n      version: v1\n      kind: Deployment\n      name: billing\n';
    const inlineEntry =
      '  - target:\n      kind: Deployment\n      name: billing\n    patch: |-\n      - op: replace\n        path: /spec/template/spec/containers/1/image\n        value: docker.io/istio/proxyv2:1.20.3\n';
    const original = snapshot.get(KUSTOMIZATION)!;
    expect(original).toContain(fileEntry);
    const addStart = original.indexOf('  # billing-db:');
    const withInline = original.replace(fileEntry, inlineEntry);
    const alone = new Map(snapshot).set(KUSTOMIZATION, withInline.slice(0, withInline.indexOf('  # billing-db:')));
    alone.delete(BILLING);
    const plan = planUpgrade(alone, options('relabel'));
    const workloads = plan.phases.find((p) => p.id === 'workloads')!;
    expect(workloads.manual).toEqual([]);
    const edited = applyFileChanges(alone, workloads.files).get(KUSTOMIZATION)!;
    expect(edited).toBe(
      alone.get(KUSTOMIZATION)!.replace('value: docker.io/istio/proxyv2:1.20.3\n', 'value: docker.io/istio/proxyv2:1.21.2\n'),
    );
    expect(addStart).toBeGreaterThan(0);
    // With the whole-container add in the same file, an edit would reach it too: both are left to a person.
    const together = new Map(snapshot).set(KUSTOMIZATION, withInline);
    together.delete(BILLING);
    const both = planUpgrade(together, options('relabel')).phases.find((p) => p.id === 'workloads')!;
    expect(both.files.map((f) => f.path)).not.toContain(KUSTOMIZATION);
    expect(both.manual.filter((m) => m.includes(KUSTOMIZATION)).map((m) => /of (\w+ \S+)/.exec(m)![1])).toEqual([
      'Deployment billing/billing',
      'StatefulSet billing/billing-db',
    ]);
  });
});
