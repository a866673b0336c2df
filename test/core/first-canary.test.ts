import { diffLines } from 'diff';
import { loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderedRevision } from '../../demo/prepared-render.js';
import { planUpgrade } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { UpgradeRefusedError } from '../../src/model/errors.js';
import { applyFileChanges, type RepoSnapshot } from '../../src/model/snapshot.js';
import { loadFixture } from '../helpers/fixtures.js';
import { injectorsFor } from '../helpers/injection.js';
import { validateYamlFiles } from '../helpers/kube-schemas.js';
import { type BuiltObject, kustomizeBuild as build, hasKubectl, objectKey, runUpgrade, type UpgradeStep } from '../helpers/upgrade-run.js';

const kubectl = hasKubectl;
const TO = '1-22-1';
const NEW_DIR = 'clusters/prod/istio-system/1-22-1';

/** The repo once the control-plane PR (its twin of the overlay's istiod patch) and a person's commit of the render are in. */
function withManualControlPlane(repo: RepoSnapshot): RepoSnapshot {
  const next = new Map(applyFileChanges(repo, planUpgrade(repo, { to: TO }).phases[0]!.files));
  next.set(`${NEW_DIR}/istiod.yaml`, renderedRevision(TO, '1.22.1'));
  const k = 'clusters/prod/istio-system/kustomization.yaml';
  next.set(k, next.get(k)!.replace('  - rendered/istio.yaml\n', '  - rendered/istio.yaml\n  - 1-22-1/istiod.yaml\n'));
  return next;
}

function runFirstCanary(start: RepoSnapshot): UpgradeStep[] {
  return runUpgrade(start, { to: TO }, (phase, repo) => (phase === 'control-plane' ? withManualControlPlane(repo) : null));
}

type Doc = BuiltObject;
const kustomizeBuild = (repo: RepoSnapshot) => build(repo, 'clusters/prod');
const key = objectKey;

describe('first canary from a non-revisioned rendered install (fixture rendered-nonrevisioned)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('rendered-nonrevisioned');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runFirstCanary(snapshot);
  });

  it('plans from revision "default" at the running release, rendered manifests', () => {
    expect(plan.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(plan.to).toEqual({ revision: TO, version: '1.22.1' });
    expect(plan.install).toBe('manifests');
    expect(plan.strategy).toBe('tag');
    expect(plan.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'default-revision', 'workloads', 'cleanup']);
  });

  it('makes the control plane a manual phase whose result is committed files, with the exact istioctl command', () => {
    const cp = plan.phases[0]!;
    expect(cp.manualResult).toBe('repo');
    // The bot's own part: a twin of the overlay's `Deployment istiod` patch for istiod-1-22-1.
    expect(cp.files.map((f) => f.path)).toEqual([
      'clusters/prod/istio-system/kustomization.yaml',
      'clusters/prod/istio-system/patches/istiod-resources-1-22-1.yaml',
    ]);
    expect(cp.manual).toContain(
      `./istio-1.22.1/bin/istioctl manifest generate -f render/overlay.yaml --set revision=${TO} --set 'components.ingressGateways[0].enabled=false' --set 'components.egressGateways[0].enabled=false' --set 'components.base.enabled=false' > ${NEW_DIR}/istiod.yaml`,
    );
    expect(cp.manual.join('\n')).toContain('add 1-22-1/istiod.yaml to the resources of clusters/prod/istio-system/kustomization.yaml');
    // Nothing of the manual command names the old "revision" default as a revision.
    expect(cp.manual.join('\n')).not.toMatch(/revision[= ]default/);
  });

  it('gives `default` to the new revision and deactivates the non-revisioned injector in one commit, and repoints the istiod Service', () => {
    const phase = plan.phases.find((p) => p.id === 'default-revision')!;
    expect(phase.changes.map((c) => `${c.action} ${c.kind} ${c.name}`).sort()).toEqual([
      'create MutatingWebhookConfiguration istio-revision-tag-default',
      'update Kustomization clusters/prod/istio-system',
      'update MutatingWebhookConfiguration istio-sidecar-injector',
      'update Service istiod',
      'update ValidatingWebhookConfiguration istiod-default-validator',
    ]);
    const tag = phase.files.find((f) => f.path === 'clusters/prod/istio-system/istio-revision-tag-default.yaml')!.content!;
    const [mwc] = loadAll(tag) as Array<{
      metadata: { labels: Record<string, string> };
      webhooks: Array<{ name: string; clientConfig: { service: { name: string }; caBundle?: string } }>;
    }>;
    expect(mwc!.metadata.labels).toMatchObject({ 'istio.io/tag': 'default', 'istio.io/rev': TO });
    expect(mwc!.webhooks.map((w) => w.name)).toEqual([
      'rev.namespace.sidecar-injector.istio.io',
      'rev.object.sidecar-injector.istio.io',
      'namespace.sidecar-injector.istio.io',
      'object.sidecar-injector.istio.io',
    ]);
    expect(mwc!.webhooks.every((w) => w.clientConfig.service.name === `istiod-${TO}` && w.clientConfig.caBundle === undefined)).toBe(true);
  });

  it('runs the whole upgrade, phase after phase, to the same phases', () => {
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'default-revision', 'workloads', 'cleanup']);
  });

  it.skipIf(!kubectl)(
    'builds with kubectl kustomize after every phase: one injector per pod, no namespace loses injection, nothing removed before cleanup',
    async () => {
      const initial = await kustomizeBuild(snapshot);
      const initialKeys = new Set(initial.map(key));
      const states = [{ phase: 'start', repo: snapshot }, ...steps.map((s) => ({ phase: s.phase, repo: s.after }))];
      const summary: string[] = [];
      for (const { phase, repo } of states) {
        const objects = await kustomizeBuild(repo);
        const keys = new Set(objects.map(key));
        if (phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${phase}`).toBe(true);
        const pods: Array<[string, string, Record<string, string>]> = objects
          .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind) && o.metadata.namespace !== 'istio-system')
          .map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o.metadata.namespace!, o.spec?.template?.metadata?.labels ?? {}]);
        pods.push(
          ['web/<bare pod>', 'web', {}],
          ['orders/<bare pod>', 'orders', {}],
          ['istio-ingress/<bare pod>', 'istio-ingress', {}],
          ['monitoring/<bare pod>', 'monitoring', {}],
        );
        for (const [name, namespace, labels] of pods) {
          const hits = injectorsFor(objects as never, namespace, labels);
          expect(hits.length, `${name} after ${phase}: ${hits.join(', ')}`).toBeLessThanOrEqual(1);
          const meshed = namespace !== 'monitoring' && labels['sidecar.istio.io/inject'] !== 'false';
          expect(hits.length, `${name} after ${phase} must ${meshed ? '' : 'not '}be injected`).toBe(meshed ? 1 : 0);
          summary.push(`${phase} ${name} ${hits.map((h) => h.split(' -> ')[1]).join('')}`);
        }
        const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'istiod')!;
        expect(service, `Service istiod after ${phase}`).toBeDefined();
      }
      // Who injects where, after each phase.
      const injectorAfter = (phase: string, pod: string) =>
        summary
          .find((l) => l.startsWith(`${phase} ${pod} `))!
          .split(' ')
          .pop();
      expect(injectorAfter('start', 'web/frontend')).toBe('istiod');
      expect(injectorAfter('gateways', 'istio-ingress/istio-ingressgateway')).toBe(`istiod-${TO}`);
      expect(injectorAfter('gateways', 'web/frontend')).toBe('istiod');
      expect(injectorAfter('default-revision', 'web/frontend')).toBe(`istiod-${TO}`);
      expect(injectorAfter('cleanup', 'orders/orders-api')).toBe(`istiod-${TO}`);
      const final = await kustomizeBuild(steps.at(-1)!.after);
      const finalKeys = new Set(final.map(key));
      for (const kept of [
        'CustomResourceDefinition//peerauthentications.security.istio.io',
        'Namespace//istio-system',
        'Service/istio-system/istiod',
        'ValidatingWebhookConfiguration//istiod-default-validator',
        'ServiceAccount/istio-system/istio-reader-service-account',
      ]) {
        expect(finalKeys.has(kept), kept).toBe(true);
      }
      for (const gone of [
        'Deployment/istio-system/istiod',
        'MutatingWebhookConfiguration//istio-sidecar-injector',
        'ConfigMap/istio-system/istio',
      ])
        expect(finalKeys.has(gone), gone).toBe(false);
    },
  );

  it('repoints the istiod Service at the new revision before cleanup and never deletes it', () => {
    const defaultRevision = steps.find((s) => s.phase === 'default-revision')!.after;
    const text = defaultRevision.get('clusters/prod/istio-system/rendered/istio.yaml')!;
    const service = (loadAll(text) as Doc[]).find((o) => o.kind === 'Service' && o.metadata.name === 'istiod') as unknown as {
      spec: { selector: Record<string, string> };
    };
    expect(service.spec.selector).toEqual({ app: 'istiod', 'istio.io/rev': TO });
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.changes.filter((c) => c.kind === 'Service' || c.kind === 'CustomResourceDefinition' || c.kind === 'Namespace')).toEqual(
      [],
    );
    expect(cleanup.blockedBy).toEqual([]);
    expect(cleanup.beforeMerge.join('\n')).not.toContain('istiod-default');
  });

  it('names the inline kustomize patch of the old injector, which the new revision does not get', () => {
    const warning = plan.warnings.find(
      (w) => w.code === 'patch-not-carried-over' && w.file === 'clusters/prod/istio-system/kustomization.yaml',
    );
    expect(warning?.message).toContain('inline patch of MutatingWebhookConfiguration istio-sidecar-injector of default');
  });

  it('is idempotent: planning over the final repo reports every phase done', () => {
    const final = steps.at(-1)!.after;
    const again = planUpgrade(final, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
  });

  it('changes only the bytes of the edited nodes', () => {
    const allowed =
      /1-22-1|istio-injection|istio\.io\/rev|restarted-for-revision|istio\.io\/deactivated|matchLabels:|annotations:|^\s*labels:\s*$|istio: pilot|name: istiod|istio-revision-tag-default\.yaml/;
    // control-plane is a person's commit; cleanup removes whole documents.
    for (const step of steps.filter((s) => s.phase !== 'control-plane' && s.phase !== 'cleanup')) {
      for (const [path, text] of step.after) {
        const before = step.before.get(path);
        if (before === undefined || before === text) continue;
        for (const part of diffLines(before, text)) {
          if (!part.added && !part.removed) continue;
          for (const line of part.value.split('\n').filter((l) => l.trim() !== '')) expect(line, `${step.phase}: ${path}`).toMatch(allowed);
        }
      }
    }
  });

  it('writes only schema-valid Kubernetes objects', async () => {
    const changed = steps
      .filter((s) => s.phase !== 'control-plane')
      .flatMap((s) => [...s.after].filter(([path, text]) => s.before.get(path) !== text).map(([path, content]) => ({ path, content })));
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
  });

  it('refuses a rollback with what to do instead', () => {
    const beforeCleanup = steps.find((s) => s.phase === 'cleanup')!.before;
    expect(() => planUpgrade(beforeCleanup, { to: TO, rollback: true })).toThrow(UpgradeRefusedError);
    expect(() => planUpgrade(beforeCleanup, { to: TO, rollback: true })).toThrow(/Revert the merged phase pull requests, newest first/);
  });

  it('with --strategy relabel, relabels the namespaces and still hands `default` over in one commit', async () => {
    const relabel = planUpgrade(withManualControlPlane(snapshot), { to: TO, strategy: 'relabel' });
    expect(relabel.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    const kinds = relabel.phases.find((p) => p.id === 'default-revision')!.changes.map((c) => `${c.kind} ${c.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'MutatingWebhookConfiguration istio-revision-tag-default',
        'MutatingWebhookConfiguration istio-sidecar-injector',
      ]),
    );
  });
});

// IstioOperator and Helm releases without a revision are planned too: test/core/starting-points/.
describe('Helm istiod release without a revision: planned (fixtures helm-nonrevisioned, flux-helm-nonrevisioned; test/core/starting-points/helm-nonrevisioned.test.ts)', () => {
  it('plans the Argo CD fixture from "default" at its chart version, relabelling', async () => {
    const plan = planUpgrade(await loadFixture('helm-nonrevisioned'), { to: TO });
    expect(plan.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(plan.install).toBe('helm');
    expect(plan.strategy).toBe('relabel');
    expect(plan.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
  });

  it.each([
    [
      'Argo CD Application',
      'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: istiod\n  namespace: argocd\nspec:\n  source:\n    repoURL: https://istio-release.storage.googleapis.com/charts\n    chart: istiod\n    targetRevision: 1.21.2\n    helm:\n      valuesObject:\n        pilot:\n          autoscaleMin: 2\n  destination:\n    namespace: istio-system\n',
    ],
    [
      'Flux HelmRelease',
      'apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: istiod\n  namespace: istio-system\nspec:\n  chart:\n    spec:\n      chart: istiod\n      version: 1.21.2\n      sourceRef: {kind: HelmRepository, name: istio}\n  values:\n    pilot: {autoscaleMin: 2}\n',
    ],
  ])('plans a bare %s without a revision', (_name, release) => {
    const repo = new Map([
      ['istiod.yaml', release],
      ['ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n'],
    ]);
    const plan = planUpgrade(repo, { to: TO });
    expect(plan.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(plan.install).toBe('helm');
    expect(plan.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    expect(plan.phases[0]!.files.map((f) => f.path)).toEqual(['istiod-1-22-1.yaml']);
  });
});
