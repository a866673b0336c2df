import { diffLines } from 'diff';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import {
  type BuiltObject,
  changedFiles,
  hasKubectl,
  kustomizeBuild,
  objectKey,
  runUpgrade,
  type UpgradeStep,
} from '../../helpers/upgrade-run.js';

const OLD = 'default-v1-23-4';
const NEW = 'default-v1-24-3';
const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'clusters/prod');

type Labels = Record<string, string>;
const labelsOf = (o: BuiltObject | undefined): Labels => o?.metadata.labels ?? {};
const podLabels = (o: BuiltObject): Labels => o.spec?.template?.metadata?.labels ?? {};
const podAnnotations = (o: BuiltObject): Labels => ((o.spec?.template?.metadata ?? {}) as { annotations?: Labels }).annotations ?? {};

/**
 * Sail's rules, written out independently of the planner: the Istio's active IstioRevision is
 * `<name>-<spec.version, . → ->` (RevisionBased) or `<name>` (InPlace); an IstioRevisionTag on the
 * Istio follows it and answers its own name (`default` also answers istio-injection=enabled);
 * istio-injection wins over istio.io/rev; a pod-level istio.io/rev counts only in a namespace
 * without injection labels. Returns the revision that injects a new pod, or null.
 */
function injectingRevision(objects: readonly BuiltObject[], namespace: string, pod: Labels): string | null {
  const istio = objects.find((o) => o.kind === 'Istio')!;
  const spec = istio.spec as { version: string; updateStrategy?: { type?: string } };
  const active =
    spec.updateStrategy?.type === 'RevisionBased' ? `${istio.metadata.name}-${spec.version.replace(/\./g, '-')}` : istio.metadata.name;
  const tags = new Map<string, string>();
  for (const t of objects.filter((o) => o.kind === 'IstioRevisionTag')) {
    const ref = (t.spec as { targetRef: { kind: string; name: string } }).targetRef;
    tags.set(t.metadata.name, ref.kind === 'Istio' ? active : ref.name);
  }
  if (pod['sidecar.istio.io/inject'] === 'false') return null;
  const ns = labelsOf(objects.find((o) => o.kind === 'Namespace' && o.metadata.name === namespace));
  if (ns['istio-injection'] === 'enabled') return tags.get('default') ?? (active === 'default' ? 'default' : null);
  if (ns['istio-injection'] === 'disabled') return null;
  const rev = ns['istio.io/rev'] ?? pod['istio.io/rev'];
  return rev ? (tags.get(rev) ?? rev) : null;
}

const workloadsOf = (objects: readonly BuiltObject[]) => objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));

describe('Sail Operator, RevisionBased (fixture sail-operator)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('sail-operator');
    plan = planUpgrade(snapshot, { to: 'v1.24.3' });
    steps = runUpgrade(snapshot, { to: 'v1.24.3' });
  });

  it('plans from the active IstioRevision Sail derives, install sail-operator', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: OLD, version: '1.23.4' });
    expect(json.to).toEqual({ revision: NEW, version: '1.24.3' });
    expect(json.install).toBe('sail-operator');
    expect(json.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'cleanup']);
    expect(json.phases.map((p) => p.changes.map((c) => `${c.action} ${c.kind} ${c.name}`))).toEqual([
      ['update Istio default'],
      ['update Deployment istio-ingressgateway'],
      ['update Deployment payments-api', 'update Namespace payments', 'update Deployment cart', 'update Deployment frontend'],
      ['update IstioCNI default'],
    ]);
    expect(json.warnings).toEqual([]);
    expect(plan.phases.every((p) => p.changes.every((c) => c.action !== 'delete'))).toBe(true);
    expect(plan.phases.find((p) => p.id === 'cleanup')!.verify[0]).toContain(`kubectl get istiorevisions   # only ${NEW}`);
  });

  it.each(['1.24.3', '1-24-3', 'v1-24-3', NEW])('names the same target for --to %s', (to) => {
    const other = planUpgrade(snapshot, { to });
    expect(other.to).toEqual({ revision: NEW, version: '1.24.3' });
    expect(other.phases.map((p) => p.files)).toEqual(plan.phases.map((p) => p.files));
  });

  it('refuses targets that are not this Istio, skip too many minors, or ask for a rollback', () => {
    expect(() => planUpgrade(snapshot, { to: 'canary-v1-24-3' })).toThrow(expect.objectContaining({ code: 'sail-target' }));
    expect(() => planUpgrade(snapshot, { to: 'canary' })).toThrow(UpgradeRefusedError);
    expect(() => planUpgrade(snapshot, { to: '1-24-3', version: '1.24.2' })).toThrow(/--version says 1.24.2/);
    expect(() => planUpgrade(snapshot, { to: 'v1.26.1' })).toThrow(UpgradeRefusedError);
    expect(() => planUpgrade(snapshot, { to: 'v1.22.8' })).toThrow(UpgradeRefusedError);
    expect(() => planUpgrade(snapshot, { to: 'v1.24.3', rollback: true })).toThrow(expect.objectContaining({ code: 'sail-rollback' }));
  });

  it('runs the whole upgrade, phase after phase', () => {
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'workloads', 'cleanup']);
  });

  it.skipIf(!hasKubectl)(
    'builds after every phase; by Sail rules every meshed pod has one injecting revision that exists, and pods run on the old one until restarted',
    async () => {
      const initial = await build(snapshot);
      const initialKeys = new Set(initial.map(objectKey));
      // Which revision each workload's running pods were injected by: a change of the pod template restarts them.
      const running = new Map<string, string | null>();
      for (const w of workloadsOf(initial)) running.set(objectKey(w), injectingRevision(initial, w.metadata.namespace!, podLabels(w)));
      let previous = initial;
      const seen: string[] = [];
      for (const step of steps) {
        const objects = await build(step.after);
        // Nothing is deleted from git, cleanup included: the operator prunes the old IstioRevision.
        for (const k of initialKeys)
          expect(
            objects.some((o) => objectKey(o) === k),
            `${k} after ${step.phase}`,
          ).toBe(true);
        const istio = objects.find((o) => o.kind === 'Istio')!;
        const active = `default-${(istio.spec as { version: string }).version.replace(/\./g, '-')}`;
        for (const w of workloadsOf(objects)) {
          const before = previous.find((o) => objectKey(o) === objectKey(w))!;
          if (JSON.stringify(before.spec?.template) !== JSON.stringify(w.spec?.template))
            running.set(objectKey(w), injectingRevision(objects, w.metadata.namespace!, podLabels(w)));
        }
        const existing = new Set([active, ...[...running.values()].filter((r): r is string => r !== null)]);
        for (const ns of objects.filter((o) => o.kind === 'Namespace')) {
          const l = labelsOf(ns);
          expect(
            l['istio-injection'] !== undefined && l['istio.io/rev'] !== undefined,
            `${ns.metadata.name} has both labels after ${step.phase}`,
          ).toBe(false);
        }
        for (const w of workloadsOf(objects)) {
          const ns = w.metadata.namespace!;
          const rev = injectingRevision(objects, ns, podLabels(w));
          const meshed = ns !== 'monitoring' && podLabels(w)['sidecar.istio.io/inject'] !== 'false';
          expect(rev !== null, `${objectKey(w)} injected after ${step.phase}`).toBe(meshed);
          if (rev) expect(existing.has(rev), `${objectKey(w)} after ${step.phase}: ${rev} is installed`).toBe(true);
          seen.push(`${step.phase} ${ns}/${w.metadata.name} new:${rev} running:${running.get(objectKey(w))}`);
        }
        // A bare pod in shop (istio-injection) follows the default tag.
        seen.push(`${step.phase} shop/<bare> new:${injectingRevision(objects, 'shop', {})}`);
        previous = objects;
      }
      const line = (phase: string, pod: string) => seen.find((l) => l.startsWith(`${phase} ${pod} `))!;
      expect(line('control-plane', 'shop/<bare>')).toBe(`control-plane shop/<bare> new:${NEW}`);
      expect(line('control-plane', 'shop/frontend')).toBe(`control-plane shop/frontend new:${NEW} running:${OLD}`);
      expect(line('control-plane', 'payments/payments-api')).toBe(`control-plane payments/payments-api new:${OLD} running:${OLD}`);
      expect(line('control-plane', 'istio-ingress/istio-ingressgateway')).toBe(
        `control-plane istio-ingress/istio-ingressgateway new:${OLD} running:${OLD}`,
      );
      expect(line('gateways', 'istio-ingress/istio-ingressgateway')).toBe(
        `gateways istio-ingress/istio-ingressgateway new:${NEW} running:${NEW}`,
      );
      expect(line('gateways', 'payments/payments-api')).toBe(`gateways payments/payments-api new:${OLD} running:${OLD}`);
      expect(line('workloads', 'payments/payments-api')).toBe(`workloads payments/payments-api new:${NEW} running:${NEW}`);
      expect(line('workloads', 'shop/cart')).toBe(`workloads shop/cart new:${NEW} running:${NEW}`);
      expect(line('workloads', 'payments/settlement-worker')).toBe('workloads payments/settlement-worker new:null running:null');
      expect(line('workloads', 'monitoring/prometheus')).toBe('workloads monitoring/prometheus new:null running:null');
      // Before cleanup (the IstioCNI) merges, nothing runs on or names the old revision: the operator may prune it.
      expect([...running.values()].filter((r) => r === OLD)).toEqual([]);
      const beforeCleanup = await build(steps.find((s) => s.phase === 'cleanup')!.before);
      expect(JSON.stringify(beforeCleanup.filter((o) => o.kind !== 'IstioCNI'))).not.toContain(OLD);
      const final = await build(steps.at(-1)!.after);
      expect((final.find((o) => o.kind === 'IstioCNI')!.spec as { version: string }).version).toBe('v1.24.3');
      for (const w of workloadsOf(final))
        if (injectingRevision(final, w.metadata.namespace!, podLabels(w)))
          expect(podAnnotations(w)['mesh-upgrade-bot.io/restarted-for-revision']).toBe(NEW);
    },
  );

  it('bumps the IstioCNI only at cleanup, after the control plane (Sail: control plane before CNI)', () => {
    const cni = (repo: RepoSnapshot) =>
      (load(repo.get('clusters/prod/sail/istio-cni.yaml')!) as { spec: { version: string } }).spec.version;
    const istio = (repo: RepoSnapshot) => (load(repo.get('clusters/prod/sail/istio.yaml')!) as { spec: { version: string } }).spec.version;
    for (const step of steps) {
      expect(cni(step.after), step.phase).toBe(step.phase === 'cleanup' ? 'v1.24.3' : 'v1.23.4');
      expect(istio(step.after), step.phase).toBe('v1.24.3');
    }
  });

  it('picks up where the repo is: after control-plane, from is the old revision still named by payments', () => {
    const mid = planUpgrade(steps[0]!.after, { to: 'v1.24.3' });
    expect(mid.from).toEqual({ revision: OLD, version: '1.23.4' });
    expect(mid.phases.map((p) => `${p.id}:${p.status}`)).toEqual([
      'control-plane:done',
      'gateways:pending',
      'workloads:pending',
      'cleanup:pending',
    ]);
  });

  it('is idempotent: planning over the final repo reports every phase done', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: 'v1.24.3' });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    expect(again.install).toBe('sail-operator');
  });

  it('changes only the bytes of the edited nodes', () => {
    const allowed =
      /^\s*version: v1\.24\.3( {3}# bump with the mesh-upgrade bot, not by hand| # keep in step with the Istio, but never ahead of it)?$|^\s*istio\.io\/rev: default-v1-24-3$|^\s*mesh-upgrade-bot\.io\/restarted-for-revision: default-v1-24-3$|^\s*annotations:$|^\s*version: v1\.23\.4|^\s*istio\.io\/rev: default-v1-23-4$/;
    let changed = 0;
    for (const step of steps) {
      for (const [path, text] of step.after) {
        const before = step.before.get(path);
        expect(before, `${step.phase} creates no file`).toBeDefined();
        if (before === text) continue;
        changed++;
        for (const part of diffLines(before!, text)) {
          if (!part.added && !part.removed) continue;
          for (const l of part.value.split('\n').filter((x) => x.trim() !== '')) expect(l, `${step.phase}: ${path}`).toMatch(allowed);
        }
      }
    }
    expect(changed).toBe(7);
  });

  it('writes only schema-valid objects (Sail kinds: a version Sail accepts)', async () => {
    const changed = changedFiles(steps);
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
    for (const f of changed.filter((c) => /sail\//.test(c.path)))
      expect((load(f.content) as { spec: { version: string } }).spec.version).toMatch(/^v1\.\d+\.\d+$/);
  });
});

describe('Sail Operator, InPlace', () => {
  let inPlace: RepoSnapshot;
  beforeAll(async () => {
    const base = await loadFixture('sail-operator');
    inPlace = new Map(base);
    const edit = (path: string, from: string, to: string) => {
      expect(inPlace.get(path)).toContain(from);
      inPlace.set(path, inPlace.get(path)!.replace(from, to));
    };
    edit('clusters/prod/sail/istio.yaml', 'type: RevisionBased', 'type: InPlace');
    edit('clusters/prod/apps/payments/namespace.yaml', `istio.io/rev: ${OLD}`, 'istio.io/rev: default');
    edit('clusters/prod/istio-ingress/gateway.yaml', `istio.io/rev: ${OLD}`, 'istio.io/rev: default');
  });

  it('keeps the revision name, says the canary collapses, and only restarts after the in-place upgrade', () => {
    const plan = planUpgrade(inPlace, { to: 'v1.24.3' });
    expect(toPlanJson(plan).from).toEqual({ revision: 'default', version: '1.23.4' });
    expect(plan.to).toEqual({ revision: 'default', version: '1.24.3' });
    expect(plan.install).toBe('sail-operator');
    expect(plan.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'cleanup']);
    expect(plan.warnings.map((w) => w.code)).toEqual(['sail-in-place']);
    expect(plan.phases[0]!.why).toMatch(/in place: there is no canary revision/);
    expect(plan.phases.find((p) => p.id === 'workloads')!.changes.map((c) => c.kind)).toEqual(['Deployment', 'Deployment', 'Deployment']);
    const steps = runUpgrade(inPlace, { to: '1.24.3' });
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'workloads', 'cleanup']);
    const final = steps.at(-1)!.after;
    // Restart markers name the release, so the next InPlace upgrade restarts again.
    expect(final.get('clusters/prod/apps/shop/cart.yaml')).toContain(`mesh-upgrade-bot.io/restarted-for-revision: ${NEW}`);
    expect(final.get('clusters/prod/apps/payments/namespace.yaml')).toBe(inPlace.get('clusters/prod/apps/payments/namespace.yaml'));
    const again = planUpgrade(final, { to: 'default', version: '1.24.3' });
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
  });
});
