import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade, snapshotAfter } from '../../../src/core/plan.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { runUpgrade } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const ISTIOD = 'argocd/istiod-1-21-2.yaml';
const GATEWAY = 'argocd/istio-ingress.yaml';
const BASE = 'argocd/istio-base.yaml';

/** valueFiles inside the chart package (Argo CD resolves them against the pulled chart, not the repo). */
const withValueFiles = (text: string, files: readonly string[]) =>
  text.replace(/( {6}releaseName: [^\n]+\n)/, `$1      valueFiles:\n${files.map((f) => `        - ${f}\n`).join('')}`);

function refusal(repo: RepoSnapshot): UpgradeRefusedError {
  try {
    planUpgrade(repo, { to: TO });
  } catch (e) {
    if (e instanceof UpgradeRefusedError) return e;
    throw e;
  }
  throw new Error('planned');
}

describe('Argo CD Applications of a Helm-repository chart with helm.valueFiles (fixture helm-argocd, in memory)', () => {
  let fixture: RepoSnapshot;
  beforeAll(async () => {
    fixture = await loadFixture('helm-argocd');
  });

  it('plans as before when the values that matter are inline, and warns naming the Application and every unread file', () => {
    const repo = new Map(fixture).set(
      ISTIOD,
      withValueFiles(fixture.get(ISTIOD)!, ['values-prod.yaml', 'https://charts.example.com/mesh/hub.yaml']),
    );
    const plan = planUpgrade(repo, { to: TO });
    expect(plan.phases.map((p) => p.id)).toEqual(planUpgrade(fixture, { to: TO }).phases.map((p) => p.id));
    const warning = plan.warnings.find((w) => w.code === 'helm-value-files-unread')!;
    expect(warning.file).toBe(ISTIOD);
    expect(warning.message).toContain(
      'Application istiod-1-21-2 (argocd/istiod-1-21-2.yaml): the values files values-prod.yaml, https://charts.example.com/mesh/hub.yaml (helm.valueFiles) are inside the chart istiod 1.21.2',
    );
    expect(warning.message).toContain('not visible to the plan');
    expect(warning.message).toContain(
      'the plan assumed revision="1-21-2", revisionTags=["default"], global.hub=unset inline (the chart default, unless a values file sets it), global.tag=unset inline (the chart default, unless a values file sets it)',
    );
    // Inline values are still read and edited: the new release gets its own revision inline.
    const afterControlPlane = snapshotAfter(plan, 1);
    const created = [...afterControlPlane.keys()].find((f) => !repo.has(f) && f.startsWith('argocd/'))!;
    expect(afterControlPlane.get(created)).toMatch(/revision: "?1-22-1"?\n/);
    // The copy keeps the valueFiles, so it says inline that it serves no tag yet (a file could say [default]).
    expect(afterControlPlane.get(created)).toMatch(/revisionTags: \[\]\n/);
    expect(afterControlPlane.get(created)).toContain('values-prod.yaml');
    expect(plan.warnings.filter((w) => w.code === 'helm-value-files-unread')).toHaveLength(1);
  });

  it('writes revisionTags: [] inline in a copy whose values are a YAML string', () => {
    const text = withValueFiles(fixture.get(ISTIOD)!, ['values-prod.yaml']).replace(
      / {6}valuesObject:\n[\s\S]*?(?= {2}destination:)/,
      '      values: |\n        revision: "1-21-2"\n        revisionTags: [default]\n        pilot:\n          autoscaleMin: 2\n',
    );
    expect(text).toContain('      values: |');
    const repo = new Map(fixture).set(ISTIOD, text);
    const plan = planUpgrade(repo, { to: TO });
    const after = snapshotAfter(plan, 1);
    const created = [...after.keys()].find((f) => !repo.has(f) && f.startsWith('argocd/'))!;
    expect(after.get(created)).toMatch(/revision: "?1-22-1"?\n/);
    expect(after.get(created)).toMatch(/revisionTags: \[\]\n/);
    expect(after.get(created)).toContain('autoscaleMin: 2');
  });

  it('is idempotent with the warning: every phase done at the end', () => {
    const repo = new Map(fixture).set(ISTIOD, withValueFiles(fixture.get(ISTIOD)!, ['values-prod.yaml']));
    const steps = runUpgrade(repo, { to: TO });
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
  });

  it('refuses when the old istiod revision is not set inline (it may be set in a values file)', () => {
    const istiod = withValueFiles(fixture.get(ISTIOD)!, ['values-prod.yaml']).replace('        revision: "1-21-2"\n', '');
    const error = refusal(new Map(fixture).set(ISTIOD, istiod));
    expect(error.code).toBe('helm-value-files-unreadable');
    expect(error.message).toContain(
      'Application istiod-1-21-2 (argocd/istiod-1-21-2.yaml) lists values-prod.yaml in helm.valueFiles (inside the chart istiod 1.21.2, not in this repo) and does not set revision inline',
    );
    expect(error.message).toContain('set them inline');
  });

  it('refuses a gateway release without an inline revision, and a base release without an inline defaultRevision', () => {
    const gateway = withValueFiles(fixture.get(GATEWAY)!, ['values-ha.yaml']).replace('        revision: 1-21-2\n', '');
    const gatewayError = refusal(new Map(fixture).set(GATEWAY, gateway));
    expect(gatewayError.code).toBe('helm-value-files-unreadable');
    expect(gatewayError.message).toContain('Application istio-ingress (argocd/istio-ingress.yaml) lists values-ha.yaml');
    const base = withValueFiles(fixture.get(BASE)!, ['values-crds.yaml']).replace(
      '      valuesObject:\n        defaultRevision: 1-21-2\n',
      '',
    );
    expect(refusal(new Map(fixture).set(BASE, base)).message).toContain('does not set defaultRevision inline');
  });

  it('ignores valueFiles: [values.yaml] (the chart defaults) and Applications without valueFiles', () => {
    const repo = new Map(fixture).set(GATEWAY, withValueFiles(fixture.get(GATEWAY)!, ['values.yaml']));
    expect(planUpgrade(repo, { to: TO }).warnings.map((w) => w.code)).not.toContain('helm-value-files-unread');
    expect(planUpgrade(fixture, { to: TO }).warnings.map((w) => w.code)).not.toContain('helm-value-files-unread');
  });
});

describe('Flux HelmRelease of a Helm-repository chart with spec.chart.spec.valuesFiles (fixture flux-shared-values, in memory)', () => {
  const ISTIOD_FLUX = 'infrastructure/istio/istiod-1-21-2.yaml';
  const withFluxValuesFiles = (text: string) =>
    text.replace(
      '      version: 1.21.2\n',
      '      version: 1.21.2\n      valuesFiles:\n        - values.yaml\n        - values-prod.yaml\n',
    );

  it('reads values and valuesFrom as usual and warns about the packaged file only', async () => {
    const fixture = await loadFixture('flux-shared-values');
    const repo = new Map(fixture).set(ISTIOD_FLUX, withFluxValuesFiles(fixture.get(ISTIOD_FLUX)!));
    const plan = planUpgrade(repo, { to: TO });
    expect(plan.phases.map((p) => p.id)).toEqual(planUpgrade(fixture, { to: TO }).phases.map((p) => p.id));
    const warning = plan.warnings.find((w) => w.code === 'helm-value-files-unread')!;
    expect(warning.file).toBe(ISTIOD_FLUX);
    expect(warning.message).toContain(
      'HelmRelease istiod-1-21-2 (infrastructure/istio/istiod-1-21-2.yaml): the values files values-prod.yaml (spec.chart.spec.valuesFiles)',
    );
  });

  it('refuses when the revision is in neither values nor valuesFrom', async () => {
    const fixture = await loadFixture('flux-shared-values');
    const text = withFluxValuesFiles(fixture.get(ISTIOD_FLUX)!).replace('  values:\n    revision: 1-21-2\n', '');
    const error = refusal(new Map(fixture).set(ISTIOD_FLUX, text));
    expect(error.code).toBe('helm-value-files-unreadable');
    expect(error.message).toContain('does not set revision inline');
  });
});
