import { diffLines } from 'diff';
import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { renderHelmMesh } from '../../helpers/helm-render.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { changedFiles, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];

interface Case {
  readonly fixture: string;
  readonly oldFile: string;
  readonly newFile: string;
  readonly gateway: string;
  readonly appNamespaces: readonly string[];
  /** Lines any phase but cleanup may add or remove. */
  readonly allowed: RegExp;
}

const CASES: readonly Case[] = [
  {
    fixture: 'helm-nonrevisioned',
    oldFile: 'clusters/prod/mesh/istiod.yaml',
    newFile: 'clusters/prod/mesh/istiod-1-22-1.yaml',
    gateway: 'istio-ingress/istio-ingress',
    appNamespaces: ['shop', 'payments'],
    allowed:
      /1-22-1|1\.22\.1|1\.21\.2|\$\{istio_version\}|istio-injection|restarted-for-revision|annotations:|operatorManageWebhooks|revisionTags|^\s*global:\s*$|defaultRevision: default/,
  },
  {
    fixture: 'flux-helm-nonrevisioned',
    oldFile: 'infrastructure/istio/istiod.yaml',
    newFile: 'infrastructure/istio/istiod-1-22-1.yaml',
    gateway: 'istio-ingress/istio-ingress',
    appNamespaces: ['orders', 'search'],
    allowed:
      /1-22-1|1\.22\.1|1\.21\.2|\$\{istio_version\}|istio-injection|restarted-for-revision|annotations:|operatorManageWebhooks|revisionTags|^\s*global:\s*$|^\s*values:\s*$|defaultRevision/,
  },
];

/** Who injects each pod (service name), with pods outside git: a bare pod in an istio-injection=enabled namespace and an opted-in pod in an unlabelled one. */
function injection(repo: RepoSnapshot): Map<string, string[]> {
  const mesh = renderHelmMesh(repo);
  const objects = [
    ...mesh.objects,
    { kind: 'Namespace', metadata: { name: 'legacy', labels: { 'istio-injection': 'enabled' } } },
    { kind: 'Namespace', metadata: { name: 'tools' } },
  ];
  const pods = [
    ...mesh.pods,
    { name: 'legacy/<bare pod>', namespace: 'legacy', labels: {} },
    { name: 'tools/<opted-in pod>', namespace: 'tools', labels: { 'sidecar.istio.io/inject': 'true' } },
  ];
  return new Map(pods.map((p) => [p.name, injectorsFor(objects as never, p.namespace, p.labels).map((h) => h.split(' -> ')[1]!)]));
}

describe.each(CASES)('first canary from a non-revisioned Helm istiod release (fixture $fixture)', (c) => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture(c.fixture);
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO });
  });

  it('plans from revision "default" at the running chart version, Helm, relabelling', () => {
    expect(plan.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(plan.to).toEqual({ revision: TO, version: '1.22.1' });
    expect(plan.install).toBe('helm');
    expect(plan.strategy).toBe('relabel');
    expect(plan.phases.map((p) => p.id)).toEqual(PHASES);
    expect(steps.map((s) => s.phase)).toEqual(PHASES);
  });

  it('refuses --strategy tag with the reason', () => {
    expect(() => planUpgrade(snapshot, { to: TO, strategy: 'tag' })).toThrow(UpgradeRefusedError);
    expect(() => planUpgrade(snapshot, { to: TO, strategy: 'tag' })).toThrow(
      /istio-sidecar-injector.*default tag would be rendered by the new release/,
    );
  });

  it('copies the old release for the new revision: revision, chart version, own release name, no revisionTags, and never duplicates the base chart', () => {
    const cp = steps[0]!;
    const copy = cp.after.get(c.newFile)!;
    expect(copy).toContain('revision: 1-22-1');
    expect(copy).toMatch(/version: 1\.22\.1|targetRevision: 1\.22\.1/);
    expect(copy).not.toContain('revisionTags');
    expect(copy).not.toContain('${');
    if (copy.includes('releaseName')) expect(copy).toContain('releaseName: istiod-1-22-1');
    const created = [...cp.after.keys()].filter((p) => !cp.before.has(p));
    expect(created).toEqual([c.newFile]);
    expect(cp.after.get(c.oldFile)).toBe(cp.before.get(c.oldFile));
  });

  it('keeps exactly one injector on every meshed pod after every phase, moves namespaces before the handover, and hands default over in one commit', () => {
    const states = [{ phase: 'start', repo: snapshot }, ...steps.map((s) => ({ phase: s.phase, repo: s.after }))];
    const who = new Map<string, Map<string, string[]>>();
    for (const { phase, repo } of states) {
      const result = injection(repo);
      who.set(phase, result);
      for (const [pod, hits] of result) {
        const optedOut = pod.includes('monitoring') || pod.includes('logging');
        expect(hits.length, `${pod} after ${phase}: ${hits.join(', ')}`).toBe(optedOut ? 0 : 1);
      }
      // No phase before default-revision renders the default tag from the new release.
      const mesh = renderHelmMesh(repo);
      const tagged = mesh.releases.filter((r) => r.tags.includes('default'));
      if (['start', 'control-plane', 'gateways', 'workloads'].includes(phase)) expect(tagged, phase).toEqual([]);
      else
        expect(
          tagged.map((r) => r.revision),
          phase,
        ).toEqual([TO]);
      // Exactly one release renders istio-injection=enabled's injector, in every state.
      const nonRevisioned = mesh.releases.filter((r) => (r.revision === '' && r.injector) || r.tags.includes('default'));
      expect(nonRevisioned.length, phase).toBe(1);
    }
    const on = (phase: string, pod: string) => who.get(phase)!.get(pod)![0];
    expect(on('start', c.gateway)).toBe('istiod');
    expect(on('control-plane', c.gateway)).toBe('istiod');
    expect(on('gateways', c.gateway)).toBe(`istiod-${TO}`);
    for (const ns of c.appNamespaces) {
      const pod = [...who.get('start')!.keys()].find((p) => p.startsWith(`${ns}/`))!;
      expect(on('gateways', pod)).toBe('istiod');
      expect(on('workloads', pod)).toBe(`istiod-${TO}`);
    }
    // Pods outside git follow the handover, in the default-revision commit.
    expect(on('workloads', 'legacy/<bare pod>')).toBe('istiod');
    expect(on('default-revision', 'legacy/<bare pod>')).toBe(`istiod-${TO}`);
    expect(on('workloads', 'tools/<opted-in pod>')).toBe('istiod');
    expect(on('default-revision', 'tools/<opted-in pod>')).toBe(`istiod-${TO}`);
    // The handover is one commit: the old release stops rendering its injector as the new one gains the tag.
    const handover = steps.find((s) => s.phase === 'default-revision')!;
    const changed = [...handover.after].filter(([p, t]) => handover.before.get(p) !== t).map(([p]) => p);
    expect(changed).toEqual(expect.arrayContaining([c.oldFile, c.newFile]));
    expect(handover.after.get(c.oldFile)).toContain('operatorManageWebhooks: true');
    expect(handover.after.get(c.newFile)).toContain('revisionTags: [default]');
  });

  it('removes nothing before cleanup, and at cleanup only the old istiod release', () => {
    for (const step of steps.slice(0, -1))
      for (const path of step.before.keys()) expect(step.after.has(path), `${path} after ${step.phase}`).toBe(true);
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.changes.filter((ch) => ch.action === 'delete').map((ch) => `${ch.kind} ${ch.name}`)).toEqual([
      `${c.fixture.startsWith('flux') ? 'HelmRelease' : 'Application'} istiod`,
    ]);
    expect(cleanup.blockedBy).toEqual([]);
    expect(cleanup.beforeMerge.join('\n')).toContain('istioctl proxy-status');
    expect(cleanup.beforeMerge.join('\n')).toContain('must be restarted first');
    expect(cleanup.why).toContain('`istiod` Service');
    const final = steps.at(-1)!.after;
    expect([...final.keys()].some((p) => /base/.test(p))).toBe(true);
  });

  it('is idempotent: planning over the final repo reports every phase done', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
  });

  it('changes only the bytes of the edited nodes', () => {
    for (const step of steps.filter((s) => s.phase !== 'cleanup')) {
      for (const [path, text] of step.after) {
        const before = step.before.get(path);
        if (before === undefined || before === text) continue;
        for (const part of diffLines(before, text)) {
          if (!part.added && !part.removed) continue;
          for (const line of part.value.split('\n').filter((l) => l.trim() !== ''))
            expect(line, `${step.phase}: ${path}`).toMatch(c.allowed);
        }
      }
    }
  });

  it('writes only schema-valid Kubernetes objects', async () => {
    const changed = changedFiles(steps);
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
  });

  it('refuses a rollback with what to do instead', () => {
    const beforeCleanup = steps.find((s) => s.phase === 'cleanup')!.before;
    expect(() => planUpgrade(beforeCleanup, { to: TO, rollback: true })).toThrow(/Revert the merged phase pull requests, newest first/);
  });
});

describe('Flux post-build substitution (fixture flux-helm-nonrevisioned)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  beforeAll(async () => {
    snapshot = await loadFixture('flux-helm-nonrevisioned');
    plan = planUpgrade(snapshot, { to: TO });
  });

  it('edits the base chart variable at its source (only base uses it) and pins the shared one in the copy and the gateway, saying so', () => {
    const cp = plan.phases[0]!;
    const versions = cp.files.find((f) => f.path === 'clusters/prod/flux-system/mesh-versions.yaml')!.content!;
    expect(versions).toContain('istio_base_version: "1.22.1"   # CRDs (istio-base)');
    expect(versions).toContain('istio_version: "1.21.2"');
    expect(cp.files.find((f) => f.path === 'infrastructure/istio/base.yaml')).toBeUndefined();
    const pinned = plan.warnings.filter((w) => w.code === 'flux-substitution-pinned').map((w) => w.message);
    expect(
      pinned.some(
        (m) =>
          m.includes('${istio_version}') &&
          m.includes('clusters/prod/flux-system/mesh-versions.yaml') &&
          m.includes('istiod-1-22-1.yaml pins 1.22.1'),
      ),
    ).toBe(true);
    expect(pinned.some((m) => m.startsWith('HelmRelease istio-ingress') && m.includes('istiod also uses'))).toBe(true);
    expect(plan.warnings.some((w) => w.code === 'flux-depends-on-old-release')).toBe(true);
  });

  it('pins the literal in the base release when its variable is shared with istiod', () => {
    const shared = new Map(snapshot);
    shared.set(
      'infrastructure/istio/base.yaml',
      snapshot.get('infrastructure/istio/base.yaml')!.replace('${istio_base_version}', '${istio_version}'),
    );
    const p = planUpgrade(shared, { to: TO });
    const base = p.phases[0]!.files.find((f) => f.path === 'infrastructure/istio/base.yaml')!.content!;
    expect(base).toContain('version: 1.22.1');
    expect(p.phases[0]!.files.find((f) => f.path === 'clusters/prod/flux-system/mesh-versions.yaml')).toBeUndefined();
    expect(p.warnings.some((w) => w.code === 'flux-substitution-pinned' && w.message.startsWith('HelmRelease istio-base'))).toBe(true);
  });

  it('never takes a placeholder for a version: an unresolvable variable leaves the version unknown', () => {
    const repo = new Map(snapshot);
    repo.set(
      'infrastructure/istio/istiod.yaml',
      snapshot.get('infrastructure/istio/istiod.yaml')!.replace('${istio_version}', '${unknown_version}'),
    );
    const p = planUpgrade(repo, { to: TO });
    expect(String(p.from.version)).not.toMatch(/\$/);
    expect(JSON.stringify(p.inventory.revisions.map((r) => r.version))).not.toContain('${');
  });

  it('reads valuesFrom ConfigMaps and substitutions into the release values', () => {
    const istiod = plan.inventory.revisions.find((r) => r.name === 'default')!;
    expect(istiod.helm!.values).toMatchObject({ global: { meshID: 'prod-eu1' }, pilot: { autoscaleMin: 2 } });
  });
});
