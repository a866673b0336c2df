import semver from 'semver';
import { said, settingHint, UpgradeRefusedError } from '../model/errors.js';
import { parseImageReference } from '../model/image-reference.js';
import { getPath, podTemplateOf, WORKLOAD_KINDS } from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import type { YamlIndex } from './repo-index.js';
import type { Revision } from './revision.js';
import { assertImageOverrideSkew, findIstioImageOverrides } from './sources/kustomize-images.js';

/**
 * Kubernetes minors each Istio minor supports ("Supported Kubernetes Versions"), from Istio's own
 * table: istio/istio.io `data/compatibility/supportStatus.yml`, rendered at
 * https://istio.io/latest/docs/releases/supported-releases/#support-status-of-istio-releases.
 * ASM builds follow the Istio minor they are made from. Minors outside the table are not checked.
 */
export const SUPPORTED_KUBERNETES: Readonly<Record<number, readonly [number, number]>> = {
  13: [20, 23],
  14: [21, 24],
  15: [22, 25],
  16: [22, 25],
  17: [23, 26],
  18: [24, 27],
  19: [25, 28],
  20: [25, 29],
  21: [26, 29],
  22: [27, 30],
  23: [27, 30],
  24: [28, 31],
  25: [29, 32],
  26: [29, 33],
  27: [29, 33],
  28: [30, 34],
  29: [31, 35],
  30: [32, 36],
};

/** Istio serves proxies up to two minors older than its control plane (n-2). */
const MAX_PROXY_SKEW = 2;

/** The Kubernetes minor a cluster runs, and the file (or setting) that says so. */
interface ClusterVersion {
  readonly minor: number;
  readonly source: string;
}

/**
 * The cluster's Kubernetes version as the repo declares it: `kubernetesVersion` from the config
 * (given), else a cluster manifest (eksctl `ClusterConfig`, Config Connector `ContainerCluster`,
 * Cluster API `KubeadmControlPlane`/`Cluster` topology, Anthos on bare metal `Cluster`). With
 * several manifests, the oldest cluster counts. Null when nothing says.
 */
export function findClusterVersion(index: YamlIndex, configured?: string): ClusterVersion | null {
  if (configured !== undefined) {
    const minor = kubernetesMinor(configured);
    if (minor === null)
      throw new UpgradeRefusedError(
        `kubernetesVersion '${configured.slice(0, 40)}' is not a Kubernetes version like 1.29 or v1.29.3.`,
        'invalid-kubernetes-version',
      );
    return { minor, source: 'kubernetesVersion' };
  }
  const found: ClusterVersion[] = [];
  for (const object of index.objects) {
    if (object.isPatch) continue;
    const minor = declaredMinor(object);
    if (minor !== null) found.push({ minor, source: object.file });
  }
  return found.sort((a, b) => a.minor - b.minor)[0] ?? null;
}

function declaredMinor(object: IndexedObject): number | null {
  const group = object.apiVersion.split('/')[0] ?? '';
  const text = (path: string[]) => {
    const value = getPath(object.body, path);
    // Unquoted, YAML reads `1.30` as the number 1.3: the minor cannot be known (and the tools want a string).
    if (typeof value === 'number') {
      throw new UpgradeRefusedError(
        said`${object.kind} ${object.name} (${object.file}) has ${path.join('.')}: ${value} unquoted: YAML reads it as a number and drops a trailing zero (1.30 becomes 1.3). Quote the version, or give the cluster's with ${settingHint('kubernetesVersion')}.`,
        'invalid-kubernetes-version',
      );
    }
    return typeof value === 'string' ? value : null;
  };
  if (group === 'eksctl.io' && object.kind === 'ClusterConfig') return kubernetesMinor(text(['metadata', 'version']));
  // minMasterVersion is a floor; with a release channel the cluster runs whatever the channel is at.
  if (group === 'container.cnrm.cloud.google.com' && object.kind === 'ContainerCluster')
    return getPath(object.body, ['spec', 'releaseChannel']) === undefined ? kubernetesMinor(text(['spec', 'minMasterVersion'])) : null;
  if (group === 'controlplane.cluster.x-k8s.io' && object.kind === 'KubeadmControlPlane') return kubernetesMinor(text(['spec', 'version']));
  if (group === 'cluster.x-k8s.io' && object.kind === 'Cluster') return kubernetesMinor(text(['spec', 'topology', 'version']));
  if (group === 'baremetal.cluster.gke.io' && object.kind === 'Cluster')
    return bareMetalKubernetesMinor(text(['spec', 'anthosBareMetalVersion']));
  return null;
}

/** `1.29`, `v1.29.3`, `1.29.1-gke.1589018` → 29; anything else (a placeholder, `latest`) → null. */
export function kubernetesMinor(value: string | null): number | null {
  const match = value ? /^v?1\.(\d{1,2})(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?$/.exec(value.trim()) : null;
  return match ? Number(match[1]) : null;
}

/**
 * Anthos clusters on bare metal numbered their releases apart from Kubernetes up to 1.16 (1.16 runs
 * Kubernetes 1.27, 1.15 runs 1.26, …); from 1.28 on the two numbers are the same.
 */
function bareMetalKubernetesMinor(value: string | null): number | null {
  const version = value ? semver.coerce(value) : null;
  if (version?.major !== 1) return null;
  if (version.minor >= 28) return version.minor;
  return version.minor >= 10 && version.minor <= 16 ? version.minor + 11 : null;
}

/** A sidecar written into a workload's manifest (`istioctl kube-inject` output) and its release. */
interface PinnedSidecar {
  readonly object: IndexedObject;
  readonly minor: number;
  readonly image: string;
}

/**
 * Workloads whose `istio-proxy` container is written out with a fixed `proxyv2` image (in the
 * resource or in a strategic-merge patch of it). Gateways are
 * left out: a pinned gateway names its istiod (`CA_ADDR`) and is regenerated by the gateways phase.
 */
export function findPinnedSidecars(index: YamlIndex): PinnedSidecar[] {
  const pinned: PinnedSidecar[] = [];
  for (const kind of WORKLOAD_KINDS) {
    // Strategic-merge patches count too: a pre-injected sidecar often lives in an overlay's patch.
    for (const object of index.ofKind(kind)) {
      const template = podTemplateOf(object.body);
      if (/gateway$/.test(template.labels.istio ?? '')) continue;
      const proxy = template.containers.find((c) => c.name === 'istio-proxy');
      const image = typeof proxy?.image === 'string' ? proxy.image : null;
      if (!image) continue;
      const reference = parseImageReference(image);
      if (reference.repository !== 'proxyv2') continue;
      // The release comes from the tag, never from a digest; a digest-only image has no known release.
      const version = reference.version === null ? null : semver.parse(reference.version);
      if (version && version.major === 1) pinned.push({ object, minor: version.minor, image });
    }
  }
  return pinned;
}

/**
 * Refuses a target the cluster cannot run or whose control plane would not serve proxies the repo
 * pins: a Kubernetes version outside the target's supported range, or sidecars more than n-2
 * behind the target. Each refusal names the versions and the order to upgrade in.
 */
export function assertVersionSkew(index: YamlIndex, from: Revision | null, to: Revision, kubernetesVersion?: string): void {
  const target = minorOf(to.version);
  if (target === null) return;
  const cluster = findClusterVersion(index, kubernetesVersion);
  const range = SUPPORTED_KUBERNETES[target];
  if (cluster && range && (cluster.minor < range[0] || cluster.minor > range[1])) {
    throw new UpgradeRefusedError(
      kubernetesRefusal(cluster, target, range, minorOf(from?.version ?? null)),
      'kubernetes-version-unsupported',
    );
  }
  // A kustomize `images:` override with a tag or digest replaces the written tag in the build: the
  // override decides the proxy's release and is checked below instead.
  const overridden = new Set(
    findIstioImageOverrides(index)
      .filter((o) => o.component === 'proxyv2' && (o.newTag !== null || o.digest !== null))
      .flatMap((o) => o.containers.filter((c) => c.container === 'istio-proxy').map((c) => `${c.object.file}#${c.object.documentIndex}`)),
  );
  const stale = findPinnedSidecars(index).filter(
    (s) => target - s.minor > MAX_PROXY_SKEW && !overridden.has(`${s.object.file}#${s.object.documentIndex}`),
  );
  if (stale.length > 0) {
    const names = stale
      .slice(0, 5)
      .map((s) => `${s.object.kind} ${s.object.namespace ?? ''}/${s.object.name} (${s.image}, ${s.object.file})`);
    throw new UpgradeRefusedError(
      `Istio 1.${target} serves proxies at most ${MAX_PROXY_SKEW} minors older, and the repo pins older sidecars: ${names.join('; ')}${stale.length > 5 ? ` and ${stale.length - 5} more` : ''}. ` +
        `Regenerate them first (istioctl kube-inject with the running release, or remove the written-out sidecar and let the injector add it), or upgrade to 1.${Math.min(...stale.map((s) => s.minor)) + MAX_PROXY_SKEW} first.`,
      'proxy-version-skew',
    );
  }
  // A kustomize `images:` override of proxyv2 pins every container of its build that uses the image.
  assertImageOverrideSkew(index, target, MAX_PROXY_SKEW);
}

function kubernetesRefusal(cluster: ClusterVersion, target: number, [low, high]: readonly [number, number], from: number | null): string {
  const base = `Istio 1.${target} supports Kubernetes 1.${low} to 1.${high}, and the cluster runs Kubernetes 1.${cluster.minor} (${cluster.source}).`;
  if (cluster.minor > high) {
    const newer = Object.entries(SUPPORTED_KUBERNETES).find(([, [l, h]]) => l <= cluster.minor && cluster.minor <= h)?.[0];
    return `${base} Upgrade to a newer mesh release${newer ? ` (1.${newer} or later)` : ''} instead.`;
  }
  const fromRange = from !== null ? SUPPORTED_KUBERNETES[from] : undefined;
  if (!fromRange || fromRange[1] >= low) {
    return `${base} Upgrade the cluster to Kubernetes 1.${low} first${fromRange ? ` (Istio 1.${from} supports it)` : ''}, then upgrade the mesh.`;
  }
  // The running mesh cannot run on any Kubernetes the target supports: step through a release that overlaps both.
  const bridge = Object.entries(SUPPORTED_KUBERNETES)
    .map(([minor, r]) => [Number(minor), r] as const)
    .find(([minor, [l, h]]) => minor > from! && minor < target && l <= fromRange[1] && h >= low);
  return bridge
    ? `${base} Istio 1.${from} runs up to Kubernetes 1.${fromRange[1]}: upgrade the mesh to 1.${bridge[0]} first, then the cluster to 1.${low}, then the mesh to 1.${target}.`
    : `${base} Upgrade the cluster within what Istio 1.${from} supports (up to 1.${fromRange[1]}) and the mesh one minor at a time, alternating.`;
}

function minorOf(version: string | null): number | null {
  const parsed = version ? semver.coerce(version) : null;
  return parsed && parsed.major === 1 ? parsed.minor : null;
}
