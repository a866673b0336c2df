import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { diffLines } from 'diff';
import { loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { discoverMesh } from '../../src/core/discover.js';
import { planUpgrade, snapshotAfter } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { buildYamlIndex } from '../../src/core/yaml-index.js';
import { planHint } from '../../src/model/errors.js';
import { applyFileChanges, type RepoSnapshot } from '../../src/model/snapshot.js';
import { FIXTURE_CASES, type FixtureCase, loadFixture } from '../helpers/fixtures.js';
import { validateYamlFiles } from '../helpers/kube-schemas.js';

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

/** Values (not comments) of every Kubernetes YAML document in a snapshot, as one string. */
function yamlValues(snapshot: RepoSnapshot): string {
  return [...snapshot]
    .filter(([path, text]) => /\.ya?ml$/.test(path) && !text.includes('{{'))
    .map(([, text]) => JSON.stringify(loadAll(text)))
    .join('\n');
}

/** Lines a phase may add or remove: the revision-bearing nodes and the structure around them. */
function allowedLine(c: FixtureCase): RegExp {
  const revs = `${c.from}|${c.to}`.replace(/\./g, '\\.');
  return new RegExp(
    [
      revs,
      'istio-injection',
      'restarted-for-revision',
      // The tag handover pauses pruning on the old Argo CD Application, and says so.
      'prune-paused-for-tag-handover',
      '^\\s*prune: (true|false)\\s*$',
      '^\\s*annotations:\\s*$',
      '^\\s*labels:\\s*$',
      'revisionTags',
      '^\\s*- default\\s*$',
      'targetRevision',
      '1\\.2\\d\\.\\d',
    ].join('|'),
  );
}

describe.each(FIXTURE_CASES)('plan on fixture $name', (fixture) => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;

  beforeAll(async () => {
    snapshot = await loadFixture(fixture.name);
    plan = planUpgrade(snapshot, { to: fixture.to });
  });

  it('finds the current revision and how it is installed', () => {
    expect(plan.from.revision).toBe(fixture.from);
    expect(plan.to.revision).toBe(fixture.to);
    expect(plan.install).toBe(fixture.install);
  });

  it('orders the phases of a canary upgrade', () => {
    expect(plan.phases.map((p) => p.id)).toEqual(fixture.phases);
    expect(plan.phases.every((p) => p.status === 'pending' || p.id === 'gateways')).toBe(true);
  });

  it('deletes nothing before cleanup and leaves the old control plane alone until then', () => {
    const cleanupIndex = plan.phases.findIndex((p) => p.id === 'cleanup');
    for (const phase of plan.phases.slice(0, cleanupIndex)) {
      expect(
        phase.changes.filter((c) => c.action === 'delete' && c.kind !== 'Kustomization'),
        phase.id,
      ).toEqual([]);
    }
    const oldControlPlaneFiles = plan.phases[cleanupIndex]!.changes.filter((c) => c.action === 'delete').map((c) => c.file);
    expect(oldControlPlaneFiles.length).toBeGreaterThan(0);
    for (let i = 1; i <= cleanupIndex; i++) {
      for (const file of oldControlPlaneFiles) {
        const text = snapshotAfter(plan, i).get(file);
        const oldText = snapshot.get(file)!;
        if (text === oldText) continue;
        // Only the Helm release of the old revision is edited before cleanup: it hands its tags over.
        expect(plan.phases[i - 1]!.id, `${file} changed`).toBe('default-revision');
        expect(fixture.install).toBe('helm');
      }
    }
  });

  it('leaves application namespaces untouched while gateways move', () => {
    const gatewaysIndex = plan.phases.findIndex((p) => p.id === 'gateways');
    // Revision-labelled Istio config loses its label there (both control planes must serve it once
    // the gateways move); namespaces and workloads of applications stay as they are.
    const touched = plan.phases[gatewaysIndex]!.changes.filter(
      (c) =>
        !/VirtualService|DestinationRule|ServiceEntry|Sidecar|AuthorizationPolicy|PeerAuthentication|RequestAuthentication|EnvoyFilter|Telemetry|WorkloadEntry/.test(
          c.kind,
        ),
    );
    for (const change of touched) {
      expect(fixture.appNamespaces, `${change.kind} ${change.namespace}/${change.name}`).not.toContain(change.namespace ?? change.name);
    }
  });

  it('changes only the bytes of the edited nodes', () => {
    plan.phases.forEach((phase, i) => {
      const before = snapshotAfter(plan, i);
      for (const file of phase.files) {
        if (file.action !== 'update') continue;
        const parts = diffLines(before.get(file.path)!, file.content!);
        for (const part of parts) {
          if (!part.added && !part.removed) continue;
          for (const line of part.value.split('\n').filter((l) => l.trim() !== '')) {
            expect(line, `${phase.id}: ${file.path}`).toMatch(
              file.path.endsWith('kustomization.yaml') ? /\.yaml|- / : allowedLine(fixture),
            );
          }
        }
      }
    });
  });

  it('writes only schema-valid Kubernetes objects', async () => {
    const changed = plan.phases.flatMap((phase) =>
      phase.files.filter((f) => f.content !== null).map((f) => ({ path: f.path, content: f.content! })),
    );
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
  });

  it('leaves no value naming the old revision after cleanup', () => {
    const final = snapshotAfter(plan, plan.phases.length);
    expect(yamlValues(snapshot)).toContain(fixture.from);
    expect(yamlValues(final)).not.toContain(fixture.from);
  });

  it('is idempotent: planning over a repo that has every phase reports them done', () => {
    const final = snapshotAfter(plan, plan.phases.length);
    const again = planUpgrade(final, { to: fixture.to });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
  });

  it('resumes from any phase: earlier phases are done and the rest converge to the same repo', () => {
    const final = snapshotAfter(plan, plan.phases.length);
    plan.phases.forEach((phase, i) => {
      const partway = snapshotAfter(plan, i + 1);
      const resumed = planUpgrade(partway, { to: fixture.to });
      const done = resumed.phases.slice(0, i + 1);
      for (const p of done) {
        if (p.manual.length > 0 && p.id === 'control-plane') continue;
        expect(p.files, `${p.id} after ${phase.id}`).toEqual([]);
      }
      const end = snapshotAfter(resumed, resumed.phases.length);
      expect([...end].sort()).toEqual([...final].sort());
    });
  });
});

describe('plan on the kustomize fixture', () => {
  it.skipIf(!kubectl)('builds with kubectl kustomize after every phase', async () => {
    const fixture = FIXTURE_CASES.find((c) => c.name === 'kustomize-overlays')!;
    const plan = planUpgrade(await loadFixture(fixture.name), { to: fixture.to });
    for (let i = 0; i <= plan.phases.length; i++) {
      const state = snapshotAfter(plan, i);
      const dir = await mkdtemp(join(tmpdir(), 'kustomize-'));
      for (const [path, text] of state) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      const output = execFileSync('kubectl', ['kustomize', join(dir, 'clusters/prod')], { encoding: 'utf8' });
      const namespaces = (loadAll(output) as Array<{ kind: string; metadata: { name: string; labels?: Record<string, string> } }>).filter(
        (o) => o.kind === 'Namespace',
      );
      const orders = namespaces.find((n) => n.metadata.name === 'orders')!;
      const workloadsIndex = plan.phases.findIndex((p) => p.id === 'workloads');
      expect(orders.metadata.labels?.['istio.io/rev'], `after ${i} phases`).toBe(i > workloadsIndex ? fixture.to : fixture.from);
    }
  });
});

describe('plan on the ASM manifests fixture (runbook asm-1130-0 → asm-1140-0)', () => {
  let snapshot: RepoSnapshot;
  beforeAll(async () => {
    snapshot = await loadFixture('asm-manifests');
  });

  it('asks for the control plane to be rendered by istioctl rather than inventing manifests', () => {
    const plan = planUpgrade(snapshot, { to: 'asm-1140-0' });
    const controlPlane = plan.phases[0]!;
    expect(controlPlane.changes).toEqual([]);
    expect(controlPlane.manual.join('\n')).toContain('manifest generate');
    expect(controlPlane.manual.join('\n')).toContain('clusters/prod/istio-system/asm-1140-0/istiod.yaml');
    expect(controlPlane.status).toBe('pending');
  });

  it('reports the control plane done once someone has committed the rendered manifests, all of them', () => {
    const render = (file: string) =>
      snapshot
        .get(`clusters/prod/istio-system/asm-1130-0/${file}`)!
        .replaceAll('asm-1130-0', 'asm-1140-0')
        .replaceAll('1.13.0-asm.0', '1.14.0-asm.0');
    const istiodOnly = applyFileChanges(snapshot, [
      { path: 'clusters/prod/istio-system/asm-1140-0/istiod.yaml', action: 'create', content: render('istiod.yaml') },
    ]);
    const partial = planUpgrade(istiodOnly, { to: 'asm-1140-0' });
    expect(partial.phases[0]).toMatchObject({ id: 'control-plane', status: 'pending' });
    expect(partial.warnings.find((w) => w.code === 'target-incomplete')!.message).toContain(
      'MutatingWebhookConfiguration istio-sidecar-injector-asm-1140-0',
    );
    const withNew = applyFileChanges(istiodOnly, [
      { path: 'clusters/prod/istio-system/asm-1140-0/webhooks.yaml', action: 'create', content: render('webhooks.yaml') },
    ]);
    const plan = planUpgrade(withNew, { to: 'asm-1140-0' });
    expect(plan.from.revision).toBe('asm-1130-0');
    expect(plan.phases[0]).toMatchObject({ id: 'control-plane', status: 'done' });
    expect(plan.warnings.map((w) => w.code)).toContain('target-already-installed');
  });

  it('relabels every meshed namespace, drops istio-injection, and skips what is not meshed or opted out', () => {
    const plan = planUpgrade(snapshot, { to: 'asm-1140-0' });
    const workloads = plan.phases.find((p) => p.id === 'workloads')!;
    const names = workloads.changes.map((c) => `${c.kind} ${c.namespace ?? ''}/${c.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'Namespace /bookinfo',
        'Namespace /payments',
        'Namespace /batch',
        'StatefulSet payments/ledger',
        'DaemonSet batch/log-shipper',
      ]),
    );
    // Revision-labelled config is not relabelled with its namespace: it lost the label earlier.
    expect(names).not.toContain('VirtualService bookinfo/reviews');
    expect(names.some((n) => n.includes('legacy'))).toBe(false);
    expect(names).not.toContain('Deployment batch/report-worker');
    const payments = workloads.files.find((f) => f.path.endsWith('payments/namespace.yaml'))!.content!;
    expect(payments).not.toContain('istio-injection');
    expect(payments).toContain('istio.io/rev: asm-1140-0');
    expect(plan.warnings.map((w) => w.code)).toContain('pods-opted-out');
  });

  it('switches the istiod Service, the default tag and the default validator together', () => {
    const plan = planUpgrade(snapshot, { to: 'asm-1140-0' });
    const phase = plan.phases.find((p) => p.id === 'default-revision')!;
    expect(phase.changes.map((c) => `${c.kind}/${c.name}`).sort()).toEqual([
      'MutatingWebhookConfiguration/istio-revision-tag-default',
      'Service/istiod',
      'ValidatingWebhookConfiguration/istiod-default-validator',
    ]);
    const tags = phase.files.find((f) => f.path.endsWith('revision-tags.yaml'))!.content!;
    expect(tags).not.toContain('istiod-asm-1130-0');
    expect(tags.match(/name: istiod-asm-1140-0/g)?.length).toBe(5);
  });

  it('splits workloads into a canary wave and pod-bounded waves', () => {
    const plan = planUpgrade(snapshot, { to: 'asm-1140-0', canary: ['payments'], podBudget: 4 });
    const waves = plan.phases.filter((p) => p.id.startsWith('workloads'));
    expect(waves.map((w) => [w.id, w.namespaces, w.pods])).toEqual([
      ['workloads-1', ['payments'], 5],
      ['workloads-2', ['batch'], 1],
      ['workloads-3', ['bookinfo'], 5],
    ]);
    expect(plan.phases.map((p) => p.id).slice(-2)).toEqual(['default-revision', 'cleanup']);
    expect(plan.warnings.map((w) => w.code)).toContain('wave-over-budget');
  });
});

describe('plan with Flux HelmReleases', () => {
  const release = (name: string, chart: string, values: string) => `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ${name}
  namespace: istio-system
spec:
  interval: 10m
  chart:
    spec:
      chart: ${chart}
      version: 1.21.2
      sourceRef: {kind: HelmRepository, name: istio}
  values:
${values}`;
  const snapshot = new Map([
    ['flux/istio-base.yaml', release('istio-base', 'base', '    defaultRevision: 1-21-2\n')],
    [
      'flux/istiod-1-21-2.yaml',
      release(
        'istiod-1-21-2',
        'istiod',
        '    revision: 1-21-2 # pinned\n    revisionTags:\n      - default\n    pilot:\n      autoscaleMin: 2\n',
      ),
    ],
    ['flux/gateway.yaml', release('istio-ingress', 'gateway', '    revision: 1-21-2\n')],
    ['apps/ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio.io/rev: 1-21-2\n'],
  ]);

  it('copies the istiod release, moves the gateway, the tags and the default revision, then removes the old release', () => {
    const plan = planUpgrade(snapshot, { to: '1-22-1' });
    expect(plan.install).toBe('helm');
    const files = (id: string) => plan.phases.find((p) => p.id === id)!.files;
    const created = files('control-plane').find((f) => f.action === 'create')!;
    expect(created.path).toBe('flux/istiod-1-22-1.yaml');
    expect(created.content).toContain('  name: istiod-1-22-1\n');
    expect(created.content).toContain('    revision: 1-22-1 # pinned\n');
    expect(created.content).toContain('      version: 1.22.1\n');
    expect(created.content).not.toContain('revisionTags');
    expect(files('gateways')[0]!.content).toContain('    revision: 1-22-1\n');
    // CRDs first: the base chart goes to the new release with the new istiod, its default stays.
    expect(
      files('control-plane')
        .map((f) => f.path)
        .sort(),
    ).toEqual(['flux/istio-base.yaml', 'flux/istiod-1-22-1.yaml']);
    expect(files('control-plane').find((f) => f.path === 'flux/istio-base.yaml')!.content).toContain('version: 1.22.1\n');
    expect(files('control-plane').find((f) => f.path === 'flux/istio-base.yaml')!.content).toContain('defaultRevision: 1-21-2');
    // helm-controller skips CRDs on upgrade unless asked: the CRD bump would not happen.
    expect(files('control-plane').find((f) => f.path === 'flux/istio-base.yaml')!.content).toMatch(/upgrade:\n\s+crds: CreateReplace/);
    // Helm will not hand a resource between releases: the tag moves in one commit, and the step
    // reconciles the old release, then the new one, right after the merge.
    expect(
      files('default-revision')
        .map((f) => f.path)
        .sort(),
    ).toEqual(['flux/istio-base.yaml', 'flux/istiod-1-21-2.yaml', 'flux/istiod-1-22-1.yaml']);
    expect(plan.phases.find((p) => p.id === 'default-revision')!.manual).toEqual([
      'flux reconcile helmrelease -n istio-system istiod-1-21-2 && flux reconcile helmrelease -n istio-system istiod-1-22-1   # right after the merge: the old release drops the tag(s) default, the new one creates them',
    ]);
    expect(plan.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    expect(files('cleanup')).toEqual([{ path: 'flux/istiod-1-21-2.yaml', action: 'delete', content: null }]);
    const final = snapshotAfter(plan, plan.phases.length);
    expect(final.get('flux/istiod-1-22-1.yaml')).toMatch(/revisionTags: \[default\]|revisionTags:\n\s+- default/);
    expect(final.get('flux/istio-base.yaml')).toContain('defaultRevision: 1-22-1');
  });
});

describe.each(FIXTURE_CASES)('rollback on fixture $name', (fixture) => {
  it('restores the old revision of every namespace after any phase before cleanup, and is refused after cleanup', async () => {
    const snapshot = await loadFixture(fixture.name);
    const plan = planUpgrade(snapshot, { to: fixture.to });
    const meshedBefore = discoverMesh(buildYamlIndex(snapshot))
      .namespaces.filter((n) => n.revision === fixture.from)
      .map((n) => n.name)
      .sort();
    expect(meshedBefore.length).toBeGreaterThan(0);
    const cleanupAt = plan.phases.findIndex((p) => p.id === 'cleanup');
    for (let merged = 1; merged <= cleanupAt; merged++) {
      const partway = snapshotAfter(plan, merged);
      const back = planUpgrade(partway, { to: fixture.to, rollback: true });
      expect(back.to.revision, `after ${merged} phases`).toBe(fixture.from);
      expect(back.phases.map((p) => p.id.replace(/-\d+$/, '')).filter((id, i, all) => all.indexOf(id) === i)).toEqual([
        'rollback-workloads',
        'rollback-gateways',
        'rollback-default-revision',
        'rollback-cleanup',
      ]);
      const restored = snapshotAfter(back, back.phases.length);
      const inventory = discoverMesh(buildYamlIndex(restored));
      const effective = Object.fromEntries(
        inventory.namespaces.filter((n) => meshedBefore.includes(n.name)).map((n) => [n.name, n.revision]),
      );
      expect(effective, `after ${merged} phases`).toEqual(Object.fromEntries(meshedBefore.map((n) => [n, fixture.from])));
      expect(inventory.revisions.map((r) => r.name)).not.toContain(fixture.to);
      expect(inventory.tags.filter((t) => t.revision === fixture.to)).toEqual([]);
      const report = await validateYamlFiles(
        back.phases.flatMap((p) => p.files.filter((f) => f.content !== null).map((f) => ({ path: f.path, content: f.content! }))),
      );
      expect(report.errors).toEqual([]);
    }
    const cleaned = snapshotAfter(plan, plan.phases.length);
    // It suggests a downgrade plan, which the bot says as `/upgrade …` and the CLI as `mesh-upgrade plan …`.
    expect(() => planUpgrade(cleaned, { to: fixture.to, rollback: true })).toThrow(
      expect.objectContaining({
        code: 'rollback-after-cleanup',
        message: expect.stringMatching(/^nothing to roll back to/),
        text: expect.arrayContaining([planHint('<older revision>', { downgrade: true })]),
      }),
    );
  });
});

describe('safe cleanup', () => {
  it('does not propose cleanup while something the phases cannot move still uses the old revision', async () => {
    const snapshot = new Map(await loadFixture('istio-operator'));
    const gateway = snapshot.get('clusters/staging/istio-ingress/gateway.yaml')!;
    // A selector that pins the revision cannot be relabelled in place (selectors are immutable).
    snapshot.set(
      'clusters/staging/istio-ingress/gateway.yaml',
      gateway.replace(/(selector:\n\s+matchLabels:\n)(\s+)/, '$1$2istio.io/rev: 1-21-2\n$2'),
    );
    const plan = planUpgrade(snapshot, { to: '1-22-1' });
    expect(plan.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(['gateway-selector-pins-revision', 'old-revision-still-referenced']),
    );
    expect(plan.phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual(['gateway istio-ingress/istio-ingressgateway']);
    const clean = planUpgrade(await loadFixture('istio-operator'), { to: '1-22-1' });
    expect(clean.phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual([]);
  });
});

describe('tag strategy (namespaces follow istio-injection=enabled)', () => {
  async function taggedRepo(): Promise<Map<string, string>> {
    const snapshot = new Map(await loadFixture('istio-operator'));
    snapshot.set(
      'clusters/staging/apps/search/namespace.yaml',
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: search\n  labels:\n    istio-injection: enabled\n    team: search\n',
    );
    snapshot.set(
      'clusters/staging/apps/shop/namespace.yaml',
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled # follows the default tag\n    team: shop\n',
    );
    return snapshot;
  }

  it('moves the default tag instead of relabelling, with a canary tag for canary namespaces first', async () => {
    const snapshot = await taggedRepo();
    const plan = planUpgrade(snapshot, { to: '1-22-1', canary: ['shop'] });
    expect(plan.strategy).toBe('tag');
    expect(plan.phases.map((p) => p.id)).toEqual([
      'control-plane',
      'gateways',
      'workloads-1',
      'default-revision',
      'workloads-2',
      'cleanup',
    ]);
    const canary = plan.phases.find((p) => p.id === 'workloads-1')!;
    expect(canary.changes.map((c) => `${c.action} ${c.kind} ${c.name}`).sort()).toEqual([
      'create MutatingWebhookConfiguration istio-revision-tag-canary',
      'update Deployment cart',
      'update Deployment frontend',
      'update Namespace shop',
    ]);
    const tag = canary.files.find((f) => f.path.endsWith('istio-revision-tag-canary.yaml'))!.content!;
    expect(tag).toContain('istio.io/tag: canary');
    expect(tag).not.toContain('namespace.sidecar-injector.istio.io\n'.replace(/^/, '- name: '));
    expect(tag.match(/name: istiod-1-22-1/g)).toHaveLength(2);
    // The rest only restart: no namespace file changes, the tag moved just before.
    const rest = plan.phases.find((p) => p.id === 'workloads-2')!;
    expect(rest.changes.map((c) => c.kind)).toEqual(['StatefulSet']);
    const final = snapshotAfter(plan, plan.phases.length);
    expect(final.get('clusters/staging/apps/search/namespace.yaml')).toContain('istio-injection: enabled');
    expect(final.get('clusters/staging/apps/shop/namespace.yaml')).toContain('istio.io/rev: canary # follows the default tag');
    const inventory = discoverMesh(buildYamlIndex(final));
    expect(Object.fromEntries(inventory.tags.map((t) => [t.tag, t.revision]))).toEqual({ default: '1-22-1', canary: '1-22-1' });
    expect(inventory.namespaces.filter((n) => n.revision !== null).map((n) => [n.name, n.revision])).toEqual([
      ['search', '1-22-1'],
      ['shop', '1-22-1'],
    ]);
    const report = await validateYamlFiles(
      plan.phases.flatMap((p) => p.files.filter((f) => f.content !== null).map((f) => ({ path: f.path, content: f.content! }))),
    );
    expect(report.errors).toEqual([]);
  });

  it('is idempotent and resumable, and rolls back by moving the tags back first', async () => {
    const snapshot = await taggedRepo();
    const plan = planUpgrade(snapshot, { to: '1-22-1', canary: ['shop'] });
    const final = snapshotAfter(plan, plan.phases.length);
    for (let i = 1; i <= plan.phases.length; i++) {
      const resumed = planUpgrade(snapshotAfter(plan, i), { to: '1-22-1', canary: ['shop'] });
      if (i < plan.phases.length) expect(resumed.phases.map((p) => p.id)).toEqual(plan.phases.map((p) => p.id));
      expect(resumed.phases.filter((p) => p.status === 'pending').length).toBeLessThanOrEqual(plan.phases.length - i);
      for (const p of resumed.phases.slice(0, i)) expect(p.files, `${p.id} after ${i}`).toEqual([]);
      expect([...snapshotAfter(resumed, resumed.phases.length)].sort()).toEqual([...final].sort());
    }
    const beforeCleanup = snapshotAfter(plan, plan.phases.length - 1);
    const back = planUpgrade(beforeCleanup, { to: '1-22-1', rollback: true, canary: ['shop'] });
    expect(back.phases[0]!.id).toBe('rollback-default-revision');
    const restored = discoverMesh(buildYamlIndex(snapshotAfter(back, back.phases.length)));
    expect(restored.namespaces.filter((n) => n.revision !== null).map((n) => n.revision)).toEqual(['1-21-2', '1-21-2']);
    expect(Object.fromEntries(restored.tags.map((t) => [t.tag, t.revision]))).toEqual({ default: '1-21-2', canary: '1-21-2' });
  });
});

describe('cleanupMode scale-then-delete', () => {
  it.each([
    [
      'istio-operator',
      '1-22-1',
      'clusters/staging/istio-system/istiocontrolplane-1-21-2.yaml',
      /replicaCount: 0\n/,
      `mesh-upgrade-bot.io/scaled-down-from: ${JSON.stringify('{"replicaCount":2}')}`,
    ],
    [
      'asm-manifests',
      'asm-1140-0',
      'clusters/prod/istio-system/asm-1130-0/istiod.yaml',
      /replicas: 0\n/,
      `mesh-upgrade-bot.io/scaled-down-from: ${JSON.stringify('{"replicas":2}')}`,
    ],
  ])(
    '%s: scales the old istiod to zero before deleting it, and a rollback scales it back first',
    async (name, to, file, zero, annotation) => {
      const plan = planUpgrade(await loadFixture(name), { to, cleanupMode: 'scale-then-delete' });
      expect(plan.phases.map((p) => p.id).slice(-2)).toEqual(['scale-down', 'cleanup']);
      const scaled = plan.phases.find((p) => p.id === 'scale-down')!.files.find((f) => f.path === file)!.content!;
      expect(scaled).toMatch(zero);
      expect(scaled).toContain(annotation);
      const report = await validateYamlFiles([{ path: file, content: scaled }]);
      expect(report.errors).toEqual([]);

      const afterScaleDown = snapshotAfter(plan, plan.phases.length - 1);
      const back = planUpgrade(afterScaleDown, { to, rollback: true });
      expect(back.phases[0]!.id).toBe('rollback-scale-up');
      const restored = snapshotAfter(back, 1).get(file)!;
      expect(restored).not.toContain('scaled-down-from');
      expect(restored).not.toMatch(zero);
    },
  );
});
