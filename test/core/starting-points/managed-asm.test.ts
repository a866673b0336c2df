import { diffLines } from 'diff';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { discoverMesh } from '../../../src/core/discover.js';
import { planUpgrade, snapshotAfter } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { MeshNotFoundError, UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { hasKubectl, kustomizeBuild, objectKey, runUpgrade } from '../../helpers/upgrade-run.js';
import { defaultTag, revisionInjector } from './cluster-webhooks.js';

const TO = 'asm-managed-rapid';
const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];
const MESHED: Array<[string, string]> = [
  ['shop', 'cart'],
  ['web', 'storefront'],
  ['payments', 'payments-api'],
  ['asm-ingress', 'asm-ingressgateway'],
];

describe('managed Cloud Service Mesh: asm-managed → asm-managed-rapid (fixture managed-asm)', () => {
  let repo: RepoSnapshot;
  let plan: UpgradePlan;
  let states: Array<{ phase: string; repo: RepoSnapshot }>;
  beforeAll(async () => {
    repo = await loadFixture('managed-asm');
    plan = planUpgrade(repo, { to: TO });
    states = [{ phase: 'start', repo }, ...plan.phases.map((p, i) => ({ phase: p.id, repo: snapshotAfter(plan, i + 1) }))];
  });

  it('plans from the channel a namespace names, install "managed", no release on either side', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: 'asm-managed', version: null });
    expect(json.to).toEqual({ revision: TO, version: null });
    expect(json.install).toBe('managed');
    expect(json.phases.map((p) => p.id)).toEqual(PHASES);
    expect(plan.strategy).toBe('relabel');
    expect(json.warnings.map((w) => w.code)).toEqual(expect.arrayContaining(['default-tag-assumed', 'managed-control-plane']));
    expect(json.warnings.map((w) => w.code)).not.toContain('version-unknown');
  });

  it('provisions the channel with exact commands and changes nothing of the control plane in git', () => {
    const cp = plan.phases[0]!;
    expect(cp.files).toEqual([]);
    expect(cp.manualResult).toBe('cluster');
    expect(cp.manual.join('\n')).toContain(
      '"kind":"ControlPlaneRevision","metadata":{"name":"asm-managed-rapid","namespace":"istio-system"',
    );
    expect(cp.manual.join('\n')).toContain('"spec":{"type":"managed_service","channel":"rapid"}');
    expect(cp.manual.join('\n')).not.toMatch(/--version|asmcli install|istiod-asm-managed-rapid\b.*rollout/);
    const tag = plan.phases.find((p) => p.id === 'default-revision')!;
    expect(tag.files).toEqual([]);
    expect(tag.manual[0]).toMatch(/^istioctl tag set default --revision asm-managed-rapid --overwrite/);
    const cleanup = plan.phases.at(-1)!;
    expect(cleanup).toMatchObject({ status: 'done', files: [], manual: [], blockedBy: [] });
  });

  it('relabels every meshed namespace to the channel (istio-injection dropped) and restarts its workloads, gateways first', () => {
    const gateways = plan.phases.find((p) => p.id === 'gateways')!;
    expect(gateways.changes.map((c) => `${c.kind} ${c.name}`).sort()).toEqual(['Deployment asm-ingressgateway', 'Namespace asm-ingress']);
    const workloads = plan.phases.find((p) => p.id === 'workloads')!;
    expect(workloads.changes.map((c) => `${c.kind} ${c.name}`).sort()).toEqual([
      'Deployment cart',
      'Deployment payments-api',
      'Deployment storefront',
      'Namespace payments',
      'Namespace shop',
      'Namespace web',
    ]);
    const web = snapshotAfter(plan, 3).get('clusters/prod/apps/web/namespace.yaml')!;
    expect(web).toContain('istio.io/rev: asm-managed-rapid');
    expect(web).not.toContain('istio-injection');
    // The opted-out StatefulSet and the unrelated app are left alone.
    const final = states.at(-1)!.repo;
    expect(final.get('clusters/prod/apps/monitoring/prometheus.yaml')).toBe(repo.get('clusters/prod/apps/monitoring/prometheus.yaml'));
    expect(final.get('clusters/prod/apps/shop/app.yaml')).toContain('sidecar.istio.io/inject: "false" # redis');
  });

  it.skipIf(!hasKubectl)('keeps one injector per meshed pod after every phase, never two, and removes nothing', async () => {
    const initial = new Set((await kustomizeBuild(repo, 'clusters/prod')).map(objectKey));
    const who: string[] = [];
    for (const [i, { phase, repo: state }] of states.entries()) {
      const objects = await kustomizeBuild(state, 'clusters/prod');
      for (const k of initial) expect(new Set(objects.map(objectKey)).has(k), `${k} after ${phase}`).toBe(true);
      // Outside git: both channels once control-plane is done; the default tag moves at default-revision.
      const cluster = [revisionInjector('asm-managed'), ...(i >= 1 ? [revisionInjector(TO)] : []), defaultTag(i >= 4 ? TO : 'asm-managed')];
      const all = [...objects, ...cluster] as never[];
      for (const [ns, app] of MESHED) {
        const labels = ns === 'asm-ingress' ? { asm: 'ingressgateway' } : { app };
        const hits = injectorsFor(all, ns, labels);
        expect(hits.length, `${ns}/${app} after ${phase}: ${hits.join(', ')}`).toBe(1);
        who.push(`${phase} ${ns} ${hits[0]!.split(' -> ')[1]}`);
      }
      expect(injectorsFor(all, 'monitoring', { app: 'prometheus' })).toEqual([]);
    }
    expect(who).toContain('gateways asm-ingress istiod-asm-managed-rapid');
    expect(who).toContain('gateways web istiod-asm-managed');
    expect(who).toContain('workloads web istiod-asm-managed-rapid');
    expect(who.filter((w) => w.startsWith('cleanup ')).every((w) => w.endsWith(TO))).toBe(true);
  });

  it('is idempotent: planning over the final repo reports every phase done and no files', () => {
    const again = planUpgrade(states.at(-1)!.repo, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    expect(again.install).toBe('managed');
  });

  it('changes only the revision labels and restart markers', () => {
    const allowed = /asm-managed-rapid|istio-injection|istio\.io\/rev|restarted-for-revision|annotations:|^\s*labels:\s*$/;
    for (const [i, phase] of plan.phases.entries()) {
      const before = i === 0 ? repo : snapshotAfter(plan, i);
      for (const file of phase.files) {
        const changed = diffLines(before.get(file.path) ?? '', file.content ?? '')
          .filter((p) => p.added || p.removed)
          .flatMap((p) => p.value.split('\n').filter(Boolean));
        for (const line of changed) expect(line, `${phase.id} ${file.path}`).toMatch(allowed);
      }
    }
  });

  it('writes only schema-valid objects', async () => {
    const written = plan.phases.flatMap((p, i) => p.files.map((f) => ({ path: f.path, content: snapshotAfter(plan, i + 1).get(f.path)! })));
    const report = await validateYamlFiles(written);
    expect(report.errors).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
  });

  it('refuses a channel with --version, saying what to do, and writes nothing', () => {
    const run = () => planUpgrade(repo, { to: TO, version: '1.20.1' });
    expect(run).toThrow(UpgradeRefusedError);
    expect(run).toThrow(/Drop --version/);
    try {
      run();
    } catch (error) {
      expect((error as UpgradeRefusedError).code).toBe('managed-channel-version');
    }
  });

  it('refuses going back from a channel to an in-cluster revision', () => {
    expect(() => planUpgrade(repo, { to: 'asm-1201-1', version: '1.20.1-asm.1' })).toThrow(
      expect.objectContaining({ code: 'managed-to-in-cluster' }),
    );
  });

  it('still refuses a repo with no mesh at all', () => {
    const noMesh = new Map([...repo].filter(([path]) => path.includes('monitoring') || path.startsWith('argocd/')));
    expect(() => planUpgrade(noMesh, { to: TO })).toThrow(MeshNotFoundError);
  });
});

describe('managed Cloud Service Mesh where git names no revision (fixture managed-asm, shop on istio-injection too)', () => {
  const SHOP = 'clusters/prod/apps/shop/namespace.yaml';
  let repo: RepoSnapshot;
  let plan: UpgradePlan;
  beforeAll(async () => {
    const fixture = await loadFixture('managed-asm');
    repo = new Map(fixture).set(SHOP, fixture.get(SHOP)!.replace('istio.io/rev: asm-managed', 'istio-injection: enabled'));
    plan = planUpgrade(repo, { to: TO });
  });

  it('plans from an unknown revision (null): namespaces follow whatever the default tag serves', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: null, version: null });
    expect(json.to).toEqual({ revision: TO, version: null });
    expect(json.install).toBe('managed');
    expect(json.phases.map((p) => p.id)).toEqual(PHASES);
    expect(plan.warnings.map((w) => w.code)).toContain('default-revision-unseen');
  });

  it('relabels every istio-injection namespace to the channel with restarts, and never names a revision git does not show', () => {
    const workloads = plan.phases.filter((p) => p.id === 'gateways' || p.id.startsWith('workloads')).flatMap((p) => p.namespaces);
    expect(new Set(workloads)).toEqual(new Set(MESHED.map(([ns]) => ns)));
    const final = snapshotAfter(plan, plan.phases.length);
    const labels = (ns: string) => discoverMesh(buildYamlIndex(final)).namespaces.find((n) => n.name === ns)?.labels;
    for (const [ns] of MESHED) {
      expect(labels(ns)?.['istio.io/rev'], ns).toBe(TO);
      expect(labels(ns)?.['istio-injection'], ns).toBeUndefined();
    }
    const commands = plan.phases.flatMap((p) => [...p.manual, ...p.verify, ...p.beforeMerge, ...p.rollback]).join('\n');
    expect(commands).not.toMatch(/--revision default\b|istiod-default[.:\s]|uninstall/);
    expect(plan.phases.find((p) => p.id === 'cleanup')!.title).toBe('Retire the control plane the default tag served');
  });
});

describe('managed Cloud Service Mesh planned again after every merge, as the bot does', () => {
  it('keeps every istio-injection namespace and the manual tag move until they are done (channel named in git)', async () => {
    const repo = await loadFixture('managed-asm');
    const steps = runUpgrade(repo, { to: TO, from: 'asm-managed' });
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision']);
    const moved = discoverMesh(buildYamlIndex(steps.at(-1)!.after))
      .namespaces.filter((n) => n.labels['istio.io/rev'] === TO)
      .map((n) => n.name)
      .sort();
    expect(moved).toEqual(['asm-ingress', 'payments', 'shop', 'web']);
  });

  it('keeps them too when git names no revision at all', async () => {
    const fixture = await loadFixture('managed-asm');
    const SHOP = 'clusters/prod/apps/shop/namespace.yaml';
    const repo = new Map(fixture).set(SHOP, fixture.get(SHOP)!.replace('istio.io/rev: asm-managed', 'istio-injection: enabled'));
    const steps = runUpgrade(repo, { to: TO, from: null });
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    const final = discoverMesh(buildYamlIndex(steps.at(-1)!.after)).namespaces;
    expect(final.filter((n) => n.labels['istio-injection'] === 'enabled').map((n) => n.name)).toEqual([]);
  });
});
