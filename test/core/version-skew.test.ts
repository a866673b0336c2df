import { describe, expect, it } from 'vitest';
import { planUpgrade } from '../../src/core/plan.js';
import { parseRevision } from '../../src/core/revision.js';
import {
  assertVersionSkew,
  findClusterVersion,
  findPinnedSidecars,
  kubernetesMinor,
  SUPPORTED_KUBERNETES,
} from '../../src/core/version-skew.js';
import { buildYamlIndex } from '../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../src/model/errors.js';
import { loadFixture } from '../helpers/fixtures.js';

const index = (files: Record<string, string>) => buildYamlIndex(new Map(Object.entries(files)));

const eksctl = (version: string) =>
  `apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: eu-west-1\n  version: "${version}"\n`;
const bareMetal = (version: string) =>
  `apiVersion: baremetal.cluster.gke.io/v1\nkind: Cluster\nmetadata:\n  name: edge-1\n  namespace: cluster-edge-1\nspec:\n  type: hybrid\n  anthosBareMetalVersion: ${version}\n`;

function refusal(run: () => void): UpgradeRefusedError {
  try {
    run();
  } catch (error) {
    if (error instanceof UpgradeRefusedError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('Kubernetes version of the cluster', () => {
  it.each([
    ['1.29', 29],
    ['v1.29.3', 29],
    ['1.30.2-gke.1587003', 30],
    ['1.9', 9],
    ['latest', null],
    ['${K8S_VERSION}', null],
    ['2.1', null],
  ])('reads %s as minor %s', (value, minor) => {
    expect(kubernetesMinor(value)).toBe(minor);
  });

  it('is read from eksctl, Config Connector, Cluster API and bare-metal manifests; the oldest cluster counts', () => {
    expect(findClusterVersion(index({ 'eks/cluster.yaml': eksctl('1.28') }))).toEqual({ minor: 28, source: 'eks/cluster.yaml' });
    const kcp =
      'apiVersion: controlplane.cluster.x-k8s.io/v1beta1\nkind: KubeadmControlPlane\nmetadata:\n  name: cp\nspec:\n  version: v1.27.4\n';
    const gke =
      'apiVersion: container.cnrm.cloud.google.com/v1beta1\nkind: ContainerCluster\nmetadata:\n  name: gke\nspec:\n  minMasterVersion: 1.30.2-gke.1587003\n';
    expect(findClusterVersion(index({ 'capi.yaml': kcp, 'gke.yaml': gke }))).toEqual({ minor: 27, source: 'capi.yaml' });
    // Bare metal numbered its releases apart from Kubernetes up to 1.16 (Kubernetes 1.27).
    expect(findClusterVersion(index({ 'abm.yaml': bareMetal('1.16.3') }))).toEqual({ minor: 27, source: 'abm.yaml' });
    expect(findClusterVersion(index({ 'abm.yaml': bareMetal('1.29.100-gke.251') }))).toEqual({ minor: 29, source: 'abm.yaml' });
    // On a release channel minMasterVersion is only a floor: not what the cluster runs.
    expect(
      findClusterVersion(index({ 'gke.yaml': gke.replace('spec:\n', 'spec:\n  releaseChannel:\n    channel: REGULAR\n') })),
    ).toBeNull();
    expect(findClusterVersion(index({ 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n' }))).toBeNull();
  });

  it('refuses an unquoted version (YAML reads 1.30 as the number 1.3) instead of reading a wrong minor; the configured version still wins', () => {
    const unquoted = index({ 'eks/cluster.yaml': eksctl('1.30').replace('"1.30"', '1.30') });
    const error = refusal(() => findClusterVersion(unquoted));
    expect(error.code).toBe('invalid-kubernetes-version');
    expect(error.message).toBe(
      "ClusterConfig prod (eks/cluster.yaml) has metadata.version: 1.3 unquoted: YAML reads it as a number and drops a trailing zero (1.30 becomes 1.3). Quote the version, or give the cluster's with kubernetesVersion.",
    );
    // Where to give it depends on the reader (repo config or --kubernetes-version): a hint, said by the bot or the CLI.
    expect(error.text).toContainEqual({ kind: 'setting', name: 'kubernetesVersion' });
    expect(findClusterVersion(unquoted, '1.30')).toEqual({ minor: 30, source: 'kubernetesVersion' });
    const kcp =
      'apiVersion: controlplane.cluster.x-k8s.io/v1beta1\nkind: KubeadmControlPlane\nmetadata:\n  name: cp\nspec:\n  version: 1.28\n';
    expect(refusal(() => findClusterVersion(index({ 'capi.yaml': kcp }))).code).toBe('invalid-kubernetes-version');
  });

  it('takes the configured version over the repo, and refuses one that is not a version', () => {
    expect(findClusterVersion(index({ 'eks/cluster.yaml': eksctl('1.28') }), '1.30')).toEqual({ minor: 30, source: 'kubernetesVersion' });
    expect(refusal(() => findClusterVersion(index({}), 'one-thirty')).code).toBe('invalid-kubernetes-version');
  });

  it('has a contiguous, widening table (each Istio minor supports at least four Kubernetes minors)', () => {
    const minors = Object.keys(SUPPORTED_KUBERNETES).map(Number);
    for (const minor of minors) {
      const [low, high] = SUPPORTED_KUBERNETES[minor]!;
      expect(high - low).toBeGreaterThanOrEqual(3);
      const next = SUPPORTED_KUBERNETES[minor + 1];
      if (next) expect(next[0]).toBeGreaterThanOrEqual(low);
    }
  });
});

describe('version skew preflight', () => {
  const to = (name: string, version?: string) => parseRevision(name, version);

  it('lets a target through when the cluster is in its range, or when nothing says what the cluster runs', () => {
    expect(() => assertVersionSkew(index({ 'c.yaml': eksctl('1.29') }), to('1-21-2'), to('1-22-1'))).not.toThrow();
    expect(() => assertVersionSkew(index({}), to('1-21-2'), to('1-22-1'))).not.toThrow();
  });

  it('refuses a cluster too old for the target and says to upgrade the cluster first when the running mesh supports that', () => {
    const error = refusal(() => assertVersionSkew(index({ 'clusters/prod/eks.yaml': eksctl('1.26') }), to('1-21-2'), to('1-22-1')));
    expect(error.code).toBe('kubernetes-version-unsupported');
    expect(error.message).toBe(
      'Istio 1.22 supports Kubernetes 1.27 to 1.30, and the cluster runs Kubernetes 1.26 (clusters/prod/eks.yaml). Upgrade the cluster to Kubernetes 1.27 first (Istio 1.21 supports it), then upgrade the mesh.',
    );
  });

  it('names an intermediate mesh release when the running mesh cannot run on any Kubernetes the target supports', () => {
    // 1.13 runs Kubernetes up to 1.23 and 1.18 needs 1.24: no cluster version suits both.
    const error = refusal(() => assertVersionSkew(index({}), to('1-13-9'), to('1-18-7'), '1.22'));
    expect(error.message).toBe(
      'Istio 1.18 supports Kubernetes 1.24 to 1.27, and the cluster runs Kubernetes 1.22 (kubernetesVersion). Istio 1.13 runs up to Kubernetes 1.23: upgrade the mesh to 1.14 first, then the cluster to 1.24, then the mesh to 1.18.',
    );
  });

  it('refuses a cluster newer than the target supports, pointing at a newer release', () => {
    const error = refusal(() => assertVersionSkew(index({}), to('1-20-8'), to('1-21-6'), 'v1.31.1'));
    expect(error.message).toBe(
      'Istio 1.21 supports Kubernetes 1.26 to 1.29, and the cluster runs Kubernetes 1.31 (kubernetesVersion). Upgrade to a newer mesh release (1.24 or later) instead.',
    );
  });

  it('refuses sidecars written into manifests that are more than two minors behind the target, naming them; gateways are not counted', () => {
    const deployment = (name: string, image: string, istio?: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: legacy\nspec:\n  template:\n    metadata:\n      labels:\n        app: ${name}\n${istio ? `        istio: ${istio}\n` : ''}    spec:\n      containers:\n        - name: app\n          image: legacy/app:3.1\n        - name: istio-proxy\n          image: docker.io/istio/proxyv2:${image}\n`;
    const repo = index({
      'legacy/billing.yaml': deployment('billing', '1.19.3'),
      'legacy/ok.yaml': deployment('ok', '1.20.1'),
      'gw.yaml': deployment('old-gw', '1.18.0', 'ingressgateway'),
    });
    expect(findPinnedSidecars(repo).map((s) => `${s.object.name}:${s.minor}`)).toEqual(['billing:19', 'ok:20']);
    const error = refusal(() => assertVersionSkew(repo, to('1-21-2'), to('1-22-1')));
    expect(error.code).toBe('proxy-version-skew');
    expect(error.message).toContain('Deployment legacy/billing (docker.io/istio/proxyv2:1.19.3, legacy/billing.yaml)');
    expect(error.message).not.toContain('legacy/ok');
    expect(error.message).toContain('or upgrade to 1.21 first.');
    expect(() => assertVersionSkew(repo, to('1-20-8'), to('1-21-2'))).not.toThrow();
  });

  it('judges a written-out sidecar by the kustomize images override that retags it in the build, not by the tag in its file', () => {
    const patch = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: billing\n  namespace: legacy\nspec:\n  template:\n    spec:\n      containers:\n        - name: istio-proxy\n          image: docker.io/istio/proxyv2:1.19.3\n`;
    const deployment =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: billing\n  namespace: legacy\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: legacy/app:3.1\n';
    const kustomization = (images: string) => `resources:\n  - billing.yaml\npatches:\n  - path: billing-sidecar.yaml\n${images}`;
    const repo = (images: string) =>
      index({
        'legacy/kustomization.yaml': kustomization(images),
        'legacy/billing.yaml': deployment,
        'legacy/billing-sidecar.yaml': patch,
      });
    // kustomize builds the sidecar with proxyv2:1.20.1 (n-2 of 1.22): no refusal for the 1.19.3 written in the patch.
    expect(() =>
      assertVersionSkew(repo('images:\n  - name: docker.io/istio/proxyv2\n    newTag: 1.20.1\n'), to('1-21-2'), to('1-22-1')),
    ).not.toThrow();
    // The override itself is still checked, naming the kustomization.
    const stale = refusal(() =>
      assertVersionSkew(repo('images:\n  - name: docker.io/istio/proxyv2\n    newTag: 1.19.9\n'), to('1-21-2'), to('1-22-1')),
    );
    expect(stale.code).toBe('proxy-version-skew');
    expect(stale.message).toContain('legacy/kustomization.yaml (images: docker.io/istio/proxyv2 newTag 1.19.9');
    // A newName-only override keeps the written tag, and an override of another image changes nothing.
    for (const images of [
      'images:\n  - name: docker.io/istio/proxyv2\n    newName: registry.internal/istio/proxyv2\n',
      'images:\n  - name: legacy/app\n    newTag: "3.2"\n',
      '',
    ]) {
      expect(refusal(() => assertVersionSkew(repo(images), to('1-21-2'), to('1-22-1'))).message, images).toContain(
        '(docker.io/istio/proxyv2:1.19.3, legacy/billing-sidecar.yaml)',
      );
    }
  });
});

describe('planning with the preflight', () => {
  it('refuses before any phase is drafted when a cluster manifest in the repo is outside the range, and plans when it is inside', async () => {
    const repo = await loadFixture('asm-manifests');
    const tooNew = new Map(repo).set('clusters/prod/cluster/eks.yaml', eksctl('1.27'));
    const error = refusal(() => planUpgrade(tooNew, { to: 'asm-1140-0' }));
    expect(error.code).toBe('kubernetes-version-unsupported');
    expect(error.message).toContain(
      'Istio 1.14 supports Kubernetes 1.21 to 1.24, and the cluster runs Kubernetes 1.27 (clusters/prod/cluster/eks.yaml).',
    );
    const inRange = new Map(repo).set('clusters/prod/cluster/eks.yaml', eksctl('1.23'));
    expect(planUpgrade(inRange, { to: 'asm-1140-0' }).phases.length).toBeGreaterThan(0);
    // The configured version wins over the manifest.
    expect(planUpgrade(tooNew, { to: 'asm-1140-0', kubernetesVersion: '1.24' }).phases.length).toBeGreaterThan(0);
  });
});
