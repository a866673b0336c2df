import { diffLines } from 'diff';
import { loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import { applyFileChanges, type RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { type BuiltObject, changedFiles, hasKubectl, kustomizeBuild, objectKey } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];
const IOP = 'clusters/prod/istio-system/istiocontrolplane.yaml';
const NEW_IOP = 'clusters/prod/istio-system/istiocontrolplane-1-22-1.yaml';
const OPERATOR = 'clusters/prod/istio-operator/operator.yaml';
const NEW_OPERATOR = 'clusters/prod/istio-operator/operator-1-22-1.yaml';

/** The istioctl-applied variant: the same repo without the in-cluster operator. */
function withoutOperator(repo: RepoSnapshot): RepoSnapshot {
  const next = new Map([...repo].filter(([path]) => !path.startsWith('clusters/prod/istio-operator/')));
  next.set('clusters/prod/kustomization.yaml', repo.get('clusters/prod/kustomization.yaml')!.replace('  - istio-operator\n', ''));
  return next;
}

interface Step {
  readonly phase: string;
  readonly before: RepoSnapshot;
  readonly after: RepoSnapshot;
  /** Phases whose manual (cluster) steps are done by the time this one is merged, this one included. */
  readonly confirmed: ReadonlySet<string>;
}

/**
 * The bot's loop: plan, merge the first pending phase's files; a pending phase without files is
 * one whose steps happen in the cluster only (a maintainer confirms it with /upgrade continue).
 */
function run(start: RepoSnapshot): Step[] {
  const steps: Step[] = [];
  const confirmed = new Set<string>();
  let repo = start;
  for (let guard = 0; guard < 12; guard++) {
    const next = planUpgrade(repo, { to: TO }).phases.find((p) => p.status === 'pending' && !confirmed.has(p.id));
    if (!next) return steps;
    const after = next.files.length > 0 ? applyFileChanges(repo, next.files) : repo;
    if (next.manual.length > 0) confirmed.add(next.id);
    if (next.files.length === 0 && next.manual.length === 0) throw new Error(`${next.id} is pending with nothing to do`);
    steps.push({ phase: next.id, before: repo, after, confirmed: new Set(confirmed) });
    repo = after;
  }
  throw new Error('upgrade did not converge');
}

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
const expr = (key: string, operator: string, values?: string[]) => ({ key, operator, ...(values ? { values } : {}) });
const NEVER: Selector = { matchLabels: { 'istio.io/deactivated': 'never-match' } };

/** The four webhooks of Istio's non-revisioned injector (and of a `default` tag), calling `service`. */
function defaultWebhooks(service: string, deactivated: boolean) {
  const hooks = [
    {
      name: 'rev.namespace.sidecar-injector.istio.io',
      namespaceSelector: { matchExpressions: [expr('istio.io/rev', 'In', ['default']), expr('istio-injection', 'DoesNotExist')] },
      objectSelector: { matchExpressions: [expr('sidecar.istio.io/inject', 'NotIn', ['false'])] },
    },
    {
      name: 'rev.object.sidecar-injector.istio.io',
      namespaceSelector: { matchExpressions: [expr('istio.io/rev', 'DoesNotExist'), expr('istio-injection', 'DoesNotExist')] },
      objectSelector: { matchExpressions: [expr('sidecar.istio.io/inject', 'NotIn', ['false']), expr('istio.io/rev', 'In', ['default'])] },
    },
    {
      name: 'namespace.sidecar-injector.istio.io',
      namespaceSelector: { matchExpressions: [expr('istio-injection', 'In', ['enabled'])] },
      objectSelector: { matchExpressions: [expr('sidecar.istio.io/inject', 'NotIn', ['false'])] },
    },
    {
      name: 'object.sidecar-injector.istio.io',
      namespaceSelector: { matchExpressions: [expr('istio-injection', 'DoesNotExist'), expr('istio.io/rev', 'DoesNotExist')] },
      objectSelector: { matchExpressions: [expr('sidecar.istio.io/inject', 'In', ['true']), expr('istio.io/rev', 'DoesNotExist')] },
    },
  ];
  return hooks.map((h) => ({
    ...h,
    clientConfig: { service: { name: service } },
    ...(deactivated ? { namespaceSelector: NEVER, objectSelector: NEVER } : {}),
  }));
}

/** The two `rev.*` webhooks of revision `rev`'s injector. */
function revisionWebhooks(rev: string) {
  return [
    {
      name: 'rev.namespace.sidecar-injector.istio.io',
      namespaceSelector: { matchExpressions: [expr('istio.io/rev', 'In', [rev]), expr('istio-injection', 'DoesNotExist')] },
      objectSelector: { matchExpressions: [expr('sidecar.istio.io/inject', 'NotIn', ['false'])] },
    },
    {
      name: 'rev.object.sidecar-injector.istio.io',
      namespaceSelector: { matchExpressions: [expr('istio.io/rev', 'DoesNotExist'), expr('istio-injection', 'DoesNotExist')] },
      objectSelector: { matchExpressions: [expr('sidecar.istio.io/inject', 'NotIn', ['false']), expr('istio.io/rev', 'In', [rev])] },
    },
  ].map((h) => ({ ...h, clientConfig: { service: { name: `istiod-${rev}` } } }));
}

/**
 * The injectors the cluster runs, which git does not hold: the non-revisioned IstioOperator's
 * `istio-sidecar-injector` until uninstalled at cleanup (deactivated once `istioctl tag set default`
 * ran, which also adds the tag), and one injector per revisioned IstioOperator.
 */
function clusterWebhooks(objects: readonly BuiltObject[], confirmed: ReadonlySet<string>): BuiltObject[] {
  const iops = objects.filter((o) => o.kind === 'IstioOperator');
  const tagMoved = confirmed.has('default-revision');
  const out: BuiltObject[] = [];
  if (iops.some((o) => !(o.spec as { revision?: string } | undefined)?.revision)) {
    out.push({
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'istio-sidecar-injector' },
      webhooks: defaultWebhooks('istiod', tagMoved),
    });
  }
  if (tagMoved)
    out.push({
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'istio-revision-tag-default' },
      webhooks: defaultWebhooks(`istiod-${TO}`, false),
    });
  for (const iop of iops) {
    const rev = (iop.spec as { revision?: string } | undefined)?.revision;
    if (rev)
      out.push({
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: `istio-sidecar-injector-${rev}` },
        webhooks: revisionWebhooks(rev),
      });
  }
  return out;
}

const docs = (text: string) => (loadAll(text) as Array<Doc>).filter(Boolean);
const doc = (repo: RepoSnapshot, path: string, kind: string, name?: string) =>
  docs(repo.get(path)!).find((d) => d.kind === kind && (!name || d.metadata.name === name))!;

describe('first canary from a non-revisioned IstioOperator with its in-cluster operator in git (fixture operator-nonrevisioned)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: Step[];
  beforeAll(async () => {
    snapshot = await loadFixture('operator-nonrevisioned');
    plan = planUpgrade(snapshot, { to: TO });
    steps = run(snapshot);
  });

  it('plans from revision "default" at the IstioOperator tag, install istio-operator, relabelling', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(json.to).toEqual({ revision: TO, version: '1.22.1' });
    expect(json.install).toBe('istio-operator');
    expect(json.phases.map((p) => p.id)).toEqual(PHASES);
    expect(plan.strategy).toBe('relabel');
    expect(steps.map((s) => s.phase)).toEqual(PHASES);
  });

  it('takes the version from the operator image when the IstioOperator has no tag', () => {
    const untagged = new Map(snapshot).set(IOP, snapshot.get(IOP)!.replace('  tag: 1.21.2\n', ''));
    expect(planUpgrade(untagged, { to: TO }).from).toEqual({ revision: 'default', version: '1.21.2' });
  });

  it('control-plane: stops the non-revisioned operator, pauses the old IstioOperator, adds a revisioned operator and the new IstioOperator after it', () => {
    const after = steps[0]!.after;
    expect(doc(after, OPERATOR, 'Deployment').spec.replicas).toBe(0);
    expect(doc(after, IOP, 'IstioOperator').metadata.annotations).toEqual({ 'install.istio.io/ignoreReconcile': 'true' });
    const operator = doc(after, NEW_OPERATOR, 'Deployment');
    expect(operator.metadata.name).toBe(`istio-operator-${TO}`);
    expect(operator.spec.replicas).toBe(1);
    const container = operator.spec.template.spec.containers[0];
    expect(container.image).toBe('docker.io/istio/operator:1.22.1');
    expect(container.env).toContainEqual({ name: 'REVISION', value: TO });
    expect(operator.spec.template.spec.serviceAccountName).toBe(`istio-operator-${TO}`);
    const binding = doc(after, NEW_OPERATOR, 'ClusterRoleBinding');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: `istio-operator-${TO}`, namespace: 'istio-operator' }]);
    expect(binding.roleRef.name).toBe(`istio-operator-${TO}`);
    // Never a second CRD or namespace.
    expect(after.get(NEW_OPERATOR)).not.toMatch(/CustomResourceDefinition|kind: Namespace/);
    const iop = doc(after, NEW_IOP, 'IstioOperator');
    expect(iop.metadata.name).toBe(`istiocontrolplane-${TO}`);
    expect(iop.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '1' });
    expect(iop.spec.revision).toBe(TO);
    expect(iop.spec.tag).toBe('1.22.1');
    expect(iop.spec.profile).toBe('default');
    expect(iop.spec.components.base).toEqual({ enabled: false });
    expect(iop.spec.components.ingressGateways.map((g: { name: string; enabled: boolean }) => [g.name, g.enabled])).toEqual([
      ['istio-ingressgateway', false],
    ]);
    expect(iop.spec.meshConfig).toEqual(doc(snapshot, IOP, 'IstioOperator').spec.meshConfig);
    expect(plan.phases[0]!.manual).toEqual([]);
  });

  it('gateways: the gateway component moves to the new IstioOperator with its settings, and off in the old one', () => {
    const step = steps.find((s) => s.phase === 'gateways')!;
    const [gateway] = doc(step.after, NEW_IOP, 'IstioOperator').spec.components.ingressGateways;
    const [original] = doc(snapshot, IOP, 'IstioOperator').spec.components.ingressGateways;
    expect(gateway).toEqual(original);
    expect(doc(step.after, IOP, 'IstioOperator').spec.components.ingressGateways[0].enabled).toBe(false);
    // Cleanup is not blocked by the gateway any more.
    expect(plan.phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual([]);
  });

  it('default-revision hands `default` over with istioctl, and cleanup uninstalls the old control plane, releases the finalizer and removes the old operator', () => {
    const tag = plan.phases.find((p) => p.id === 'default-revision')!;
    expect(tag.files).toEqual([]);
    expect(tag.manual[0]).toMatch(/^\.\/istio-1\.22\.1\/bin\/istioctl tag set default --revision 1-22-1 --overwrite /);
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.manual[0]).toMatch(/istioctl uninstall --revision default -y/);
    expect(cleanup.manual[1]).toMatch(/patch istiooperator istiocontrolplane --type merge -p '\{"metadata":\{"finalizers":null\}\}'/);
    expect(
      cleanup.changes
        .filter((c) => c.action === 'delete')
        .map((c) => `${c.kind} ${c.name}`)
        .sort(),
    ).toEqual([
      'ClusterRole istio-operator',
      'ClusterRoleBinding istio-operator',
      'Deployment istio-operator',
      'IstioOperator istiocontrolplane',
      'Service istio-operator',
      'ServiceAccount istio-operator',
    ]);
    expect(plan.phases.map((p) => p.id)).not.toContain('operator-cleanup');
  });

  it.skipIf(!hasKubectl)(
    'builds after every phase: one injector per meshed pod, none for the others, nothing removed before cleanup, CRD and namespaces kept',
    async () => {
      const initial = await kustomizeBuild(snapshot, 'clusters/prod');
      const initialKeys = initial.map(objectKey);
      const states = [
        { phase: 'start', repo: snapshot, confirmed: new Set<string>() as ReadonlySet<string> },
        ...steps.map((s) => ({ phase: s.phase, repo: s.after, confirmed: s.confirmed })),
      ];
      const who: Record<string, string> = {};
      for (const { phase, repo, confirmed } of states) {
        const objects = await kustomizeBuild(repo, 'clusters/prod');
        const keys = new Set(objects.map(objectKey));
        if (phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${phase}`).toBe(true);
        const cluster = [...objects, ...clusterWebhooks(objects, confirmed)];
        const pods = objects.filter(
          (o) => ['Deployment', 'StatefulSet'].includes(o.kind) && ['shop', 'payments', 'monitoring'].includes(o.metadata.namespace!),
        );
        for (const pod of pods) {
          const labels = pod.spec?.template?.metadata?.labels ?? {};
          const hits = injectorsFor(cluster as never, pod.metadata.namespace!, labels);
          const meshed = pod.metadata.namespace !== 'monitoring' && labels['sidecar.istio.io/inject'] !== 'false';
          expect(hits.length, `${pod.metadata.namespace}/${pod.metadata.name} after ${phase}: ${hits.join(', ')}`).toBe(meshed ? 1 : 0);
          who[`${phase} ${pod.metadata.name}`] = hits.map((h) => h.split(' -> ')[1]).join('');
        }
        // A bare pod in a meshed namespace, and a pod asking for injection in an unlabelled namespace.
        expect(injectorsFor(cluster as never, 'shop', {}).length, `bare pod in shop after ${phase}`).toBe(1);
        const asked = injectorsFor(cluster as never, 'monitoring', { 'sidecar.istio.io/inject': 'true' });
        expect(asked.length, `inject=true in monitoring after ${phase}`).toBe(1);
      }
      expect(who['start frontend']).toBe('istiod');
      expect(who['gateways ledger']).toBe('istiod');
      expect(who['workloads frontend']).toBe(`istiod-${TO}`);
      expect(who['workloads ledger']).toBe(`istiod-${TO}`);
      expect(who['cleanup ledger']).toBe(`istiod-${TO}`);
      const final = new Set((await kustomizeBuild(steps.at(-1)!.after, 'clusters/prod')).map(objectKey));
      for (const kept of [
        'CustomResourceDefinition//istiooperators.install.istio.io',
        'Namespace//istio-system',
        'Namespace//istio-operator',
        `IstioOperator/istio-system/istiocontrolplane-${TO}`,
        `Deployment/istio-operator/istio-operator-${TO}`,
      ]) {
        expect(final.has(kept), kept).toBe(true);
      }
      for (const gone of ['IstioOperator/istio-system/istiocontrolplane', 'Deployment/istio-operator/istio-operator'])
        expect(final.has(gone), gone).toBe(false);
    },
  );

  it('relabels the meshed namespaces (istio-injection dropped) and restarts their workloads, leaving the opted-out one', () => {
    const after = steps.find((s) => s.phase === 'workloads')!.after;
    for (const ns of ['shop', 'payments']) {
      const labels = doc(after, `clusters/prod/apps/${ns}/namespace.yaml`, 'Namespace').metadata.labels;
      expect(labels['istio-injection']).toBeUndefined();
      expect(labels['istio.io/rev']).toBe(TO);
    }
    expect(doc(after, 'clusters/prod/apps/shop/deployments.yaml', 'Deployment', 'importer')).toEqual(
      doc(snapshot, 'clusters/prod/apps/shop/deployments.yaml', 'Deployment', 'importer'),
    );
  });

  it('is idempotent: planning over the final repo reports every phase done and no files', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
  });

  it('changes only the bytes of the edited nodes', () => {
    const allowed =
      /1-22-1|istio-injection|istio\.io\/rev|restarted|annotations:|ignoreReconcile|^ {2}replicas: [01]$|enabled: (true|false)|operator-1-22-1\.yaml|istiocontrolplane-1-22-1\.yaml/;
    for (const step of steps.filter((s) => s.phase !== 'cleanup')) {
      for (const [path, text] of step.after) {
        const before = step.before.get(path);
        if (before === undefined || before === text) continue;
        for (const part of diffLines(before, text)) {
          if (!part.added && !part.removed) continue;
          for (const line of part.value.split('\n').filter((l) => l.trim() !== '')) expect(line, `${step.phase}: ${path}`).toMatch(allowed);
        }
      }
    }
    // Cleanup removes whole documents and files only.
    const cleanup = steps.at(-1)!;
    expect(cleanup.after.has(IOP)).toBe(false);
    expect(cleanup.after.get(OPERATOR)).toBeUndefined();
    expect(cleanup.after.get('clusters/prod/istio-operator/crd.yaml')).toBe(snapshot.get('clusters/prod/istio-operator/crd.yaml'));
  });

  it('writes only schema-valid Kubernetes objects', async () => {
    const changed = changedFiles(steps);
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
  });

  it('past 1.23 migrates to Helm releases (Argo CD Applications beside argocd/prod.yaml); without Argo CD or Flux in the repo it refuses', () => {
    expect(() => planUpgrade(snapshot, { to: '1-23-4' })).not.toThrow();
    const on122 = new Map(snapshot).set(IOP, snapshot.get(IOP)!.replace('tag: 1.21.2', 'tag: 1.22.3'));
    const migration = planUpgrade(on122, { to: '1-24-1' });
    expect(migration.phases[0]!.files.map((f) => f.path)).toEqual(['argocd/istio-base.yaml', 'argocd/istiod-1-24-1.yaml', OPERATOR, IOP]);
    // The operator's ingress gateway component has no automatic move: listed, and cleanup waits for it.
    expect(migration.warnings.map((w) => w.code)).toContain('iop-gateways-not-migrated');
    expect(migration.phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual([
      'gateway istio-ingressgateway of IstioOperator istiocontrolplane',
    ]);
    const noGitOps = new Map([...on122].filter(([path]) => !path.startsWith('argocd/')));
    let error: unknown;
    try {
      planUpgrade(noGitOps, { to: '1-24-1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect((error as UpgradeRefusedError).code).toBe('operator-end-of-life');
  });

  it('overrules --strategy tag with a warning: the tag and the old injector are not in git', () => {
    const tagged = planUpgrade(snapshot, { to: TO, strategy: 'tag' });
    expect(tagged.strategy).toBe('relabel');
    expect(tagged.warnings.map((w) => w.code)).toContain('strategy-relabel-for-iop');
  });
});

describe('first canary from a non-revisioned IstioOperator applied with istioctl (no operator in git)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: Step[];
  beforeAll(async () => {
    snapshot = withoutOperator(await loadFixture('operator-nonrevisioned'));
    plan = planUpgrade(snapshot, { to: TO });
    steps = run(snapshot);
  });

  it('plans from "default" with the same phases, and commits the copy installed with the exact command that leaves `default` alone', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(json.install).toBe('istio-operator');
    expect(json.phases.map((p) => p.id)).toEqual(PHASES);
    expect(steps.map((s) => s.phase)).toEqual(PHASES);
    const cp = plan.phases[0]!;
    expect(cp.files.map((f) => f.path)).toEqual([
      'clusters/prod/istio-system/istiocontrolplane-1-22-1.yaml',
      'clusters/prod/istio-system/kustomization.yaml',
    ]);
    expect(cp.manual).toContain(
      `./istio-1.22.1/bin/istioctl manifest generate -f ${NEW_IOP} | kubectl apply -f -   # not istioctl install: on a cluster without a default tag, istioctl install of a revision makes it the default at once`,
    );
    expect(cp.manual.filter((m) => /bin\/istioctl (install|operator)/.test(m))).toEqual([]);
    expect(cp.beforeMerge.join('\n')).toContain('kubectl get deployment -A -l name=istio-operator');
    const iop = docs(steps[0]!.after.get(NEW_IOP)!)[0]!;
    expect(iop.metadata.annotations).toBeUndefined();
    expect(steps[0]!.after.get(IOP)).toBe(snapshot.get(IOP));
  });

  it('re-renders the gateway in place after the gateways merge, hands `default` over with istioctl, and uninstalls without a finalizer to release', () => {
    expect(plan.phases.find((p) => p.id === 'gateways')!.manual).toEqual([
      `./istio-1.22.1/bin/istioctl manifest generate -f ${NEW_IOP} | kubectl apply -f -   # after the merge: re-renders istio-ingressgateway in place for 1-22-1`,
    ]);
    expect(plan.phases.find((p) => p.id === 'default-revision')!.manual[0]).toContain(
      'istioctl tag set default --revision 1-22-1 --overwrite',
    );
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.manual).toEqual([expect.stringContaining('istioctl uninstall --revision default -y')]);
    expect(cleanup.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'delete IstioOperator istiocontrolplane',
      'update Kustomization clusters/prod/istio-system',
    ]);
  });

  it.skipIf(!hasKubectl)('never two injectors, no meshed pod without one, after every phase', async () => {
    for (const { phase, after, confirmed } of steps) {
      const objects = await kustomizeBuild(after, 'clusters/prod');
      const cluster = [...objects, ...clusterWebhooks(objects, confirmed)];
      for (const [ns, labels, meshed] of [
        ['shop', { app: 'frontend' }, true],
        ['shop', { app: 'importer', 'sidecar.istio.io/inject': 'false' }, false],
        ['payments', { app: 'ledger' }, true],
        ['monitoring', { app: 'prometheus' }, false],
      ] as const) {
        expect(injectorsFor(cluster as never, ns, labels).length, `${ns}/${labels.app} after ${phase}`).toBe(meshed ? 1 : 0);
      }
    }
  });

  it('is idempotent, and goes past 1.23 (istioctl install -f outlives the in-cluster operator)', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done' && p.files.length === 0)).toBe(true);
    const on122 = new Map(snapshot).set(IOP, snapshot.get(IOP)!.replace('tag: 1.21.2', 'tag: 1.22.3'));
    expect(planUpgrade(on122, { to: '1-24-1' }).from).toEqual({ revision: 'default', version: '1.22.3' });
  });
});

describe('two non-revisioned control planes are refused, naming both', () => {
  const refusal = (repo: RepoSnapshot): UpgradeRefusedError => {
    try {
      planUpgrade(repo, { to: TO });
    } catch (e) {
      return e as UpgradeRefusedError;
    }
    throw new Error('planned');
  };

  it('two IstioOperators without revision', async () => {
    const repo = new Map(await loadFixture('operator-nonrevisioned'));
    repo.set(
      'clusters/prod/istio-system/edge.yaml',
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: edge\n  namespace: istio-system\nspec:\n  profile: minimal\n  tag: 1.21.2\n',
    );
    // Listed in the kustomization: a file it does not name is never applied (skipped, not a second control plane).
    repo.set(
      'clusters/prod/istio-system/kustomization.yaml',
      `${repo.get('clusters/prod/istio-system/kustomization.yaml')!.trimEnd()}\n  - edge.yaml\n`,
    );
    const error = refusal(repo);
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect(error.code).toBe('several-non-revisioned');
    expect(error.message).toContain(`IstioOperator istio-system/istiocontrolplane (${IOP})`);
    expect(error.message).toContain('IstioOperator istio-system/edge (clusters/prod/istio-system/edge.yaml)');
  });

  it('an IstioOperator reconciled by a non-revisioned operator beside a rendered non-revisioned istiod', async () => {
    const repo = new Map(await loadFixture('operator-nonrevisioned'));
    repo.set(
      'rendered/istiod.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istiod\n  namespace: istio-system\n  labels:\n    app: istiod\n    istio.io/rev: default\nspec:\n  selector:\n    matchLabels: {istio: pilot}\n  template:\n    metadata:\n      labels: {app: istiod, istio: pilot}\n    spec:\n      containers:\n        - name: discovery\n          image: docker.io/istio/pilot:1.21.2\n',
    );
    const error = refusal(repo);
    expect(error.code).toBe('several-non-revisioned');
    expect(error.message).toContain('Deployment istio-system/istiod (rendered/istiod.yaml)');
    expect(error.message).toContain('IstioOperator istio-system/istiocontrolplane');
  });

  it('but an IstioOperator beside a rendered istiod without an operator is the render overlay, not a second control plane', async () => {
    const plan = planUpgrade(await loadFixture('rendered-nonrevisioned'), { to: TO });
    expect(plan.install).toBe('manifests');
  });
});
