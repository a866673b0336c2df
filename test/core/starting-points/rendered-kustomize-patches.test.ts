import { beforeAll, describe, expect, it } from 'vitest';
import { renderedRevision } from '../../../demo/prepared-render.js';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { applyFileChanges, type RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { hasKubectl, kustomizeBuild, objectKey, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'overlays/prod');

const INJECTOR_VALUES = `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio-sidecar-injector-${TO}
  namespace: istio-system
  labels:
    istio.io/rev: ${TO}
data:
  values: |-
    {"global":{"hub":"docker.io/istio","tag":"1.22.1","istioNamespace":"istio-system"},"revision":"${TO}","sidecarInjectorWebhook":{"enableNamespacesByDefault":false}}
`;

/** The control-plane pull request: the bot's twin patches, and the person's commit of the render, as its manual steps say. */
function withManualControlPlane(repo: RepoSnapshot): RepoSnapshot {
  const next = new Map(applyFileChanges(repo, planUpgrade(repo, { to: TO }).phases.find((p) => p.id === 'control-plane')!.files));
  next.set(`base/istio-system/${TO}/istiod.yaml`, renderedRevision(TO, '1.22.1') + INJECTOR_VALUES);
  const k = 'base/istio-system/kustomization.yaml';
  next.set(k, next.get(k)!.replace('  - rendered/istio.yaml', `  - ${TO}/istiod.yaml\n  - rendered/istio.yaml`));
  return next;
}

/** The person's regeneration of the pinned gateway, as the gateways phase's manual steps say. */
function withRegeneratedGateway(repo: RepoSnapshot): RepoSnapshot {
  const file = 'base/istio-ingress/gateway.yaml';
  const text = repo
    .get(file)!
    .replace('proxyv2:1.21.2', 'proxyv2:1.22.1')
    .replace('istiod.istio-system.svc:15012', `istiod-${TO}.istio-system.svc:15012`);
  return new Map(repo).set(file, text);
}

describe('first canary from a rendered install customised by a kustomize overlay (fixture rendered-kustomize-patches)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('rendered-kustomize-patches');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO }, (phase, repo) =>
      phase === 'control-plane' ? withManualControlPlane(repo) : phase === 'gateways' ? withRegeneratedGateway(repo) : null,
    );
  });

  it('plans the first canary from "default", rendered manifests, with a twin of every name-keyed patch for the new revision', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(json.install).toBe('manifests');
    expect(json.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'default-revision', 'workloads', 'cleanup']);
    expect(plan.warnings.filter((w) => w.code === 'patch-not-carried-over')).toEqual([]);
    const controlPlane = plan.phases.find((p) => p.id === 'control-plane')!;
    expect(controlPlane.files.map((f) => [f.path, f.action])).toEqual([
      ['overlays/prod/injector-values-1-22-1.yaml', 'create'],
      ['overlays/prod/istiod-1-22-1.yaml', 'create'],
      ['overlays/prod/kustomization.yaml', 'update'],
      ['overlays/prod/mesh-config-1-22-1.yaml', 'create'],
    ]);
    // The kustomization only gains lines: each twin right after the patch it copies, with a target.
    const before = snapshot.get('overlays/prod/kustomization.yaml')!.split('\n');
    const after = controlPlane.files.find((f) => f.path === 'overlays/prod/kustomization.yaml')!.content!.split('\n');
    const added = (l: string) =>
      / of the new revision, customised like /.test(l) || /-1-22-1\.yaml$/.test(l) || /^ {4}target:$|^ {6}(kind|name|namespace): /.test(l);
    expect(after.filter((l) => !added(l))).toEqual(before);
    expect(after.length - before.length).toBe(3 * 6);
    expect(after.slice(after.indexOf('  - path: istiod.yaml') + 1, after.indexOf('  - path: istiod.yaml') + 7)).toEqual([
      '  # Deployment istiod-1-22-1 of the new revision, customised like istiod',
      '  - path: istiod-1-22-1.yaml',
      '    target:',
      '      kind: Deployment',
      '      name: istiod-1-22-1',
      '      namespace: istio-system',
    ]);
    // The twin is the old patch with the name and the per-revision values changed, nothing else.
    const twin = controlPlane.files.find((f) => f.path === 'overlays/prod/mesh-config-1-22-1.yaml')!.content!;
    const old = snapshot.get('overlays/prod/mesh-config.yaml')!;
    expect(twin).toBe(
      `# Twin of mesh-config.yaml for ConfigMap istio-1-22-1 (revision 1-22-1): kustomize matches patches by name.\n${old.replace('name: istio\n', 'name: istio-1-22-1\n').replace('istiod.istio-system.svc', 'istiod-1-22-1.istio-system.svc')}`,
    );
    // The ingress gateway pins proxyv2:1.21.2 and the istiod Service: it is regenerated by hand, and cleanup waits for it.
    expect(plan.warnings.filter((w) => w.code === 'gateway-pinned-proxy').map((w) => w.file)).toEqual(['base/istio-ingress/gateway.yaml']);
    expect(plan.phases.find((p) => p.id === 'cleanup')!.blockedBy).toContain('gateway istio-ingress/istio-ingressgateway');
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'default-revision', 'workloads', 'cleanup']);
  });

  it.skipIf(!hasKubectl)(
    'builds the overlay after every phase: one injector per pod, no namespace loses injection, nothing removed before cleanup',
    async () => {
      const initialKeys = new Set((await build(snapshot)).map(objectKey));
      for (const step of steps) {
        const objects = await build(step.after);
        const keys = new Set(objects.map(objectKey));
        if (step.phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${step.phase}`).toBe(true);
        for (const [ns, labels] of [
          ['web', { app: 'frontend' }],
          ['orders', { app: 'orders-api' }],
          ['monitoring', {}],
          ['istio-ingress', {}],
        ] as const) {
          const hits = injectorsFor(objects as never, ns, labels);
          expect(hits.length, `${ns} after ${step.phase}: ${hits.join(', ')}`).toBe(ns === 'web' || ns === 'orders' ? 1 : 0);
        }
      }
      // From the control-plane phase on, the new revision gets the overlay's customisations, with its own values.
      for (const step of steps) {
        const objects = await build(step.after);
        const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as Doc | undefined;
        const istiod = find('Deployment', `istiod-${TO}`)!;
        expect(istiod.spec.replicas, step.phase).toBe(3);
        expect(istiod.spec.template.spec.containers[0].resources.requests, step.phase).toEqual({ cpu: '2', memory: '4Gi' });
        expect(find('ConfigMap', `istio-${TO}`)!.data.mesh, step.phase).toContain(`discoveryAddress: istiod-${TO}.istio-system.svc:15012`);
        expect(find('ConfigMap', `istio-${TO}`)!.data.mesh, step.phase).toContain('accessLogEncoding: JSON');
        const values = JSON.parse(find('ConfigMap', `istio-sidecar-injector-${TO}`)!.data.values);
        expect(values, step.phase).toMatchObject({ revision: TO, global: { hub: 'registry.example.com/istio', tag: '1.22.1' } });
        // The old control plane keeps its own customisations until cleanup removes it with them.
        if (step.phase !== 'cleanup')
          expect(find('ConfigMap', 'istio')!.data.mesh, step.phase).toContain('discoveryAddress: istiod.istio-system.svc:15012');
        else expect(find('ConfigMap', 'istio'), step.phase).toBeUndefined();
      }
      const final = await build(steps.at(-1)!.after);
      expect(injectorsFor(final as never, 'web', {})[0]).toContain(`istiod-${TO}`);
      // The overlay keeps deciding the label; the base's Namespace list is untouched.
      expect(steps.at(-1)!.after.get('base/apps/namespaces.yaml')).toBe(snapshot.get('base/apps/namespaces.yaml'));
    },
  );

  it('cleanup removes the old patches and their entries, and keeps the twins', () => {
    const cleanup = steps.find((s) => s.phase === 'cleanup')!;
    for (const f of ['istiod.yaml', 'mesh-config.yaml', 'injector-values.yaml'])
      expect(cleanup.after.has(`overlays/prod/${f}`), f).toBe(false);
    for (const f of ['istiod-1-22-1.yaml', 'mesh-config-1-22-1.yaml', 'injector-values-1-22-1.yaml'])
      expect(cleanup.after.get(`overlays/prod/${f}`), f).toBe(cleanup.before.get(`overlays/prod/${f}`));
    expect(cleanup.after.get('overlays/prod/kustomization.yaml')).toBe(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
patches:
  # Deployment istiod-1-22-1 of the new revision, customised like istiod
  - path: istiod-1-22-1.yaml
    target:
      kind: Deployment
      name: istiod-1-22-1
      namespace: istio-system
  # ConfigMap istio-1-22-1 of the new revision, customised like istio
  - path: mesh-config-1-22-1.yaml
    target:
      kind: ConfigMap
      name: istio-1-22-1
      namespace: istio-system
  # ConfigMap istio-sidecar-injector-1-22-1 of the new revision, customised like istio-sidecar-injector
  - path: injector-values-1-22-1.yaml
    target:
      kind: ConfigMap
      name: istio-sidecar-injector-1-22-1
      namespace: istio-system
  # prod meshes web and orders
  - path: namespace-injection.yaml
`);
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
