import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { PlanOptions } from '../../../src/core/plan-types.js';
import { findIstioImageOverrides } from '../../../src/core/sources/kustomize-images.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
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
import { revisionInjector } from './cluster-webhooks.js';

const TO = '1-21-2';
const KUSTOMIZATION = 'clusters/prod/kustomization.yaml';
const ORPHANS = ['clusters/prod/istiod-patch.yaml', 'clusters/prod/namespace-labels.yaml'];
const options: PlanOptions = { to: TO };
const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'clusters/prod');

function refusal(repo: RepoSnapshot): UpgradeRefusedError {
  try {
    planUpgrade(repo, options);
  } catch (e) {
    return e as UpgradeRefusedError;
  }
  throw new Error('planned');
}

const ledgerProxy = (objects: readonly BuiltObject[]) => {
  const ledger = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ledger')!;
  return (ledger.spec as { template: { spec: { containers: Array<{ name: string; image: string }> } } }).template.spec.containers.find(
    (c) => c.name === 'istio-proxy',
  )!.image;
};

describe('orphan files, images overrides and selector-targeted patches (fixture kustomize-images-selectors)', () => {
  let snapshot: RepoSnapshot;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('kustomize-images-selectors');
    steps = runUpgrade(snapshot, options);
  });

  it('plans from 1-20-3 (IstioOperator), relabelling, with the orphan files skipped and named', () => {
    const plan = planUpgrade(snapshot, options);
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: '1-20-3', version: '1.20.3' });
    expect(json.install).toBe('istio-operator');
    expect(plan.strategy).toBe('relabel');
    expect(json.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    const skipped = plan.warnings.filter((w) => w.code === 'skipped-file');
    expect(skipped.map((w) => w.file)).toEqual(ORPHANS);
    for (const w of skipped) expect(w.message).toContain(`not named by ${KUSTOMIZATION}`);
    // Neither orphan counts: no second IstioOperator, reports is not meshed, and no data warning about it.
    expect(plan.warnings.some((w) => w.code === 'namespace-labels-in-data')).toBe(false);
    const index = buildYamlIndex(snapshot);
    expect(index.objects.filter((o) => ORPHANS.includes(o.file))).toEqual([]);
  });

  it('meshes orders and billing through the labelSelector patch (not reports), and moves its value', () => {
    const plan = planUpgrade(snapshot, options);
    expect(plan.inventory.namespaces.filter((n) => n.revision !== null).map((n) => [n.name, n.labels['istio.io/rev']])).toEqual([
      ['orders', '1-20-3'],
      ['billing', '1-20-3'],
    ]);
    const workloads = plan.phases.find((p) => p.id === 'workloads')!;
    expect(workloads.files.map((f) => f.path).sort()).toEqual(['base/apps/orders.yaml', KUSTOMIZATION]);
    expect(workloads.files.map((f) => f.path)).not.toContain('base/namespaces.yaml');
  });

  it('edits the selector patch value and the proxyv2 newTag in the workloads phase, byte for byte; nothing else touches the kustomization', () => {
    const original = snapshot.get(KUSTOMIZATION)!;
    const at = steps.findIndex((s) => s.phase === 'workloads');
    expect(steps[at]!.after.get(KUSTOMIZATION)).toBe(
      original.replace('        value: 1-20-3\n', `        value: ${TO}\n`).replace('    newTag: 1.20.3\n', '    newTag: 1.21.2\n'),
    );
    for (const step of steps) {
      if (step.phase !== 'workloads') expect(step.after.get(KUSTOMIZATION), step.phase).toBe(step.before.get(KUSTOMIZATION));
      for (const f of [...ORPHANS, 'base/namespaces.yaml', 'base/apps/ledger.yaml'])
        expect(step.after.get(f), `${f} after ${step.phase}`).toBe(step.before.get(f));
    }
  });

  it.skipIf(!hasKubectl)(
    'builds after every phase: one injector for orders and billing, none for reports, the pinned proxy moves with the workloads phase, nothing removed before cleanup',
    async () => {
      const initial = await build(snapshot);
      const initialKeys = new Set(initial.map(objectKey));
      expect(ledgerProxy(initial)).toBe('docker.io/istio/proxyv2:1.20.3');
      let moved = false;
      for (const step of steps) {
        const objects = await build(step.after);
        const keys = new Set(objects.map(objectKey));
        if (step.phase !== 'cleanup') for (const k of initialKeys) expect(keys.has(k), `${k} after ${step.phase}`).toBe(true);
        const cluster = [...objects, ...(step.phase === 'cleanup' ? [] : [revisionInjector('1-20-3')]), revisionInjector(TO)];
        expect(injectorsFor(cluster as never, 'orders', { app: 'orders-api' }), `orders after ${step.phase}`).toHaveLength(1);
        expect(injectorsFor(cluster as never, 'billing', { app: 'billing-worker' }), `billing after ${step.phase}`).toHaveLength(1);
        expect(injectorsFor(cluster as never, 'reports', { app: 'nightly-report' }), `reports after ${step.phase}`).toEqual([]);
        moved ||= step.phase === 'workloads';
        expect(ledgerProxy(objects), step.phase).toBe(moved ? 'docker.io/istio/proxyv2:1.21.2' : 'docker.io/istio/proxyv2:1.20.3');
        const billing = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === 'billing')!;
        expect((billing.metadata as { labels: Record<string, string> }).labels['access-logs'], step.phase).toBe('off');
      }
      const final = await build(steps.at(-1)!.after);
      for (const ns of ['orders', 'billing'])
        expect(injectorsFor([...final, revisionInjector(TO)] as never, ns, {}), ns).toEqual([expect.stringContaining(`istiod-${TO}`)]);
    },
  );

  it('is idempotent and writes schema-valid objects', async () => {
    const again = planUpgrade(steps.at(-1)!.after, options);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    const changed = changedFiles(steps).filter((c) => !c.path.endsWith('kustomization.yaml'));
    expect(changed.length).toBeGreaterThan(0);
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
  });

  it('rolls the images override back with the workloads on the way back', () => {
    const at = steps.findIndex((s) => s.phase === 'workloads');
    const merged = steps[at]!.after;
    const back = planUpgrade(merged, { to: TO, rollback: true });
    const workloads = back.phases.find((p) => p.id.startsWith('rollback-workloads'))!;
    const text = workloads.files.find((f) => f.path === KUSTOMIZATION)!.content!;
    expect(text).toBe(
      merged
        .get(KUSTOMIZATION)!
        .replace(`        value: ${TO}\n`, '        value: 1-20-3\n')
        .replace('    newTag: 1.21.2\n', '    newTag: 1.20.3\n'),
    );
  });

  it('reads the images entries: the proxyv2 one reaches billing/ledger, the ASM digest one reaches nothing and changes nothing', () => {
    const overrides = findIstioImageOverrides(buildYamlIndex(snapshot));
    expect(
      overrides.map((o) => [o.name, o.newTag, o.digest !== null, o.containers.map((c) => `${c.object.namespace}/${c.object.name}`)]),
    ).toEqual([
      ['docker.io/istio/proxyv2', '1.20.3', false, ['billing/ledger']],
      ['gcr.io/gke-release/asm/proxyv2', null, true, []],
    ]);
    expect(planUpgrade(snapshot, options).warnings.filter((w) => w.code === 'image-override-manual')).toEqual([]);
  });

  it('refuses a target more than two minors ahead of a proxy the images override pins, naming the kustomization', () => {
    const error = refusal(new Map(snapshot).set(KUSTOMIZATION, snapshot.get(KUSTOMIZATION)!.replace('newTag: 1.20.3', 'newTag: 1.18.7')));
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect(error.code).toBe('proxy-version-skew');
    expect(error.message).toContain(KUSTOMIZATION);
    expect(error.message).toContain('billing/ledger');
  });

  it('warns with file and line instead of editing an override it cannot move (a digest, or a tag that is not the running release)', () => {
    const text = snapshot.get(KUSTOMIZATION)!;
    const line = text.split('\n').findIndex((l) => l.includes('newTag: 1.20.3')) + 1;
    for (const [from, to] of [
      ['newTag: 1.20.3', 'newTag: 1.20.3-distroless-patched'],
      ['newTag: 1.20.3', 'digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
    ] as const) {
      const plan = planUpgrade(new Map(snapshot).set(KUSTOMIZATION, text.replace(from, to)), options);
      const warnings = plan.warnings.filter((w) => w.code === 'image-override-manual');
      expect(
        warnings.map((w) => w.file),
        to,
      ).toEqual([KUSTOMIZATION]);
      expect(warnings[0]!.message, to).toContain(`${KUSTOMIZATION}:${line}:`);
      const edited = plan.phases.find((p) => p.id === 'workloads')!.files.find((f) => f.path === KUSTOMIZATION)!.content!;
      expect(edited, to).toContain(to);
    }
  });

  it('moves an override that reaches only gateways in the gateways phase', () => {
    const gateway =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: edge-gateway\n  namespace: istio-system\nspec:\n  selector:\n    matchLabels: {istio: edge-gateway}\n  template:\n    metadata:\n      labels: {istio: edge-gateway}\n    spec:\n      containers:\n        - name: istio-proxy\n          image: docker.io/istio/proxyv2\n';
    const repo = new Map(snapshot)
      .set(
        'base/apps/ledger.yaml',
        snapshot.get('base/apps/ledger.yaml')!.replace('docker.io/istio/proxyv2   #', 'ghcr.io/example-org/proxy:1.0   #'),
      )
      .set('clusters/prod/istio-system/edge-gateway.yaml', gateway)
      .set(
        'clusters/prod/istio-system/kustomization.yaml',
        `${snapshot.get('clusters/prod/istio-system/kustomization.yaml')!.trimEnd()}\n  - edge-gateway.yaml\n`,
      );
    const plan = planUpgrade(repo, options);
    const files = (id: string) => plan.phases.find((p) => p.id === id)?.files.map((f) => f.path) ?? [];
    const gatewaysEdit = plan.phases.find((p) => p.id === 'gateways')!.files.find((f) => f.path === KUSTOMIZATION)!.content!;
    expect(gatewaysEdit).toBe(snapshot.get(KUSTOMIZATION)!.replace('    newTag: 1.20.3\n', '    newTag: 1.21.2\n'));
    // The workloads phase still moves the selector patch value, over the gateways phase's edit.
    expect(files('workloads')).toContain(KUSTOMIZATION);
    const steps = runUpgrade(repo, options);
    expect(steps.filter((s) => s.after.get(KUSTOMIZATION) !== s.before.get(KUSTOMIZATION)).map((s) => s.phase)).toEqual([
      'gateways',
      'workloads',
    ]);
  });

  it('rewrites the selector patch that sets the label, whichever inline Namespace patch comes first', () => {
    const text = snapshot.get(KUSTOMIZATION)!;
    const first = text.slice(text.indexOf('  - target:\n      kind: Namespace\n      labelSelector'), text.indexOf("  # billing's owner"));
    const second = text.slice(text.indexOf("  # billing's owner"), text.indexOf('images:'));
    const swapped = text.replace(first + second, second + first);
    expect(swapped).not.toBe(text);
    const plan = planUpgrade(new Map(snapshot).set(KUSTOMIZATION, swapped), options);
    const edited = plan.phases.find((p) => p.id === 'workloads')!.files.find((f) => f.path === KUSTOMIZATION)!.content!;
    expect(edited).toBe(
      swapped.replace('        value: 1-20-3\n', `        value: ${TO}\n`).replace('    newTag: 1.20.3\n', '    newTag: 1.21.2\n'),
    );
  });

  it('warns about a selector it cannot evaluate, naming the kustomization', () => {
    const text = snapshot
      .get(KUSTOMIZATION)!
      .replace('annotationSelector: example.org/owner=payments', 'annotationSelector: "example.org/owner=~payments"');
    const plan = planUpgrade(new Map(snapshot).set(KUSTOMIZATION, text), options);
    const warnings = plan.warnings.filter((w) => w.code === 'patch-selector-unreadable');
    expect(warnings.map((w) => w.file)).toEqual([KUSTOMIZATION]);
    expect(warnings[0]!.message).toContain('example.org/owner=~payments');
  });

  it('refuses an object defined twice in one build, and twice across two overlays, naming both files (never a stack trace)', () => {
    const tags = 'clusters/prod/istio-system/revision-tags.yaml';
    const inOneBuild = new Map(snapshot)
      .set('clusters/prod/istio-system/old-tags.yaml', snapshot.get(tags)!)
      .set(
        'clusters/prod/istio-system/kustomization.yaml',
        `${snapshot.get('clusters/prod/istio-system/kustomization.yaml')!.trimEnd()}\n  - old-tags.yaml\n`,
      );
    const one = refusal(inOneBuild);
    expect(one).toBeInstanceOf(UpgradeRefusedError);
    expect(one.code).toBe('duplicate-object');
    expect(one.message).toContain(KUSTOMIZATION);
    expect(one.message).toContain(tags);
    expect(one.message).toContain('clusters/prod/istio-system/old-tags.yaml');
    const twoOverlays = new Map(snapshot)
      .set('clusters/staging/kustomization.yaml', 'resources:\n  - tags.yaml\n')
      .set('clusters/staging/tags.yaml', snapshot.get(tags)!);
    const two = refusal(twoOverlays);
    expect(two).toBeInstanceOf(UpgradeRefusedError);
    expect(two.code).toBe('duplicate-object');
    expect(two.message).toContain(tags);
    expect(two.message).toContain('clusters/staging/tags.yaml');
  });
});
