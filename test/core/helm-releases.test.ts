import { describe, expect, it } from 'vitest';
import { discoverMesh } from '../../src/core/discover.js';
import { toHelmRelease } from '../../src/core/helm-release-values.js';
import { planUpgrade, snapshotAfter } from '../../src/core/plan.js';
import { buildYamlIndex } from '../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../src/model/errors.js';
import { loadFixture } from '../helpers/fixtures.js';

const TO = '1-22-1';
const GATEWAY = 'argocd/istio-ingress.yaml';
const ISTIOD = 'argocd/istiod-1-21-2.yaml';

describe('Helm releases in the shapes people write them (fixture helm-argocd)', () => {
  it('moves a gateway release whose revision is a tag of the old revision, pinned for the move, chart version included', async () => {
    const fixture = await loadFixture('helm-argocd');
    const repo = new Map(fixture).set(GATEWAY, fixture.get(GATEWAY)!.replace('revision: 1-21-2', 'revision: default'));
    const plan = planUpgrade(repo, { to: TO });
    const gateways = plan.phases.find((p) => p.id === 'gateways')!;
    expect(gateways.changes.map((c) => `${c.kind} ${c.name}`)).toContain('Application istio-ingress');
    expect(plan.warnings.find((w) => w.code === 'gateway-tag-pinned')?.message).toContain(
      'gateway release istio-ingress follows tag default (1-21-2 today)',
    );
    const after = snapshotAfter(plan, plan.phases.findIndex((p) => p.id === 'gateways') + 1).get(GATEWAY)!;
    expect(after).toContain('revision: 1-22-1');
    expect(after).toContain('targetRevision: 1.22.1');
  });

  it('moves a gateway release on `default` when only the base chart’s defaultRevision says what default serves', async () => {
    const fixture = await loadFixture('helm-argocd');
    const istiod = fixture.get(ISTIOD)!.replace(/ {8}revisionTags:\n {10}- default\n/, '');
    const repo = new Map(fixture).set(GATEWAY, fixture.get(GATEWAY)!.replace('revision: 1-21-2', 'revision: default')).set(ISTIOD, istiod);
    expect(istiod).not.toMatch(/^\s+revisionTags:/m);
    const plan = planUpgrade(repo, { to: TO });
    expect(plan.phases.find((p) => p.id === 'gateways')!.changes.map((c) => c.name)).toContain('istio-ingress');
    expect(plan.warnings.map((w) => w.code)).toContain('gateway-tag-pinned');
  });

  it('reads a revision set by helm.parameters (they win over values) and refuses to plan over it', async () => {
    const fixture = await loadFixture('helm-argocd');
    const text = fixture
      .get(ISTIOD)!
      .replace('    helm:\n', '    helm:\n      parameters:\n        - name: revision\n          value: ""\n');
    const repo = new Map(fixture).set(ISTIOD, text);
    const index = buildYamlIndex(repo);
    const release = toHelmRelease(index.ofKind('Application').find((o) => o.name.startsWith('istiod'))!, index)!;
    expect(release.values.revision).toBe('');
    expect(release.meshParameters).toEqual(['revision']);
    expect(discoverMesh(index).revisions.map((r) => r.name)).toContain('default');
    let error: unknown;
    try {
      planUpgrade(repo, { to: TO });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect((error as UpgradeRefusedError).code).toBe('helm-parameters-override');
    expect((error as Error).message).toContain(`(${ISTIOD}) sets revision in spec.source.helm.parameters`);
  });
});

describe('Istio charts through sources not read yet are refused by name', () => {
  it('leaves other charts that happen to be called gateway or base alone', async () => {
    const fixture = await loadFixture('helm-argocd');
    const other =
      'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: envoy-gateway\n  namespace: argocd\nspec:\n  sources:\n    - repoURL: https://charts.example.com/internal\n      chart: gateway\n      targetRevision: 2.1.0\n    - repoURL: https://git.example.com/platform/config.git\n      ref: values\n  destination:\n    namespace: edge\n';
    expect(planUpgrade(new Map(fixture).set('argocd/envoy-gateway.yaml', other), { to: TO }).phases.length).toBeGreaterThan(0);
  });

  it.each([
    [
      'an Argo CD multi-source Application',
      'argocd/istiod.yaml',
      'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: istiod\n  namespace: argocd\nspec:\n  sources:\n    - repoURL: https://istio-release.storage.googleapis.com/charts\n      chart: istiod\n      targetRevision: 1.21.2\n      helm:\n        valueFiles: [$values/mesh/istiod-values.yaml]\n    - repoURL: https://git.example.com/platform/config.git\n      targetRevision: main\n      ref: values\n  destination:\n    namespace: istio-system\n',
      'Application istiod (argocd/istiod.yaml): spec.sources',
    ],
    [
      'a Flux HelmRelease with chartRef to an OCIRepository',
      'mesh/istiod.yaml',
      'apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n  name: istiod-chart\n  namespace: flux-system\nspec:\n  url: oci://gcr.io/istio-release/charts/istiod\n  ref: {tag: 1.21.2}\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: istiod\n  namespace: flux-system\nspec:\n  chartRef:\n    kind: OCIRepository\n    name: istiod-chart\n  values:\n    revision: 1-21-2\n',
      'HelmRelease istiod (mesh/istiod.yaml): spec.chartRef to OCIRepository istiod-chart',
    ],
  ])('%s', (_name, file, text, named) => {
    const repo = new Map([
      [file, text],
      ['ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio.io/rev: 1-21-2\n'],
    ]);
    let error: unknown;
    try {
      planUpgrade(repo, { to: TO });
    } catch (e) {
      error = e;
    }
    expect((error as UpgradeRefusedError).code).toBe('helm-source-unsupported');
    expect((error as Error).message).toContain(named);
  });
});
