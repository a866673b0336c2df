import { diffLines } from 'diff';
import { load, loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { translateIstioOperator } from '../../../src/core/sources/iop-to-helm.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { changedFiles, hasKubectl, kustomizeBuild, objectKey, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';
import { defaultTag, revisionInjector } from './cluster-webhooks.js';

const FROM = '1-22-4';
const TO = '1-24-2';
const IOP = 'clusters/prod/istio-system/istiocontrolplane-1-22-4.yaml';
const OPERATOR = 'clusters/prod/istio-operator/operator-1-22-4.yaml';
const BASE_APP = 'argocd/apps/istio-base.yaml';
const ISTIOD_APP = 'argocd/apps/istiod-1-24-2.yaml';
const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup', 'operator-cleanup'];

const docs = (text: string): Doc[] => (loadAll(text) as Doc[]).filter(Boolean);
const values = (repo: RepoSnapshot, file: string): Doc => (load(repo.get(file)!) as Doc).spec.source.helm.valuesObject;

/**
 * The injectors the cluster runs, none of them in git: the old revision's (the operator's, until
 * the cleanup steps uninstall it), the new one's (rendered by the istiod Application), and the
 * default tag (istioctl made it for the old revision; the new Application renders it once its
 * values say revisionTags: [default]).
 */
function clusterInjectors(repo: RepoSnapshot): Doc[] {
  // The namespaces as git has them, then the webhooks.
  const out: Doc[] = [
    'clusters/prod/apps/orders/namespace.yaml',
    'clusters/prod/istio-ingress/gateway.yaml',
    'clusters/prod/apps/docs/docs.yaml',
  ].flatMap((f) => docs(repo.get(f)!).filter((d) => d.kind === 'Namespace'));
  const oldRunning = repo.has(IOP);
  if (oldRunning) out.push(revisionInjector(FROM));
  const istiod = repo.get(ISTIOD_APP);
  if (istiod) out.push(revisionInjector(TO));
  const tagged = istiod ? ((values(repo, ISTIOD_APP).revisionTags as string[] | undefined) ?? []).includes('default') : false;
  if (tagged) out.push(defaultTag(TO));
  else if (oldRunning) out.push(defaultTag(FROM));
  return out;
}

describe('operator install past 1.23: migration to Helm Applications (fixture operator-argocd-apps)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('operator-argocd-apps');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO });
  });

  it('plans from the operator revision with every phase, operator-cleanup last', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: FROM, version: '1.22.4' });
    expect(json.install).toBe('istio-operator');
    expect(json.phases.map((p) => p.id)).toEqual(PHASES);
    expect(steps.map((s) => s.phase)).toEqual(PHASES);
  });

  it('control-plane: istio-base and istiod-<new> Applications beside the other Applications, values translated, the rest listed, the operator stopped and its IstioOperator paused', () => {
    const cp = plan.phases[0]!;
    expect(cp.files.map((f) => f.path)).toEqual([BASE_APP, ISTIOD_APP, OPERATOR, IOP]);
    expect(cp.manual).toEqual([]);
    const after = steps[0]!.after;
    const base = load(after.get(BASE_APP)!) as Doc;
    expect(base.spec.source).toMatchObject({
      repoURL: 'https://istio-release.storage.googleapis.com/charts',
      chart: 'base',
      targetRevision: '1.24.2',
    });
    expect(base.spec.source.helm.valuesObject).toEqual({ defaultRevision: '' });
    // Deleting the base Application must never take the CRDs with it.
    expect(base.metadata.finalizers).toBeUndefined();
    const istiod = load(after.get(ISTIOD_APP)!) as Doc;
    expect(istiod.metadata).toMatchObject({
      name: 'istiod-1-24-2',
      namespace: 'argocd',
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    });
    expect(istiod.spec.project).toBe('platform');
    expect(istiod.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'istio-system' });
    expect(istiod.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
    expect(istiod.spec.ignoreDifferences.map((d: Doc) => d.kind)).toEqual([
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
    ]);
    expect(istiod.spec.source.helm.valuesObject).toEqual({
      revision: TO,
      global: { hub: 'docker.io/istio', tag: '1.24.2', logAsJson: true, proxy: { holdApplicationUntilProxyStarts: true } },
      meshConfig: { accessLogFile: '/dev/stdout', outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } },
      env: { PILOT_ENABLE_STATUS: 'true', PILOT_TRACE_SAMPLING: '1' },
      resources: { requests: { cpu: '1', memory: '1Gi' } },
      autoscaleEnabled: true,
      autoscaleMin: 2,
      autoscaleMax: 4,
    });
    expect(cp.why).toContain('**Not translated**');
    for (const field of ['k8s.env POD_IP_FOR_DEBUG', 'k8s.podDisruptionBudget', 'k8s.overlays']) expect(cp.why).toContain(field);
    expect(plan.warnings.find((w) => w.code === 'iop-not-translated')?.file).toBe(IOP);
    expect(docs(after.get(OPERATOR)!).find((d) => d.kind === 'Deployment')!.spec.replicas).toBe(0);
    expect(docs(after.get(IOP)!)[0]!.metadata.annotations).toEqual({ 'install.istio.io/ignoreReconcile': 'true' });
  });

  it('default-revision: the new Application renders the default tag, base the default validator; cleanup uninstalls the stopped revision by hand', () => {
    const dr = plan.phases.find((p) => p.id === 'default-revision')!;
    expect(dr.files.map((f) => f.path)).toEqual([BASE_APP, ISTIOD_APP]);
    expect(dr.manual).toEqual([]);
    const after = steps[3]!.after;
    expect(values(after, ISTIOD_APP).revisionTags).toEqual(['default']);
    expect(values(after, BASE_APP).defaultRevision).toBe(TO);
    expect(plan.warnings.map((w) => w.code)).not.toContain('default-tag-outside-git');
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.files.map((f) => f.path)).toEqual([
      'clusters/prod/istio-system/istiocontrolplane-1-22-4.yaml',
      'clusters/prod/istio-system/kustomization.yaml',
    ]);
    expect(cleanup.manual[0]).toMatch(/^\.\/istio-1\.24\.2\/bin\/istioctl uninstall --revision 1-22-4 -y/);
    expect(cleanup.manual[1]).toContain(`patch istiooperator control-plane-1-22-4 --type merge -p '{"metadata":{"finalizers":null}}'`);
    expect(cleanup.blockedBy).toEqual([]);
    const operatorCleanup = plan.phases.at(-1)!;
    expect(operatorCleanup.files.map((f) => f.path)).toEqual(['clusters/prod/istio-operator/kustomization.yaml', OPERATOR]);
  });

  it('every meshed pod has exactly one injector after every phase, on the revision the repo names', () => {
    for (const step of steps) {
      const cluster = clusterInjectors(step.after);
      const orders = injectorsFor(cluster as never, 'orders', { app: 'orders-api' });
      const rev = (load(step.after.get('clusters/prod/apps/orders/namespace.yaml')!) as Doc).metadata.labels['istio.io/rev'];
      expect(orders, step.phase).toHaveLength(1);
      expect(orders[0], step.phase).toContain(`istiod-${rev}`);
      const gwRev = docs(step.after.get('clusters/prod/istio-ingress/gateway.yaml')!)[1]!.spec.template.metadata.labels['istio.io/rev'];
      const gateway = injectorsFor(cluster as never, 'istio-ingress', { app: 'ingress', istio: 'ingressgateway', 'istio.io/rev': gwRev });
      expect(gateway, step.phase).toHaveLength(1);
      expect(gateway[0], step.phase).toContain(`istiod-${gwRev}`);
      expect(injectorsFor(cluster as never, 'docs', { app: 'docs-site' }), step.phase).toEqual([]);
    }
  });

  it.skipIf(!hasKubectl)(
    'builds after every phase: the operator stopped from control-plane on, nothing removed before cleanup, the operator only after it, namespaces kept',
    async () => {
      const start = new Set((await kustomizeBuild(snapshot, 'clusters/prod')).map(objectKey));
      for (const [i, step] of steps.entries()) {
        const built = await kustomizeBuild(step.after, 'clusters/prod');
        const keys = new Set(built.map(objectKey));
        const removed = [...start].filter((k) => !keys.has(k));
        const expected =
          i < 4
            ? []
            : i === 4
              ? ['IstioOperator/istio-system/control-plane-1-22-4']
              : [
                  'IstioOperator/istio-system/control-plane-1-22-4',
                  ...['ServiceAccount/istio-operator/', 'ClusterRole//', 'ClusterRoleBinding//', 'Deployment/istio-operator/'].map(
                    (p) => `${p}istio-operator-1-22-4`,
                  ),
                ];
        expect(removed.sort(), step.phase).toEqual(expected.sort());
        for (const ns of ['istio-system', 'istio-operator', 'istio-ingress', 'orders', 'docs'])
          expect(keys.has(`Namespace//${ns}`), step.phase).toBe(true);
        const operator = built.find((o) => objectKey(o) === 'Deployment/istio-operator/istio-operator-1-22-4');
        if (operator) expect((operator.spec as Doc).replicas, step.phase).toBe(0);
      }
    },
  );

  it('is idempotent: planning over the finished repo finds every phase done and writes nothing', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
  });

  it('edits existing files byte-exactly: only the lines each phase means to change', () => {
    const allowed: Record<string, RegExp> = {
      'control-plane': /^\s*(replicas: [01]|annotations:|install\.istio\.io\/ignoreReconcile: "true")$/,
      gateways: /^\s*(annotations:|mesh-upgrade-bot\.io\/restarted-for-revision: 1-24-2|istio\.io\/rev: 1-2[24]-[24])$/,
      workloads:
        /^\s*(annotations:|mesh-upgrade-bot\.io\/restarted-for-revision: 1-24-2|istio\.io\/rev: 1-2[24]-[24] # meshed on the operator's revision)$/,
      'default-revision': /^\s*(defaultRevision: (""|"1-24-2")|revisionTags: \[default\])$/,
      cleanup: /^\s*- istiocontrolplane-1-22-4\.yaml$/,
      'operator-cleanup': /^\s*- operator-1-22-4\.yaml$/,
    };
    for (const step of steps) {
      for (const [path, text] of step.after) {
        const before = step.before.get(path);
        if (before === undefined || before === text) continue;
        for (const part of diffLines(before, text)) {
          if (!part.added && !part.removed) continue;
          for (const line of part.value.split('\n').filter((l) => l.trim() !== ''))
            expect(line, `${step.phase}: ${path}`).toMatch(allowed[step.phase]!);
        }
      }
    }
    expect(steps.at(-1)!.after.get('argocd/apps/cert-manager.yaml')).toBe(snapshot.get('argocd/apps/cert-manager.yaml'));
    expect(steps.at(-1)!.after.get('argocd/apps/external-dns.yaml')).toBe(snapshot.get('argocd/apps/external-dns.yaml'));
  });

  it('writes only schema-valid Kubernetes objects', async () => {
    const changed = changedFiles(steps);
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
  });
});

describe('the same operator install upgraded to 1.23.x keeps the operator path', () => {
  it('adds a second IstioOperator and a revisioned operator, no Helm Application; converges and is idempotent', async () => {
    const snapshot = await loadFixture('operator-argocd-apps');
    const plan = planUpgrade(snapshot, { to: '1-23-5' });
    expect(plan.phases.map((p) => p.id)).toEqual(PHASES);
    expect(plan.phases[0]!.files.map((f) => f.path)).toEqual([
      'clusters/prod/istio-operator/kustomization.yaml',
      'clusters/prod/istio-operator/operator-1-23-5.yaml',
      'clusters/prod/istio-system/istiocontrolplane-1-23-5.yaml',
      'clusters/prod/istio-system/kustomization.yaml',
    ]);
    const steps = runUpgrade(snapshot, { to: '1-23-5' });
    const end = steps.at(-1)!.after;
    expect([...end.keys()].filter((p) => p.startsWith('argocd/apps/istio'))).toEqual([]);
    expect(docs(end.get('clusters/prod/istio-system/istiocontrolplane-1-23-5.yaml')!)[0]!.spec).toMatchObject({
      revision: '1-23-5',
      tag: '1.23.5',
    });
    expect(planUpgrade(end, { to: '1-23-5' }).phases.flatMap((p) => p.files)).toEqual([]);
  });
});

describe('IstioOperator → chart values', () => {
  const iopOf = (text: string) => buildYamlIndex(new Map([['iop.yaml', text]])).ofKind('IstioOperator')[0]!;
  it('flattens values.pilot, maps k8s settings to their nearest istiod values, lists what has none', () => {
    const iop = iopOf(`apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: x, namespace: istio-system}
spec:
  profile: demo
  revision: a-1
  compatibilityVersion: "1.23"
  components:
    pilot:
      k8s:
        replicaCount: 3
        nodeSelector: {pool: system}
        priorityClassName: system-cluster-critical
        strategy: {rollingUpdate: {maxSurge: 100%, maxUnavailable: 25%}}
        readinessProbe: {initialDelaySeconds: 3}
    cni: {enabled: true}
    ingressGateways: [{name: istio-ingressgateway, enabled: true}]
  values:
    base: {validationURL: ""}
    pilot: {autoscaleEnabled: false, traceSampling: 0.5}
    gateways: {istio-ingressgateway: {type: NodePort}}
    sidecarInjectorWebhook: {rewriteAppHTTPProbe: true}
`);
    const t = translateIstioOperator(iop, { name: '1-24-0', version: '1.24.0' });
    expect(t.istiod).toEqual({
      profile: 'demo',
      compatibilityVersion: '1.23',
      autoscaleEnabled: false,
      traceSampling: 0.5,
      sidecarInjectorWebhook: { rewriteAppHTTPProbe: true },
      nodeSelector: { pool: 'system' },
      replicaCount: 3,
      rollingMaxSurge: '100%',
      rollingMaxUnavailable: '25%',
      global: { priorityClassName: 'system-cluster-critical' },
      revision: '1-24-0',
    });
    expect(t.base).toEqual({ validationURL: '' });
    expect(t.untranslated).toEqual([
      'spec.values.gateways (values of another chart: gateway)',
      'spec.components.pilot.k8s.readinessProbe (no istiod value)',
      'spec.components.cni (its own chart: install it as a separate release)',
    ]);
  });
});

describe('the same install synced by Flux instead of Argo CD', () => {
  it('writes a HelmRepository and HelmReleases (istiod dependsOn istio-base) beside the IstioOperator, with Helm-ownership adoption before merging', async () => {
    const argo = await loadFixture('operator-argocd-apps');
    const flux = new Map([...argo].filter(([path]) => !path.startsWith('argocd/') && !path.startsWith('bootstrap/')));
    flux.set(
      'clusters/prod/flux-system/cluster.yaml',
      'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cluster\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n',
    );
    const plan = planUpgrade(flux, { to: TO });
    const cp = plan.phases[0]!;
    expect(cp.files.map((f) => f.path)).toEqual([
      OPERATOR,
      'clusters/prod/istio-system/istio-base.yaml',
      'clusters/prod/istio-system/istio-repository.yaml',
      'clusters/prod/istio-system/istiocontrolplane-1-22-4.yaml',
      'clusters/prod/istio-system/istiod-1-24-2.yaml',
      'clusters/prod/istio-system/kustomization.yaml',
    ]);
    const after = new Map(flux);
    for (const f of cp.files) after.set(f.path, f.content!);
    const istiod = docs(after.get('clusters/prod/istio-system/istiod-1-24-2.yaml')!)[0]!;
    expect(istiod).toMatchObject({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'istiod-1-24-2', namespace: 'istio-system' },
    });
    expect(istiod.spec.chart.spec).toEqual({
      chart: 'istiod',
      version: '1.24.2',
      sourceRef: { kind: 'HelmRepository', name: 'istio', namespace: 'flux-system' },
    });
    expect(istiod.spec.dependsOn).toEqual([{ name: 'istio-base' }]);
    expect(istiod.spec.values.revision).toBe(TO);
    expect(cp.beforeMerge.join('\n')).toContain('meta.helm.sh/release-name=istio-base meta.helm.sh/release-namespace=istio-system');
    const dr = plan.phases.find((p) => p.id === 'default-revision')!;
    expect(dr.beforeMerge.join('\n')).toContain(
      'annotate mutatingwebhookconfiguration istio-revision-tag-default meta.helm.sh/release-name=istiod-1-24-2',
    );
    const steps = runUpgrade(flux, { to: TO });
    expect(steps.map((s) => s.phase)).toEqual(PHASES);
    expect(planUpgrade(steps.at(-1)!.after, { to: TO }).phases.flatMap((p) => p.files)).toEqual([]);
    const report = await validateYamlFiles(changedFiles(steps));
    expect(report.errors).toEqual([]);
  });
});
