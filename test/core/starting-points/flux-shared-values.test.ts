import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
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
import { defaultTag, revisionInjector } from './cluster-webhooks.js';

const FROM = '1-21-2';
const TO = '1-22-1';
const SHARED = ['infrastructure/istio/istiod-values.yaml', 'infrastructure/istio/gateway-common.yaml'];

const merge = (a: Doc, b: Doc): Doc => {
  const out: Doc = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' && !Array.isArray(out[k])
        ? merge(out[k], v)
        : v;
  return out;
};

/** helm-controller's values of a HelmRelease: its valuesFrom ConfigMaps in order, its own values on top. */
function effectiveValues(objects: readonly BuiltObject[], release: Doc): Doc {
  let values: Doc = {};
  for (const ref of release.spec.valuesFrom ?? []) {
    const cm = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name && o.metadata.namespace === release.metadata.namespace,
    ) as Doc;
    values = merge(values, (load(cm.data['values.yaml']) as Doc) ?? {});
  }
  return merge(values, release.spec.values ?? {});
}

/** What Helm renders of each istiod release in the cluster: its injector, and the default tag's webhook when revisionTags has it. */
function cluster(objects: readonly BuiltObject[]) {
  const releases = objects.filter((o) => o.kind === 'HelmRelease') as Doc[];
  const istiods = releases.filter((r) => r.spec.chart.spec.chart === 'istiod').map((r) => effectiveValues(objects, r));
  const gateways = releases
    .filter((r) => r.spec.chart.spec.chart === 'gateway')
    .map((r) => [r.metadata.name, effectiveValues(objects, r).revision] as const);
  const tags = istiods.filter((v) => (v.revisionTags ?? []).includes('default')).map((v) => v.revision as string);
  const webhooks = [...istiods.map((v) => revisionInjector(v.revision)), ...tags.map(defaultTag)];
  return { revisions: istiods.map((v) => v.revision as string), tags, gateways, webhooks };
}

describe('Flux Helm releases fed by shared valuesFrom ConfigMaps (fixture flux-shared-values)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('flux-shared-values');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO });
  });

  it('plans a Helm canary; the values it changes are written inline on each release, never in the shared ConfigMaps', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: FROM, version: '1.21.2' });
    expect(json.install).toBe('helm');
    expect(json.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    for (const step of steps) for (const f of SHARED) expect(step.after.get(f), `${f} after ${step.phase}`).toBe(snapshot.get(f));
    const copy = plan.phases[0]!.files.find((f) => f.path === `infrastructure/istio/istiod-${TO}.yaml`)!.content!;
    // The copy keeps the shared reference and overrides the tag it would inherit.
    expect(copy).toContain(
      '  valuesFrom:\n    - kind: ConfigMap\n      name: istiod-values\n  values:\n    revision: 1-22-1\n    revisionTags: []\n',
    );
    // Each gateway release gets its own inline revision; the ConfigMap both read keeps 1-21-2.
    const gateways = steps.find((s) => s.phase === 'gateways')!;
    const before = gateways.before.get('infrastructure/istio/gateways.yaml')!.split('\n');
    const after = gateways.after.get('infrastructure/istio/gateways.yaml')!.split('\n');
    // Only the inline revision (one line per release) and the chart version (the gateway chart moves with its proxy).
    expect(after.filter((l) => l !== `    revision: ${TO}`)).toEqual(
      before.map((l) => (l === '      version: 1.21.2' ? '      version: 1.22.1' : l)),
    );
    expect(after.filter((l) => l === `    revision: ${TO}`)).toHaveLength(2);
  });

  it.skipIf(!hasKubectl)(
    'after every phase: one default tag, every gateway on a running revision, one injector per meshed pod',
    async () => {
      const seen: Array<[string, string[], ReadonlyArray<readonly [string, unknown]>]> = [];
      const initial = await kustomizeBuild(snapshot, 'infrastructure/istio');
      const initialKeys = new Set(initial.map(objectKey));
      for (const step of steps) {
        const infra = await kustomizeBuild(step.after, 'infrastructure/istio');
        const apps = await kustomizeBuild(step.after, 'apps');
        if (step.phase !== 'cleanup')
          for (const k of initialKeys)
            expect(
              infra.some((o) => objectKey(o) === k),
              `${k} after ${step.phase}`,
            ).toBe(true);
        const c = cluster(infra);
        // Never two releases rendering istio-revision-tag-default (the copy must not inherit it from istiod-values).
        expect(c.tags, step.phase).toHaveLength(1);
        for (const [, revision] of c.gateways) expect(c.revisions, step.phase).toContain(revision);
        const objects = [...apps, ...c.webhooks] as never;
        for (const [ns, app] of [
          ['shop', 'cart'],
          ['orders', 'orders-api'],
        ] as const) {
          const hits = injectorsFor(objects, ns, { app });
          expect(hits.length, `${ns} after ${step.phase}: ${hits.join(', ')}`).toBe(1);
        }
        expect(injectorsFor(objects, 'batch', {}), step.phase).toEqual([]);
        seen.push([step.phase, c.tags, c.gateways]);
      }
      expect(seen).toEqual([
        [
          'control-plane',
          [FROM],
          [
            ['istio-ingress', FROM],
            ['istio-ingress-internal', FROM],
          ],
        ],
        [
          'gateways',
          [FROM],
          [
            ['istio-ingress', TO],
            ['istio-ingress-internal', TO],
          ],
        ],
        [
          'workloads',
          [FROM],
          [
            ['istio-ingress', TO],
            ['istio-ingress-internal', TO],
          ],
        ],
        [
          'default-revision',
          [TO],
          [
            ['istio-ingress', TO],
            ['istio-ingress-internal', TO],
          ],
        ],
        [
          'cleanup',
          [TO],
          [
            ['istio-ingress', TO],
            ['istio-ingress-internal', TO],
          ],
        ],
      ]);
      const final = await kustomizeBuild(steps.at(-1)!.after, 'apps');
      const webhooks = cluster(await kustomizeBuild(steps.at(-1)!.after, 'infrastructure/istio')).webhooks;
      expect(injectorsFor([...final, ...webhooks] as never, 'shop', { app: 'cart' })[0]).toContain(`istiod-${TO}`);
      expect(injectorsFor([...final, ...webhooks] as never, 'orders', { app: 'orders-api' })[0]).toContain(`istiod-${TO}`);
    },
  );

  it('is idempotent and writes schema-valid objects', async () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    const changed = changedFiles(steps);
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
  });
});
