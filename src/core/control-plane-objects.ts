import {
  asDict,
  getPath,
  INJECT_TEMPLATES_ANNOTATION,
  ISTIO_SYSTEM,
  labelsOf,
  podTemplateOf,
  REV_LABEL,
  stringMap,
  TAG_LABEL,
} from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import { stringValue } from './helm-release-values.js';
import type { Gateway, InClusterOperator } from './inventory.js';
import type { YamlIndex } from './repo-index.js';
import { parseRevision, versionFromImage } from './revision.js';

/** The in-cluster operators in git (`istioctl operator init [--revision R]` output, or its Helm chart). */
export function discoverOperators(index: YamlIndex): InClusterOperator[] {
  const deployments = index.ofKind('Deployment').filter((d) => {
    if (d.isPatch) return false;
    const { containers } = podTemplateOf(d.body);
    return (
      /^istio-operator(-|$)/.test(d.name) &&
      containers.some((c) => /\/operator:|^operator:/.test(stringValue(c.image) ?? '') || c.name === 'istio-operator')
    );
  });
  return deployments.map((deployment) => {
    const { containers } = podTemplateOf(deployment.body);
    const container = containers.find((c) => c.name === 'istio-operator') ?? containers[0] ?? {};
    const env = Array.isArray(container.env) ? container.env.map(asDict) : [];
    // REVISION "" (or none, with an unsuffixed name) is the non-revisioned operator: it reconciles
    // every IstioOperator, revisioned ones included.
    const revisionEnv = env.find((e) => e.name === 'REVISION');
    const revision = revisionEnv
      ? stringValue(revisionEnv.value)
      : deployment.name.startsWith('istio-operator-')
        ? deployment.name.slice('istio-operator-'.length)
        : null;
    const image = stringValue(container.image);
    const objects = index.objects.filter(
      (o) =>
        !o.isPatch &&
        o.kind !== 'Namespace' &&
        o.name === deployment.name &&
        (o.namespace === null || o.namespace === deployment.namespace),
    );
    return { revision, deployment, objects, version: image ? versionFromImage(image) : null };
  });
}

/** A written-out proxy container (fixed image, `CA_ADDR`), or null for an injected gateway. */
export function pinnedProxyOf(containers: ReadonlyArray<Readonly<Record<string, unknown>>>): Gateway['pinned'] {
  const proxy = containers.find((c) => c.name === 'istio-proxy');
  if (!proxy) return null;
  const image = stringValue(proxy.image);
  const env = Array.isArray(proxy.env) ? proxy.env.map(asDict) : [];
  const caAddress = stringValue(env.find((e) => e.name === 'CA_ADDR')?.value);
  const pinnedImage = image && image !== 'auto' && /proxyv2/.test(image) ? image : null;
  return pinnedImage || caAddress ? { image: pinnedImage, caAddress } : null;
}

/** `istiod-asm-1130-0.istio-system.svc:15012` → `asm-1130-0`; `istiod.istio-system.svc` → null. */
export function revisionOfIstiodAddress(address: string): string | null {
  const match = /^istiod-([a-z0-9]([-a-z0-9]*[a-z0-9])?)\./.exec(address);
  return match ? match[1]! : null;
}

/**
 * `istiod.istio-system.svc:15012` names the `istiod` Service: the revision it selects, or the
 * non-revisioned control plane (`default`) when it selects none. Null for any other address.
 */
export function revisionOfIstiodService(address: string, service: IndexedObject | null): string | null {
  if (!/^istiod\.[a-z0-9-]+(\.svc)?(\.|:|$)/.test(address)) return null;
  const selected = service ? stringMap(getPath(service.body, ['spec', 'selector']))[REV_LABEL] : undefined;
  return selected ?? 'default';
}

export function isGateway(template: ReturnType<typeof podTemplateOf>): boolean {
  const templates = template.annotations[INJECT_TEMPLATES_ANNOTATION] ?? '';
  if (
    templates
      .split(',')
      .map((t) => t.trim())
      .includes('gateway')
  )
    return true;
  const istio = template.labels.istio ?? '';
  return /gateway$/.test(istio) && template.containers.some((c) => c.name === 'istio-proxy');
}

/** Objects a revision's control plane owns, by Istio's naming and labels. */
export function ownedByRevision(index: YamlIndex, revision: string): IndexedObject[] {
  const names = new Set([
    `istiod-${revision}`,
    `istio-${revision}`,
    `istio-sidecar-injector-${revision}`,
    `istio-validator-${revision}-${ISTIO_SYSTEM}`,
    `istiod-clusterrole-${revision}-${ISTIO_SYSTEM}`,
    `istiod-gateway-controller-${revision}-${ISTIO_SYSTEM}`,
    `istio-reader-clusterrole-${revision}-${ISTIO_SYSTEM}`,
    `istio-reader-${revision}`,
    `installed-state-${revision}`,
  ]);
  return index.objects.filter((o) => {
    if (o.isPatch || o.kind === 'Namespace') return false;
    if (names.has(o.name) || (o.kind === 'IstioOperator' && o.name.startsWith('installed-state') && o.name.endsWith(`-${revision}`)))
      return true;
    const labels = labelsOf(o.body);
    if (labels[REV_LABEL] !== revision || labels[TAG_LABEL] || o.name === 'istiod') return false;
    // The per-revision telemetry EnvoyFilters the charts render (`stats-filter-1.13-<rev>`); anything
    // else labelled with the revision is somebody's config, which must outlive the control plane.
    return isControlPlaneOwned(o) || (o.kind === 'EnvoyFilter' && o.namespace === ISTIO_SYSTEM && chartFilterName(o.name, revision));
  });
}

/**
 * What the non-revisioned control plane (revision `default`) owns, by the names Istio's istiod
 * chart gives it without a revision: istiod's Deployment, ServiceAccount, RBAC, HPA and PDB, the
 * ConfigMaps `istio`, `istio-sidecar-injector` and `values`, the injector `istio-sidecar-injector`
 * and its validator `istio-validator-istio-system`. Never the `istiod` Service (old proxies, the
 * default validator and remote clusters dial it: it is repointed instead), the default validator,
 * tags, CRDs or the base chart's objects.
 */
export function ownedByNonRevisioned(index: YamlIndex): IndexedObject[] {
  const namespaced = new Map<string, ReadonlySet<string>>([
    ['istiod', new Set(['Deployment', 'ServiceAccount', 'Role', 'RoleBinding', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'])],
    ['istio', new Set(['ConfigMap'])],
    ['istio-sidecar-injector', new Set(['ConfigMap'])],
    ['values', new Set(['ConfigMap'])],
  ]);
  const clusterScoped = new Map<string, string>([
    ['istio-sidecar-injector', 'MutatingWebhookConfiguration'],
    [`istio-validator-${ISTIO_SYSTEM}`, 'ValidatingWebhookConfiguration'],
    [`istiod-clusterrole-${ISTIO_SYSTEM}`, 'ClusterRole|ClusterRoleBinding'],
    [`istiod-gateway-controller-${ISTIO_SYSTEM}`, 'ClusterRole|ClusterRoleBinding'],
    [`istio-reader-clusterrole-${ISTIO_SYSTEM}`, 'ClusterRole|ClusterRoleBinding'],
    [`istiod-${ISTIO_SYSTEM}`, 'ClusterRole|ClusterRoleBinding'],
  ]);
  return index.objects.filter((o) => {
    if (o.isPatch || labelsOf(o.body)[TAG_LABEL]) return false;
    const rev = labelsOf(o.body)[REV_LABEL];
    if (rev !== undefined && rev !== 'default') return false;
    if (o.namespace === ISTIO_SYSTEM && namespaced.get(o.name)?.has(o.kind)) return true;
    if (o.namespace === null && clusterScoped.get(o.name)?.split('|').includes(o.kind)) return true;
    // The chart's per-minor telemetry filters of the non-revisioned install (`stats-filter-1.13`).
    return (
      o.kind === 'EnvoyFilter' &&
      o.namespace === ISTIO_SYSTEM &&
      rev === 'default' &&
      /^(tcp-)?(stats-filter|metadata-exchange)(-1\.\d+)?$/.test(o.name)
    );
  });
}

/** Names of the EnvoyFilters istiod's chart renders per proxy minor and revision. */
function chartFilterName(name: string, revision: string): boolean {
  const suffix = `-${revision}`;
  if (!name.endsWith(suffix)) return false;
  return /^(tcp-)?(stats-filter|metadata-exchange|stackdriver-filter|stackdriver-sampling|wasm-stats-filter)(-1\.\d+)?$/.test(
    name.slice(0, -suffix.length),
  );
}

export function isControlPlaneOwned(object: IndexedObject): boolean {
  const labels = labelsOf(object.body);
  return Boolean(labels['operator.istio.io/component']) || labels.app === 'istiod' || labels.app === 'sidecar-injector';
}

export function versionOf(revision: string): string | null {
  try {
    return parseRevision(revision).version;
  } catch {
    return null;
  }
}
