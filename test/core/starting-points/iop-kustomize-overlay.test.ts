import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { type BuiltObject, hasKubectl, kustomizeBuild, objectKey, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';
import { defaultTag, revisionInjector } from './cluster-webhooks.js';

const FROM = '1-21-2';
const TO = '1-22-1';
const OLD_IOP = `istiocontrolplane-${FROM}`;
const NEW_IOP = `istiocontrolplane-${TO}`;
const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'overlays/prod');
const iop = (objects: readonly BuiltObject[], name: string) =>
  objects.find((o) => o.kind === 'IstioOperator' && o.metadata.name === name) as Doc | undefined;

/** What the cluster runs besides git: each IstioOperator's operator renders its injector; the default tag is set with istioctl. */
function withClusterWebhooks(objects: readonly BuiltObject[], tagOn: string): unknown[] {
  const revisions = objects.filter((o) => o.kind === 'IstioOperator').map((o) => (o as Doc).spec.revision as string);
  return [...objects, ...revisions.map(revisionInjector), defaultTag(tagOn)];
}

describe('revisioned IstioOperator customised by name in a kustomize overlay (fixture iop-kustomize-overlay)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('iop-kustomize-overlay');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO });
  });

  it('plans the operator path with a twin of each patch of the old IstioOperator, right after it', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: FROM, version: '1.21.2' });
    expect(json.install).toBe('istio-operator');
    expect(json.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    // The gateways phase has nothing to change here (no gateway in the repo).
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'workloads', 'default-revision', 'cleanup']);
    expect(plan.warnings.filter((w) => w.code === 'patch-not-carried-over')).toEqual([]);
    // The base IstioOperator is the installer, not the overlay's patch of it.
    expect(plan.warnings.map((w) => w.code)).not.toContain('operator-managed-gateways');
    const controlPlane = plan.phases.find((p) => p.id === 'control-plane')!;
    expect(controlPlane.files.map((f) => [f.path, f.action])).toEqual([
      [`base/istio-system/${NEW_IOP}.yaml`, 'create'],
      ['base/istio-system/kustomization.yaml', 'update'],
      [`overlays/prod/iop-hub.json6902-${TO}.yaml`, 'create'],
      [`overlays/prod/iop-resources-${TO}.yaml`, 'create'],
      ['overlays/prod/kustomization.yaml', 'update'],
    ]);
    const content = (path: string) => controlPlane.files.find((f) => f.path === path)!.content!;
    // The strategic-merge twin: the old patch with the name, revision and tag changed, nothing else.
    const old = snapshot.get('overlays/prod/iop-resources.yaml')!;
    expect(content(`overlays/prod/iop-resources-${TO}.yaml`)).toBe(
      `# Twin of iop-resources.yaml for IstioOperator ${NEW_IOP} (revision ${TO}): kustomize matches patches by name.\n` +
        old
          .replace(`name: ${OLD_IOP}`, `name: ${NEW_IOP}`)
          .replace(`revision: ${FROM} #`, `revision: ${TO} #`)
          .replace('tag: 1.21.2', 'tag: 1.22.1'),
    );
    // The JSON6902 twin: the same operations (no revision-specific value in them).
    expect(content(`overlays/prod/iop-hub.json6902-${TO}.yaml`)).toBe(
      `# Twin of iop-hub.json6902.yaml for IstioOperator ${NEW_IOP} (revision ${TO}): kustomize matches patches by name.\n${snapshot.get('overlays/prod/iop-hub.json6902.yaml')!}`,
    );
    // The kustomization only gains lines: each twin right after the entry it copies.
    expect(content('overlays/prod/kustomization.yaml')).toBe(
      snapshot
        .get('overlays/prod/kustomization.yaml')!
        .replace(
          '  - path: iop-resources.yaml\n',
          `  - path: iop-resources.yaml\n  # IstioOperator ${NEW_IOP} of the new revision, customised like ${OLD_IOP}\n  - path: iop-resources-${TO}.yaml\n    target:\n      kind: IstioOperator\n      name: ${NEW_IOP}\n      namespace: istio-system\n`,
        )
        .replace(
          `      name: ${OLD_IOP}\n`,
          `      name: ${OLD_IOP}\n  # IstioOperator ${NEW_IOP} of the new revision, customised like ${OLD_IOP}\n  - path: iop-hub.json6902-${TO}.yaml\n    target:\n      kind: IstioOperator\n      name: ${NEW_IOP}\n`,
        ),
    );
  });

  it.skipIf(!hasKubectl)(
    'builds the overlay after every phase: the new IstioOperator has the prod customisations, one injector per pod',
    async () => {
      const initial = await build(snapshot);
      const initialKeys = new Set(initial.map(objectKey));
      expect(iop(initial, NEW_IOP)).toBeUndefined();
      for (const step of steps) {
        const objects = await build(step.after);
        const keys = new Set(objects.map(objectKey));
        if (step.phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${step.phase}`).toBe(true);
        const next = iop(objects, NEW_IOP)!;
        expect(next.spec.revision, step.phase).toBe(TO);
        expect(next.spec.tag, step.phase).toBe('1.22.1');
        expect(next.spec.hub, step.phase).toBe('mirror.example.com/istio');
        expect(next.spec.meshConfig, step.phase).toEqual({ enableTracing: false, accessLogFile: '/dev/stdout' });
        expect(next.spec.components.pilot.k8s, step.phase).toEqual({
          replicaCount: 3,
          resources: { requests: { cpu: '1', memory: '4Gi' } },
        });
        expect(next.spec.values.pilot.env, step.phase).toEqual({ PILOT_ENABLE_STATUS: 'true', PILOT_TRACE_SAMPLING: '1.0' });
        expect(
          next.spec.components.ingressGateways.map((g: { enabled: boolean }) => g.enabled),
          step.phase,
        ).toEqual([false]);
        // The old IstioOperator keeps its own customisations until cleanup removes it with them.
        const old = iop(objects, OLD_IOP);
        if (step.phase === 'cleanup') expect(old).toBeUndefined();
        else
          expect([old!.spec.revision, old!.spec.hub, old!.spec.components.pilot.k8s.replicaCount], step.phase).toEqual([
            FROM,
            'mirror.example.com/istio',
            3,
          ]);
        const cluster = withClusterWebhooks(objects, ['default-revision', 'cleanup'].includes(step.phase) ? TO : FROM);
        const shop = injectorsFor(cluster as never, 'shop', { app: 'frontend' });
        expect(shop.length, `shop after ${step.phase}: ${shop.join(', ')}`).toBe(1);
        expect(shop[0], step.phase).toContain(['control-plane', 'gateways'].includes(step.phase) ? FROM : TO);
        expect(injectorsFor(cluster as never, 'tools', { app: 'netshoot' }), step.phase).toEqual([]);
      }
    },
  );

  it('cleanup removes the old IstioOperator with its patches and their entries, and keeps the twins', () => {
    const cleanup = steps.find((s) => s.phase === 'cleanup')!;
    for (const f of ['overlays/prod/iop-resources.yaml', 'overlays/prod/iop-hub.json6902.yaml', `base/istio-system/${OLD_IOP}.yaml`])
      expect(cleanup.after.has(f), f).toBe(false);
    for (const f of [`iop-resources-${TO}.yaml`, `iop-hub.json6902-${TO}.yaml`])
      expect(cleanup.after.get(`overlays/prod/${f}`), f).toBe(cleanup.before.get(`overlays/prod/${f}`));
    expect(cleanup.after.get('overlays/prod/kustomization.yaml')).toBe(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
patches:
  # IstioOperator ${NEW_IOP} of the new revision, customised like ${OLD_IOP}
  - path: iop-resources-${TO}.yaml
    target:
      kind: IstioOperator
      name: ${NEW_IOP}
      namespace: istio-system
  # IstioOperator ${NEW_IOP} of the new revision, customised like ${OLD_IOP}
  - path: iop-hub.json6902-${TO}.yaml
    target:
      kind: IstioOperator
      name: ${NEW_IOP}
  - path: frontend-replicas.yaml
`);
    // Nothing of the old IstioOperator's patches goes before cleanup.
    for (const step of steps.filter((s) => s.phase !== 'cleanup')) {
      for (const f of ['overlays/prod/iop-resources.yaml', 'overlays/prod/iop-hub.json6902.yaml'])
        expect(step.after.get(f), `${f} after ${step.phase}`).toBe(snapshot.get(f));
    }
  });

  it('is idempotent, edits only the expected bytes, and writes schema-valid objects', async () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    // Untouched files stay byte for byte: the unrelated app, its patch, the argocd Application.
    const final = steps.at(-1)!.after;
    for (const f of [
      'base/apps/tools/namespace.yaml',
      'base/apps/tools/netshoot.yaml',
      'overlays/prod/frontend-replicas.yaml',
      'argocd/prod.yaml',
      'base/kustomization.yaml',
    ])
      expect(final.get(f), f).toBe(snapshot.get(f));
    const changed = steps.flatMap((s) =>
      [...s.after]
        .filter(([p, t]) => s.before.get(p) !== t && !p.endsWith('.json6902-1-22-1.yaml'))
        .map(([path, content]) => ({ path, content })),
    );
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
  });

  it('patchesStrategicMerge form: the twin goes to patches:, and a gateway the patch enables stays off in the new IstioOperator', async () => {
    const repo = new Map(snapshot);
    const k = 'overlays/prod/kustomization.yaml';
    repo.set(k, 'resources:\n  - ../../base\npatchesStrategicMerge:\n  - iop-resources.yaml\n  - frontend-replicas.yaml\n');
    repo.set(
      'overlays/prod/iop-resources.yaml',
      `${snapshot.get('overlays/prod/iop-resources.yaml')!}    ingressGateways:\n      - name: istio-ingressgateway\n        enabled: true\n        k8s: {replicaCount: 4}\n`,
    );
    const variant = planUpgrade(repo, { to: TO });
    const files = variant.phases.find((p) => p.id === 'control-plane')!.files;
    expect(files.find((f) => f.path === k)!.content).toBe(
      `resources:\n  - ../../base\npatchesStrategicMerge:\n  - iop-resources.yaml\n  - frontend-replicas.yaml\npatches:\n  # IstioOperator ${NEW_IOP} of the new revision, customised like ${OLD_IOP}\n  - path: iop-resources-${TO}.yaml\n    target:\n      kind: IstioOperator\n      name: ${NEW_IOP}\n      namespace: istio-system\n`,
    );
    expect(files.find((f) => f.path === `overlays/prod/iop-resources-${TO}.yaml`)!.content).toContain(
      '      - name: istio-ingressgateway\n        enabled: false\n        k8s: {replicaCount: 4}\n',
    );
    if (!hasKubectl) return;
    const built = await build(new Map([...repo, ...files.map((f) => [f.path, f.content!] as const)]));
    expect(iop(built, NEW_IOP)!.spec.components.ingressGateways).toEqual([
      { name: 'istio-ingressgateway', enabled: false, k8s: { replicaCount: 4 } },
    ]);
    expect(iop(built, NEW_IOP)!.spec.components.pilot.k8s.replicaCount).toBe(3);
    expect(iop(built, OLD_IOP)!.spec.components.ingressGateways[0].enabled).toBe(true);
  });

  it('names what it does not copy: an inline patch of the old IstioOperator, JSON6902 operations on its gateways', () => {
    const repo = new Map(snapshot);
    const k = 'overlays/prod/kustomization.yaml';
    repo.set(
      k,
      `${snapshot.get(k)!}  - target:\n      kind: IstioOperator\n      name: ${OLD_IOP}\n    patch: |-\n      - op: replace\n        path: /spec/profile\n        value: default\n`,
    );
    repo.set(
      'overlays/prod/iop-hub.json6902.yaml',
      `${snapshot.get('overlays/prod/iop-hub.json6902.yaml')!}- op: replace\n  path: /spec/components/ingressGateways/0/enabled\n  value: true\n`,
    );
    const variant = planUpgrade(repo, { to: TO });
    expect(variant.warnings.filter((w) => w.code === 'patch-not-carried-over').map((w) => w.file)).toEqual([
      k,
      'overlays/prod/iop-hub.json6902.yaml',
    ]);
    const files = variant.phases.find((p) => p.id === 'control-plane')!.files.map((f) => f.path);
    expect(files).toContain(`overlays/prod/iop-resources-${TO}.yaml`);
    expect(files).not.toContain(`overlays/prod/iop-hub.json6902-${TO}.yaml`);
  });
});
