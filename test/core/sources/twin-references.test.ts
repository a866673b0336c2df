import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { renderedRevision } from '../../../demo/prepared-render.js';
import { planUpgrade } from '../../../src/core/plan.js';
import { retarget } from '../../../src/core/sources/name-keyed-patches.js';
import { renameReferences } from '../../../src/core/sources/twin-references.js';
import { applyFileChanges, type RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { hasKubectl, kustomizeBuild } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const KUSTOMIZATION = 'overlays/prod/kustomization.yaml';

const HPA_PATCH = `# prod: istiod scales 3..10
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: istiod
  namespace: istio-system
spec:
  minReplicas: 3
  maxReplicas: 10
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: istiod
`;
const PDB_PATCH = `# prod: two istiod pods stay up during drains
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: istiod
  namespace: istio-system
spec:
  minAvailable: 2
  selector:
    matchLabels:
      app: istiod
      istio.io/rev: default
`;
const SA_PATCH = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: istiod
  namespace: istio-system
spec:
  template:
    spec:
      serviceAccountName: istiod
      volumes:
        - name: config-volume
          configMap:
            name: istio
`;

/** The fixture with prod patches of the old istiod's autoscaler, disruption budget and service account. */
async function withPatches(extra: Record<string, string> = {}): Promise<RepoSnapshot> {
  const fixture = await loadFixture('rendered-kustomize-patches');
  const files = {
    'overlays/prod/istiod-hpa.yaml': HPA_PATCH,
    'overlays/prod/istiod-pdb.yaml': PDB_PATCH,
    'overlays/prod/istiod-sa.yaml': SA_PATCH,
    ...extra,
  };
  const k = fixture.get(KUSTOMIZATION)!.replace(
    '  - path: istiod.yaml\n',
    `  - path: istiod.yaml\n${Object.keys(files)
      .map((f) => `  - path: ${f.slice('overlays/prod/'.length)}\n`)
      .join('')}`,
  );
  return new Map([...fixture, ...Object.entries(files), [KUSTOMIZATION, k]]);
}

describe("twins of name-keyed patches name the new revision's objects (fixture rendered-kustomize-patches, from default)", () => {
  it('HPA scaleTargetRef, PDB selector revision, serviceAccountName and the mesh ConfigMap volume point at the new revision', async () => {
    const repo = await withPatches();
    const plan = planUpgrade(repo, { to: TO });
    expect(plan.warnings.filter((w) => w.code === 'patch-not-carried-over')).toEqual([]);
    const files = plan.phases.find((p) => p.id === 'control-plane')!.files;
    const twin = (path: string) => load(files.find((f) => f.path === path)!.content!) as Doc;
    const hpa = twin('overlays/prod/istiod-hpa-1-22-1.yaml');
    expect(hpa.metadata.name).toBe(`istiod-${TO}`);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: `istiod-${TO}` });
    expect(twin('overlays/prod/istiod-pdb-1-22-1.yaml').spec.selector.matchLabels).toEqual({ app: 'istiod', 'istio.io/rev': TO });
    const sa = twin('overlays/prod/istiod-sa-1-22-1.yaml').spec.template.spec;
    expect(sa.serviceAccountName).toBe(`istiod-${TO}`);
    expect(sa.volumes).toEqual([{ name: 'config-volume', configMap: { name: `istio-${TO}` } }]);

    if (hasKubectl) {
      // The person commits the new render (with its own autoscaler); the build has one autoscaler per Deployment.
      const next = new Map(applyFileChanges(repo, files));
      const hpaNew = `---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: istiod-${TO}\n  namespace: istio-system\nspec:\n  minReplicas: 1\n  maxReplicas: 5\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: istiod-${TO}\n`;
      next.set(`base/istio-system/${TO}/istiod.yaml`, renderedRevision(TO, '1.22.1') + hpaNew);
      const k = 'base/istio-system/kustomization.yaml';
      next.set(k, next.get(k)!.replace('  - rendered/istio.yaml', `  - ${TO}/istiod.yaml\n  - rendered/istio.yaml`));
      const built = await kustomizeBuild(next, 'overlays/prod');
      const hpas = built.filter((o) => o.kind === 'HorizontalPodAutoscaler') as Doc[];
      expect(hpas.map((h) => [h.metadata.name, h.spec.scaleTargetRef.name, h.spec.minReplicas]).sort()).toEqual([
        ['istiod', 'istiod', 3],
        [`istiod-${TO}`, `istiod-${TO}`, 3],
      ]);
      const deployment = built.find((o) => o.kind === 'Deployment' && o.metadata.name === `istiod-${TO}`) as Doc;
      expect(deployment.spec.template.spec.serviceAccountName).toBe(`istiod-${TO}`);
    }
  });

  it('a reference whose kind the bot cannot tell stops the twin with a patch-not-carried-over warning naming the file and field', async () => {
    const odd = `apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: istiod\n  namespace: istio-system\nspec:\n  behavior:\n    scaleDown:\n      selectPolicy: Min\n  metrics:\n    - type: Object\n      object:\n        describedObject:\n          name: istiod\n        metric:\n          name: pilot_xds\n        target:\n          type: Value\n          value: "1000"\n`;
    const repo = await withPatches({ 'overlays/prod/istiod-hpa.yaml': odd });
    const plan = planUpgrade(repo, { to: TO });
    const warning = plan.warnings.find((w) => w.code === 'patch-not-carried-over' && w.file === 'overlays/prod/istiod-hpa.yaml')!;
    expect(warning.message).toContain('spec.metrics[0].object.describedObject.name');
    expect(plan.phases.find((p) => p.id === 'control-plane')!.files.map((f) => f.path)).not.toContain(
      'overlays/prod/istiod-hpa-1-22-1.yaml',
    );
  });
});

describe('renameReferences', () => {
  const renames = new Map([
    ['Deployment/istiod-1-20-3', 'istiod-1-21-2'],
    ['ClusterRole/istiod-clusterrole-1-20-3-istio-system', 'istiod-clusterrole-1-21-2-istio-system'],
    ['ServiceAccount/istiod-1-20-3', 'istiod-1-21-2'],
  ]);
  it('renames roleRef and subjects by their kind, leaves labels and own names alone', () => {
    const leftover: string[] = [];
    const out = renameReferences(
      {
        metadata: { name: 'istiod-1-20-3' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'istiod-clusterrole-1-20-3-istio-system' },
        subjects: [{ kind: 'ServiceAccount', name: 'istiod-1-20-3', namespace: 'istio-system' }],
        spec: { template: { metadata: { labels: { app: 'istiod-1-20-3' } }, spec: { containers: [{ name: 'istiod-1-20-3' }] } } },
      },
      renames,
      leftover,
    ) as Doc;
    expect(out.roleRef.name).toBe('istiod-clusterrole-1-21-2-istio-system');
    expect(out.subjects[0].name).toBe('istiod-1-21-2');
    expect(out.metadata.name).toBe('istiod-1-20-3');
    expect(out.spec.template.metadata.labels.app).toBe('istiod-1-20-3');
    expect(out.spec.template.spec.containers[0].name).toBe('istiod-1-20-3');
    expect(leftover).toEqual([]);
  });

  it('from a revision: the revision in every reference moves with it (HPA target, PDB selector)', () => {
    const patch = {
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'istiod-1-20-3' },
        selector: { matchLabels: { app: 'istiod', 'istio.io/rev': '1-20-3' } },
      },
    };
    const leftover: string[] = [];
    const out = renameReferences(retarget(patch, '1-20-3', '1-21-2', '1.20.3', '1.21.2'), renames, leftover) as Doc;
    expect(out.spec).toEqual({
      scaleTargetRef: { kind: 'Deployment', name: 'istiod-1-21-2' },
      selector: { matchLabels: { app: 'istiod', 'istio.io/rev': '1-21-2' } },
    });
    expect(leftover).toEqual([]);
  });
});
