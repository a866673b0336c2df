import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade, snapshotAfter } from '../../../src/core/plan.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';

/** An ASM revision installed outside git (by asmcli): only a meshed namespace names it. */
const EXTERNAL_ASM: RepoSnapshot = new Map([
  ['apps/shop/namespace.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio.io/rev: asm-1130-0\n'],
  [
    'apps/shop/web.yaml',
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{name: web, image: web:1}]\n',
  ],
]);

const BARE_METAL_CLUSTER =
  'apiVersion: baremetal.cluster.gke.io/v1\nkind: Cluster\nmetadata:\n  name: edge-1\n  namespace: cluster-edge-1\nspec:\n  anthosBareMetalVersion: 1.12.1\n';

function manualOf(snapshot: RepoSnapshot, options: Parameters<typeof planUpgrade>[1] = { to: 'asm-1140-0' }): string[] {
  return planUpgrade(snapshot, options).phases.find((p) => p.id === 'control-plane')!.manual;
}

function withFile(snapshot: RepoSnapshot, path: string, text: string): RepoSnapshot {
  return new Map([...snapshot, [path, text]]);
}

describe('control-plane manual steps for ASM (asmcli)', () => {
  let manifests: RepoSnapshot;
  beforeAll(async () => {
    manifests = await loadFixture('asm-manifests');
  });

  it('downloads the asmcli pinned to the target release, not the floating asmcli_<minor>', () => {
    for (const manual of [manualOf(EXTERNAL_ASM), manualOf(manifests)]) {
      const fetch = manual.find((s) => !s.startsWith('#'))!;
      expect(fetch).toContain('https://storage.googleapis.com/csm-artifacts/asm/asmcli_1.14.0-asm.0-config1 ');
      expect(fetch).not.toContain('/asm/asmcli_1.14 ');
    }
  });

  it('uses the GKE flags by default, with obvious placeholders', () => {
    const install = manualOf(EXTERNAL_ASM).find((s) => s.startsWith('./asmcli install'))!;
    expect(install).toContain('--project_id PROJECT_ID --cluster_name CLUSTER_NAME --cluster_location CLUSTER_LOCATION');
    expect(install).not.toContain('--platform multicloud');
    // A comment line before the commands says what each placeholder stands for.
    expect(manualOf(EXTERNAL_ASM)[0]).toMatch(/^# PROJECT_ID, CLUSTER_NAME, CLUSTER_LOCATION: /);
  });

  it('uses the multicloud flags when asked (GKE flags fail on bare metal, VMware and other clouds)', () => {
    for (const manual of [
      manualOf(EXTERNAL_ASM, { to: 'asm-1140-0', platform: 'multicloud' }),
      manualOf(manifests, { to: 'asm-1140-0', platform: 'multicloud' }),
    ]) {
      const asmcli = manual.filter((s) => s.startsWith('./asmcli '));
      expect(asmcli).toHaveLength(1);
      expect(asmcli[0]).toContain('--platform multicloud --kubeconfig KUBECONFIG --fleet_id FLEET_PROJECT_ID');
      expect(asmcli[0]).not.toMatch(/--project_id|--cluster_name|--cluster_location/);
    }
  });

  it('detects an Anthos bare-metal cluster in the repo, unless the platform is given', () => {
    const bareMetal = withFile(EXTERNAL_ASM, 'bmctl/edge-1.yaml', BARE_METAL_CLUSTER);
    expect(manualOf(bareMetal).join('\n')).toContain('--platform multicloud --kubeconfig KUBECONFIG --fleet_id FLEET_PROJECT_ID');
    expect(manualOf(bareMetal, { to: 'asm-1140-0', platform: 'gke' }).join('\n')).toContain('--project_id PROJECT_ID');
  });

  it('detects an IstioOperator with the asm-multicloud profile', () => {
    const operator =
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: asm-overlay\n  namespace: istio-system\nspec:\n  profile: asm-multicloud\n';
    expect(manualOf(withFile(EXTERNAL_ASM, 'istio/overlay.yaml', operator)).join('\n')).toContain('--platform multicloud');
  });

  it('creates the output directory before redirecting the rendered manifests into it', () => {
    const manual = manualOf(manifests);
    const dir = 'clusters/prod/istio-system/asm-1140-0';
    const mkdir = manual.findIndex((s) => s.startsWith(`mkdir -p ${dir}`));
    const render = manual.findIndex((s) => s.includes(`> ${dir}/istiod.yaml`));
    expect(mkdir).toBeGreaterThanOrEqual(0);
    expect(mkdir).toBeLessThan(render);
    // The istioctl the pinned asmcli downloads: <output_dir>/istio-<release>/bin/istioctl.
    expect(manual[render]).toMatch(/^\.\/asm-1140-0\/istio-1\.14\.0-asm\.0\/bin\/istioctl manifest generate /);
  });
});

/** `istioctl operator init --revision 1-21-2` output, kept in git beside the IstioOperator it reconciles. */
const OPERATOR_1_21_2 = `# in-cluster operator for revision 1-21-2 (reconciles istiocontrolplane-1-21-2 only)
apiVersion: v1
kind: ServiceAccount
metadata:
  name: istio-operator-1-21-2
  namespace: istio-operator
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: istio-operator-1-21-2
rules:
  - apiGroups: [install.istio.io]
    resources: [istiooperators, istiooperators/status]
    verbs: ['*']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: istio-operator-1-21-2
subjects:
  - kind: ServiceAccount
    name: istio-operator-1-21-2
    namespace: istio-operator
roleRef:
  kind: ClusterRole
  name: istio-operator-1-21-2
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: v1
kind: Service
metadata:
  name: istio-operator-1-21-2
  namespace: istio-operator
  labels:
    name: istio-operator
spec:
  ports:
    - name: http-metrics
      port: 8383
      targetPort: 8383
  selector:
    name: istio-operator
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-operator-1-21-2
  namespace: istio-operator
spec:
  replicas: 1
  selector:
    matchLabels:
      name: istio-operator
  template:
    metadata:
      labels:
        name: istio-operator
    spec:
      serviceAccountName: istio-operator-1-21-2
      containers:
        - name: istio-operator
          image: docker.io/istio/operator:1.21.2
          command: [operator, server]
          env:
            - name: WATCH_NAMESPACE
              value: istio-system
            - name: REVISION
              value: "1-21-2"
`;

describe('control plane of a revisioned in-cluster operator install', () => {
  let fixture: RepoSnapshot;
  beforeAll(async () => {
    fixture = await loadFixture('istio-operator');
  });

  it('needs the operator of the new revision: from istioctl when the operator is not in git', () => {
    const plan = planUpgrade(fixture, { to: '1-22-1' });
    const phase = plan.phases.find((p) => p.id === 'control-plane')!;
    expect(phase.files.map((f) => f.path)).toEqual(['clusters/staging/istio-system/istiocontrolplane-1-22-1.yaml']);
    expect(phase.manual).toContain(
      './istio-1.22.1/bin/istioctl operator init --revision 1-22-1   # the operator of 1-21-2 ignores IstioOperators of other revisions',
    );
    // The old operator goes only once its IstioOperator is gone (it removes the finalizer).
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    const wait = cleanup.manual.findIndex((m) => m.includes('wait --for=delete istiooperator/istiocontrolplane-1-21-2'));
    const remove = cleanup.manual.findIndex((m) => m.startsWith('istioctl operator remove --revision 1-21-2'));
    expect(wait).toBeGreaterThanOrEqual(0);
    expect(remove).toBeGreaterThan(wait);
  });

  it('copies the operator in git for the new revision, and removes the old one after cleanup', () => {
    const snapshot = withFile(fixture, 'clusters/staging/istio-operator/operator-1-21-2.yaml', OPERATOR_1_21_2);
    const plan = planUpgrade(snapshot, { to: '1-22-1' });
    expect(plan.phases.map((p) => p.id)).toEqual([
      'control-plane',
      'gateways',
      'workloads',
      'default-revision',
      'cleanup',
      'operator-cleanup',
    ]);
    const controlPlane = plan.phases.find((p) => p.id === 'control-plane')!;
    expect(controlPlane.manual).toEqual([]);
    const copy = controlPlane.files.find((f) => f.path === 'clusters/staging/istio-operator/operator-1-22-1.yaml')!.content!;
    expect(copy).toContain('name: istio-operator-1-22-1');
    expect(copy).toContain('image: docker.io/istio/operator:1.22.1\n');
    // A renaming copy: the original text with the revision and release replaced, lists included.
    expect(copy).toBe(
      OPERATOR_1_21_2.replace(/^#.*\n/, '')
        .replaceAll('1-21-2', '1-22-1')
        .replace(':1.21.2', ':1.22.1'),
    );
    expect(copy).toContain('value: "1-22-1"');
    expect(copy).toContain('kind: ServiceAccount');
    expect(copy).not.toContain('1-21-2');
    // Cleanup leaves the operator alone; the next phase deletes it, checked first.
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(cleanup.files.map((f) => f.path)).not.toContain('clusters/staging/istio-operator/operator-1-21-2.yaml');
    const last = plan.phases.at(-1)!;
    expect(last.files).toEqual([{ path: 'clusters/staging/istio-operator/operator-1-21-2.yaml', action: 'delete', content: null }]);
    expect(last.beforeMerge.join('\n')).toContain('get istiooperator istiocontrolplane-1-21-2');
    // Planned again after cleanup, the old operator's removal is still the next step, then nothing.
    const afterCleanup = snapshotAfter(plan, plan.phases.length - 1);
    const replanned = planUpgrade(afterCleanup, { to: '1-22-1' });
    expect(replanned.phases.at(-1)).toMatchObject({ id: 'operator-cleanup', status: 'pending' });
    expect(replanned.phases.at(-1)!.files).toEqual(last.files);
    const final = planUpgrade(snapshotAfter(plan, plan.phases.length), { to: '1-22-1' });
    expect(final.phases.every((p) => p.status === 'done')).toBe(true);
  });

  it('adds no operator next to a non-revisioned one (it reconciles every IstioOperator), and says what to do', () => {
    const shared = OPERATOR_1_21_2.replaceAll('istio-operator-1-21-2', 'istio-operator').replace('value: "1-21-2"', 'value: ""');
    const plan = planUpgrade(withFile(fixture, 'clusters/staging/istio-operator/operator.yaml', shared), { to: '1-22-1' });
    const controlPlane = plan.phases[0]!;
    expect(controlPlane.manual).toEqual([]);
    expect(controlPlane.files.map((f) => f.path)).toEqual(['clusters/staging/istio-system/istiocontrolplane-1-22-1.yaml']);
    expect(plan.warnings.map((w) => w.code)).toContain('non-revisioned-operator');
    expect(plan.phases.map((p) => p.id)).not.toContain('operator-cleanup');
    expect(plan.phases.find((p) => p.id === 'cleanup')!.manual.join('\n')).not.toContain('operator remove');
  });

  it('refuses to go past 1.23 with the in-cluster operator, which ended there', () => {
    const repo: RepoSnapshot = new Map([
      [
        'istio-system/iop.yaml',
        'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: control-plane-1-23-2\n  namespace: istio-system\nspec:\n  profile: minimal\n  revision: 1-23-2\n  tag: 1.23.2\n',
      ],
      ['apps/ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio.io/rev: 1-23-2\n'],
    ]);
    expect(() => planUpgrade(repo, { to: '1-23-5' })).not.toThrow();
    expect(() => planUpgrade(repo, { to: '1-24-1' })).toThrow(/past Istio 1\.23.*migrate the control plane to Helm/);
  });

  it('writes the gateways off in the new IstioOperator even when the old one does not mention them', () => {
    const path = 'clusters/staging/istio-system/istiocontrolplane-1-21-2.yaml';
    const bare = fixture.get(path)!.replace(/\n {4}# gateways are managed[\s\S]*?enabled: false\n/, '\n');
    expect(bare).not.toContain('ingressGateways');
    const plan = planUpgrade(withFile(fixture, path, bare), { to: '1-22-1' });
    const created = plan.phases[0]!.files.find((f) => f.path.endsWith('istiocontrolplane-1-22-1.yaml'))!.content!;
    const components = (load(created) as { spec: { components: Record<string, unknown> } }).spec.components;
    expect(components.ingressGateways).toEqual([{ name: 'istio-ingressgateway', enabled: false }]);
    expect(components.egressGateways).toEqual([{ name: 'istio-egressgateway', enabled: false }]);
    // The copied header speaks of the new revision.
    expect(created).toContain('# Control plane for revision 1-22-1, reconciled by istio-operator-1-22-1.');
  });
});

describe('control plane of a rendered-manifests install', () => {
  it('warns that the new control plane is not in the repo, and still previews every phase', async () => {
    const plan = planUpgrade(await loadFixture('asm-manifests'), { to: 'asm-1140-0' });
    expect(plan.warnings.map((w) => w.code)).toContain('target-not-in-repo');
    const controlPlane = plan.phases[0]!;
    expect(controlPlane.files).toEqual([]);
    expect(controlPlane.manualResult).toBe('repo');
    expect(plan.phases.find((p) => p.id === 'cleanup')!.files.length).toBeGreaterThan(0);
  });
});

describe('control plane of a Helm install', () => {
  it('upgrades the base chart (CRDs) with the new istiod, keeping defaultRevision on the old revision', async () => {
    const plan = planUpgrade(await loadFixture('helm-argocd'), { to: '1-22-1' });
    const base = plan.phases[0]!.files.find((f) => f.path === 'argocd/istio-base.yaml')!.content!;
    expect(base).toContain('    targetRevision: 1.22.1\n');
    expect(base).toContain('defaultRevision: 1-21-2');
  });

  it('keeps the Argo CD finalizer and writes every runtime webhook field into ignoreDifferences of the new Application', async () => {
    const fixture = await loadFixture('helm-argocd');
    const path = 'argocd/istiod-1-21-2.yaml';
    const old = fixture
      .get(path)!
      .replace(
        '  namespace: argocd\n  labels:',
        '  namespace: argocd\n  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n  labels:',
      )
      .replace('        - .webhooks[]?.failurePolicy\n', '');
    const plan = planUpgrade(withFile(fixture, path, old), { to: '1-22-1' });
    const created = plan.phases[0]!.files.find((f) => f.path === 'argocd/istiod-1-22-1.yaml')!.content!;
    expect(created).toContain('  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n');
    expect(created).toContain('.webhooks[]?.failurePolicy');
    // Planned again once it is merged, the bot's own Application draws no drift warning.
    const after = planUpgrade(withFile(withFile(fixture, path, old), 'argocd/istiod-1-22-1.yaml', created), { to: '1-22-1' });
    expect(after.warnings.filter((w) => w.code === 'webhook-drift' && w.file === 'argocd/istiod-1-22-1.yaml')).toEqual([]);
  });
});
