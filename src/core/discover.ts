import type { MeshNamespace, RevisionTag } from './inventory.js';
import { type Gateway, type HelmRelease, type InClusterOperator, type InjectionMode, type InstalledRevision, type MeshInventory, type Workload } from './inventory.js';
import { load as loadValues } from 'js-yaml';
import { parseRevision, parseVersion, versionFromImage, } from './revision.js';
import { asDict, getPath, INJECT_LABEL, INJECT_TEMPLATES_ANNOTATION, INJECTION_LABEL, ISTIO_SYSTEM, labelsOf, podTemplateOf, replicasOf, RESTART_ANNOTATION, REV_LABEL, stringMap, TAG_LABEL, WORKLOAD_KINDS } from '../model/kube.js';
import { MeshNotFoundError } from '../model/errors.js';
import { discoverSail, sailTagTargets } from './sources/sail.js';
import { generatedApplications } from './sources/applicationset.js';
import type { IndexedObject } from '../model/objects.js';
import type { YamlIndex } from './repo-index.js';
import { nonRevisionedIopRevision, nonRevisionedIstioOperators } from './sources/operator-nonrevisioned.js';
import { isPlaceholderRevision } from './sources/placeholders.js';
import { labelPatchesFor, selectorSubjectOf, withJsonLabelOps } from './sources/json-patches.js';
import { hasPlaceholder, mergeValues, resolveDeep, resolveVariable, valuesFromConfigMaps, } from './sources/flux-substitution.js';

/** Values the plan edits; an Argo CD parameter setting one would silently win over the edit. */
const MESH_VALUE = /^(revision|revisionTags(\[\d+\])?|defaultRevision|global\.operatorManageWebhooks)$/;

const ISTIO_CONFIG_GROUPS = ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io'];

/**
 * Finds the mesh in an indexed repo: installed revisions and how each is installed, tags,
 * validators, the `istiod` Service, namespaces with their injection mode, gateways and workloads.
 */
export function discoverMesh(index: YamlIndex, assumed: { readonly defaultTag?: string | null } = {}): MeshInventory {
  const helmReleases = [...index.ofKind('Application'), ...generatedApplications(index), ...index.ofKind('HelmRelease')]
    .map((o) => toHelmRelease(o, index))
    .filter((r): r is HelmRelease => r !== null);

  const tags: RevisionTag[] = index
    .ofKind('MutatingWebhookConfiguration')
    .filter((o) => o.name.startsWith('istio-revision-tag-'))
    .map((object) => {
      const labels = labelsOf(object.body);
      return { tag: labels[TAG_LABEL] ?? object.name.slice('istio-revision-tag-'.length), revision: labels[REV_LABEL] ?? '', object };
    });
  const tagTarget = new Map(tags.map((t) => [t.tag, t.revision]));
  const helmTags = helmReleases.filter((r) => r.chart === 'istiod');
  for (const release of helmTags) {
    const revision = stringValue(release.values.revision);
    for (const tag of stringList(release.values.revisionTags)) if (revision) tagTarget.set(tag, revision);
  }
  const helmBase = helmReleases.find((r) => r.chart === 'base') ?? null;
  const baseDefault = helmBase ? stringValue(helmBase.values.defaultRevision) : null;
  if (baseDefault && baseDefault !== 'default' && !tagTarget.has('default')) tagTarget.set('default', baseDefault);

  // A non-revisioned istiod (`istioctl manifest generate` output without a revision) is revision
  // `default`: istio-injection=enabled and istio.io/rev=default follow it while no tag says otherwise.
  const nonRevisionedIstiod = index
    .ofKind('Deployment')
    .find((o) => !o.isPatch && o.namespace === ISTIO_SYSTEM && o.name === 'istiod' && (labelsOf(o.body)[REV_LABEL] ?? 'default') === 'default');
  if (nonRevisionedIstiod && !tagTarget.has('default')) tagTarget.set('default', 'default');
  // So is an IstioOperator without revision (istioctl install -f, or a non-revisioned in-cluster operator).
  const nonRevisionedIop = nonRevisionedIstioOperators(index, nonRevisionedIstiod !== undefined, discoverOperators(index))[0] ?? null;
  if (nonRevisionedIop && !tagTarget.has('default')) tagTarget.set('default', 'default');
  // Sail Operator: IstioRevisionTags follow an Istio's active IstioRevision (sources/sail.ts).
  const sail = discoverSail(index);
  for (const [tag, revision] of sailTagTargets(sail)) if (!tagTarget.has(tag)) tagTarget.set(tag, revision);
  // The default tag lives outside git (managed Cloud Service Mesh): what the repo says it serves.
  if (assumed.defaultTag && !tagTarget.has('default')) tagTarget.set('default', assumed.defaultTag);
  // Likewise a Helm istiod release without `revision` (Istio's plain `helm install istiod`).
  const nonRevisionedRelease = helmTags.find((r) => !r.object.isPatch && !stringValue(r.values.revision)) ?? null;
  if (nonRevisionedRelease && !tagTarget.has('default')) tagTarget.set('default', 'default');

  const namespaces = discoverNamespaces(index, tagTarget);
  const namespaceByName = new Map(namespaces.map((n) => [n.name, n]));

  const istiodDeployments = index
    .ofKind('Deployment')
    .filter((o) => o === nonRevisionedIstiod || (o.namespace === ISTIO_SYSTEM && /^istiod(-|$)/.test(o.name) && labelsOf(o.body)[REV_LABEL] && labelsOf(o.body)[REV_LABEL] !== 'default'));
  const operators = index.ofKind('IstioOperator').filter((o) => !o.isPatch && !o.name.startsWith('installed-state'));
  const inClusterOperators = discoverOperators(index);
  const revisions = new Map<string, InstalledRevision>();

  for (const operator of operators) {
    const name = stringValue(getPath(operator.body, ['spec', 'revision']));
    if (!name) continue;
    const tag = stringValue(getPath(operator.body, ['spec', 'tag']));
    const inCluster = inClusterOperators.find((o) => o.revision === name) ?? null;
    // The operator goes after its IstioOperator is gone (it removes the finalizer), not with it.
    const operatorObjects = new Set(inCluster?.objects ?? []);
    revisions.set(name, {
      name,
      version: (tag && parseVersion(tag)) ?? versionOf(name),
      install: 'istio-operator',
      installer: operator,
      helm: null,
      ownedObjects: [operator, ...ownedByRevision(index, name).filter((o) => !operatorObjects.has(o))],
      istiodReplicas: numberValue(getPath(operator.body, ['spec', 'components', 'pilot', 'k8s', 'replicaCount'])),
      hasDisruptionBudget: numberValue(getPath(operator.body, ['spec', 'components', 'pilot', 'k8s', 'hpaSpec', 'minReplicas'])) !== null,
      operator: inCluster,
    });
  }
  if (nonRevisionedIop && !revisions.has('default')) revisions.set('default', nonRevisionedIopRevision(nonRevisionedIop, inClusterOperators));
  for (const release of helmTags) {
    const name = release === nonRevisionedRelease ? 'default' : stringValue(release.values.revision);
    if (!name || hasPlaceholder(name) || revisions.has(name)) continue;
    const pilot = asDict(release.values.pilot);
    revisions.set(name, {
      name,
      version: (release.chartVersion && parseVersion(release.chartVersion)) ?? versionOf(name),
      install: 'helm',
      installer: release.object,
      helm: release,
      // The non-revisioned release's objects (istiod, `istio-sidecar-injector`, the `istiod` Service) are rendered by Helm, not in git.
      ownedObjects: name === 'default' ? [release.object] : [release.object, ...ownedByRevision(index, name)],
      istiodReplicas: numberValue(pilot.autoscaleMin) ?? numberValue(pilot.replicaCount),
      hasDisruptionBudget: true,
      operator: null,
    });
  }
  for (const plane of sail) {
    // The operator installs and prunes the IstioRevisions: nothing of them is in git to delete.
    for (const name of [plane.activeRevision, ...plane.inactiveRevisions]) {
      if (revisions.has(name)) continue;
      revisions.set(name, {
        name,
        version: name === plane.activeRevision ? plane.version : versionOf(name),
        install: 'sail-operator',
        installer: plane.istio,
        helm: null,
        ownedObjects: [],
        istiodReplicas: numberValue(getPath(plane.istio.body, ['spec', 'values', 'pilot', 'replicaCount'])),
        hasDisruptionBudget: false,
        operator: null,
      });
    }
  }
  for (const deployment of istiodDeployments) {
    const name = deployment === nonRevisionedIstiod ? 'default' : labelsOf(deployment.body)[REV_LABEL]!;
    if (revisions.has(name)) continue;
    const image = podTemplateOf(deployment.body).containers.map((c) => stringValue(c.image)).find(Boolean);
    const owned = name === 'default' ? ownedByNonRevisioned(index) : ownedByRevision(index, name);
    const hpaMin = owned.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => numberValue(getPath(o.body, ['spec', 'minReplicas'])) ?? 1);
    revisions.set(name, {
      name,
      version: (image && versionFromImage(image)) ?? versionOf(name),
      install: 'manifests',
      installer: deployment,
      helm: null,
      ownedObjects: owned,
      istiodReplicas: Math.max(replicasOf(deployment.body), ...hpaMin),
      hasDisruptionBudget: owned.some((o) => o.kind === 'PodDisruptionBudget'),
      operator: null,
    });
  }

  const istiodService = index.find({ apiVersion: 'v1', kind: 'Service', namespace: ISTIO_SYSTEM, name: 'istiod' })[0] ?? null;
  const defaultValidator = index.ofKind('ValidatingWebhookConfiguration').find((o) => o.name === 'istiod-default-validator') ?? null;
  const deprecatedValidator = index.ofKind('ValidatingWebhookConfiguration').find((o) => o.name === `istiod-${ISTIO_SYSTEM}`) ?? null;
  const nonRevisionInjector =
    index.ofKind('MutatingWebhookConfiguration').find((o) => o.name === 'istio-sidecar-injector' && !labelsOf(o.body)[TAG_LABEL]) ?? null;

  const helmGateways = helmReleases.filter((r) => r.chart === 'gateway');
  const gateways: Gateway[] = [];
  const workloads: Workload[] = [];
  const istiodNames = new Set([...istiodDeployments, ...inClusterOperators.map((o) => o.deployment)].map((d) => `${d.namespace}/${d.name}`));
  for (const kind of WORKLOAD_KINDS) {
    for (const object of index.ofKind(kind)) {
      if (object.isPatch || istiodNames.has(`${object.namespace}/${object.name}`)) continue;
      const template = podTemplateOf(object.body);
      const namespace = object.namespace ? namespaceByName.get(object.namespace) : undefined;
      const workload: Workload = {
        object,
        replicas: replicasOf(object.body),
        optedOut: template.labels[INJECT_LABEL] === 'false' || template.annotations[INJECT_LABEL] === 'false',
        podRevision: template.labels[REV_LABEL] ?? null,
        restartMarker: template.annotations[RESTART_ANNOTATION] ?? null,
      };
      if (isGateway(template)) {
        const podRevision = template.labels[REV_LABEL];
        const pinned = pinnedProxyOf(template.containers);
        const pinnedRevision = pinned?.caAddress ? (revisionOfIstiodAddress(pinned.caAddress) ?? revisionOfIstiodService(pinned.caAddress, istiodService)) : null;
        const resolved = pinnedRevision ?? (podRevision ? (tagTarget.get(podRevision) ?? podRevision) : (namespace?.revision ?? null));
        gateways.push({ ...workload, style: podRevision ? 'pod-label' : 'namespace-label', revision: resolved, pinned });
      } else if (namespace?.revision || (workload.podRevision && namespace?.injection.mode === 'none')) {
        workloads.push(workload);
      }
    }
  }

  // A control plane's own objects (per-revision EnvoyFilters and the like) go with it at cleanup;
  // they are not client config that has to stay visible while clients move.
  const owned = new Set([...revisions.values()].flatMap((r) => r.ownedObjects.map((o) => `${o.file}#${o.documentIndex}`)));
  const revisionedConfig = index.objects.filter(
    (o) =>
      ISTIO_CONFIG_GROUPS.some((g) => o.apiVersion.startsWith(`${g}/`)) &&
      labelsOf(o.body)[REV_LABEL] &&
      !isControlPlaneOwned(o) &&
      !owned.has(`${o.file}#${o.documentIndex}`),
  );

  const installed = new Set(revisions.keys());
  const referenced = new Set<string>();
  for (const ns of namespaces) if (ns.revision) referenced.add(ns.revision);
  for (const t of tags) if (t.revision) referenced.add(t.revision);
  const serviceRevision = istiodService ? stringMap(getPath(istiodService.body, ['spec', 'selector']))[REV_LABEL] : undefined;
  if (serviceRevision) referenced.add(serviceRevision);
  for (const g of gateways) if (g.revision) referenced.add(g.revision);
  for (const release of helmGateways) {
    const rev = stringValue(release.values.revision);
    if (rev) referenced.add(tagTarget.get(rev) ?? rev);
  }
  referenced.delete('default');
  // Placeholders (`${rev}`, kpt's `MESH-REV`) are not revisions: never a revision to upgrade from.
  for (const r of [...referenced]) if (isPlaceholderRevision(r)) referenced.delete(r);
  const externalRevisions = [...referenced].filter((r) => !installed.has(r) && !tagTarget.has(r)).sort();

  const webhooksWithCaBundle = [...index.ofKind('MutatingWebhookConfiguration'), ...index.ofKind('ValidatingWebhookConfiguration')].filter((o) =>
    (Array.isArray(o.body.webhooks) ? o.body.webhooks : []).some((w) => asDict(asDict(w).clientConfig).caBundle),
  );

  return {
    revisions: [...revisions.values()],
    externalRevisions,
    tags,
    defaultValidator,
    deprecatedValidator,
    istiodService,
    nonRevisionInjector,
    namespaces,
    gateways,
    helmGateways,
    helmBase,
    workloads,
    revisionedConfig,
    argoApplications: index.ofKind('Application').filter((o) => o.apiVersion.startsWith('argoproj.io/')),
    webhooksWithCaBundle,
    operators: inClusterOperators,
  };
}

/**
 * The revision a value of `istio.io/rev` (or a Helm `revision`) selects: a tag's target (tag
 * MutatingWebhookConfigurations and Helm `revisionTags`), else the value itself.
 */
export function revisionSelectedBy(inventory: Pick<MeshInventory, 'tags' | 'revisions' | 'helmBase'>, value: string): string {
  const tag = inventory.tags.find((t) => t.tag === value && t.revision);
  if (tag) return tag.revision;
  const release = inventory.revisions.find((r) => r.name !== value && stringList(r.helm?.values.revisionTags).includes(value));
  if (release) return release.name;
  // The base chart's defaultRevision names what `default` serves when no tag says otherwise.
  const baseDefault = value === 'default' && inventory.helmBase ? stringValue(inventory.helmBase.values.defaultRevision) : null;
  return baseDefault && baseDefault !== 'default' ? baseDefault : value;
}

/** Throws when the repo holds nothing of a mesh at all. */
export function assertMeshFound(inventory: MeshInventory): void {
  if (inventory.revisions.length === 0 && inventory.externalRevisions.length === 0 && inventory.tags.length === 0) {
    throw new MeshNotFoundError(
      'no Istio control plane or revision-labelled namespace found: expected istiod-<revision> manifests, an IstioOperator with spec.revision, Helm istiod releases, or namespaces labelled istio.io/rev. Check --path.',
    );
  }
}

function discoverNamespaces(index: YamlIndex, tagTarget: ReadonlyMap<string, string>): MeshNamespace[] {
  const byName = new Map<string, IndexedObject[]>();
  for (const object of index.ofKind('Namespace')) {
    const list = byName.get(object.name) ?? [];
    list.push(object);
    byName.set(object.name, list);
  }
  return [...byName].map(([name, definitions]) => {
    // Resources first, then the kustomize patches that override their labels.
    const ordered = [...definitions.filter((d) => !d.isPatch), ...definitions.filter((d) => d.isPatch)];
    const labels = withJsonLabelOps(effectiveLabels(ordered), labelPatchesFor(index.kustomizations, name, { ...selectorSubjectOf(ordered), labels: effectiveLabels(ordered) }));
    const injection = injectionModeOf(labels);
    let revision: string | null = null;
    if (injection.mode === 'revision') revision = isPlaceholderRevision(injection.value) ? null : (tagTarget.get(injection.value) ?? injection.value);
    else if (injection.mode === 'injection-enabled') revision = tagTarget.get('default') ?? null;
    return {
      name,
      definitions: ordered,
      labels,
      injection,
      revision,
      hasBothLabels: labels[INJECTION_LABEL] !== undefined && labels[REV_LABEL] !== undefined,
    };
  });
}

/**
 * Labels as kustomize leaves them: resources first, then each patch in order; a patch's `key: null`
 * deletes the key, `$patch: replace` replaces the whole map, `$patch: delete` on the object drops it.
 */
function effectiveLabels(definitions: readonly IndexedObject[]): Record<string, string> {
  let labels: Record<string, string> = {};
  for (const definition of definitions) {
    if (definition.isPatch && (definition.body as { $patch?: unknown }).$patch === 'delete') return {};
    const layer = asDict(definition.body.metadata?.labels);
    if (definition.isPatch && layer.$patch === 'replace') labels = {};
    for (const [key, value] of Object.entries(layer)) {
      if (key === '$patch') continue;
      if (value === null && definition.isPatch) delete labels[key];
      else if (value !== null && value !== undefined) labels[key] = String(value);
    }
  }
  return labels;
}

/** `istio-injection` wins over `istio.io/rev` (Istio keeps it so for backward compatibility). */
export function injectionModeOf(labels: Readonly<Record<string, string>>): InjectionMode {
  const injection = labels[INJECTION_LABEL];
  if (injection === 'enabled') return { mode: 'injection-enabled' };
  if (injection === 'disabled') return { mode: 'disabled' };
  const rev = labels[REV_LABEL];
  return rev ? { mode: 'revision', value: rev } : { mode: 'none' };
}

/** The in-cluster operators in git (`istioctl operator init [--revision R]` output, or its Helm chart). */
function discoverOperators(index: YamlIndex): InClusterOperator[] {
  const deployments = index.ofKind('Deployment').filter((d) => {
    if (d.isPatch) return false;
    const { containers } = podTemplateOf(d.body);
    return /^istio-operator(-|$)/.test(d.name) && containers.some((c) => /\/operator:|^operator:/.test(stringValue(c.image) ?? '') || c.name === 'istio-operator');
  });
  return deployments.map((deployment) => {
    const { containers } = podTemplateOf(deployment.body);
    const container = containers.find((c) => c.name === 'istio-operator') ?? containers[0] ?? {};
    const env = Array.isArray(container.env) ? container.env.map(asDict) : [];
    // REVISION "" (or none, with an unsuffixed name) is the non-revisioned operator: it reconciles
    // every IstioOperator, revisioned ones included.
    const revisionEnv = env.find((e) => e.name === 'REVISION');
    const revision = revisionEnv ? stringValue(revisionEnv.value) : deployment.name.startsWith('istio-operator-') ? deployment.name.slice('istio-operator-'.length) : null;
    const image = stringValue(container.image);
    const objects = index.objects.filter((o) => !o.isPatch && o.kind !== 'Namespace' && o.name === deployment.name && (o.namespace === null || o.namespace === deployment.namespace));
    return { revision, deployment, objects, version: image ? versionFromImage(image) : null };
  });
}

/** A written-out proxy container (fixed image, `CA_ADDR`), or null for an injected gateway. */
function pinnedProxyOf(containers: ReadonlyArray<Readonly<Record<string, unknown>>>): Gateway['pinned'] {
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
function revisionOfIstiodService(address: string, service: IndexedObject | null): string | null {
  if (!/^istiod\.[a-z0-9-]+(\.svc)?(\.|:|$)/.test(address)) return null;
  const selected = service ? stringMap(getPath(service.body, ['spec', 'selector']))[REV_LABEL] : undefined;
  return selected ?? 'default';
}

function isGateway(template: ReturnType<typeof podTemplateOf>): boolean {
  const templates = template.annotations[INJECT_TEMPLATES_ANNOTATION] ?? '';
  if (templates.split(',').map((t) => t.trim()).includes('gateway')) return true;
  const istio = template.labels.istio ?? '';
  return /gateway$/.test(istio) && template.containers.some((c) => c.name === 'istio-proxy');
}

/** Objects a revision's control plane owns, by Istio's naming and labels. */
function ownedByRevision(index: YamlIndex, revision: string): IndexedObject[] {
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
    if (names.has(o.name) || (o.kind === 'IstioOperator' && o.name.startsWith('installed-state') && o.name.endsWith(`-${revision}`))) return true;
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
function ownedByNonRevisioned(index: YamlIndex): IndexedObject[] {
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
    return o.kind === 'EnvoyFilter' && o.namespace === ISTIO_SYSTEM && rev === 'default' && /^(tcp-)?(stats-filter|metadata-exchange)(-1\.\d+)?$/.test(o.name);
  });
}

/** Names of the EnvoyFilters istiod's chart renders per proxy minor and revision. */
function chartFilterName(name: string, revision: string): boolean {
  const suffix = `-${revision}`;
  if (!name.endsWith(suffix)) return false;
  return /^(tcp-)?(stats-filter|metadata-exchange|stackdriver-filter|stackdriver-sampling|wasm-stats-filter)(-1\.\d+)?$/.test(name.slice(0, -suffix.length));
}

function isControlPlaneOwned(object: IndexedObject): boolean {
  const labels = labelsOf(object.body);
  return Boolean(labels['operator.istio.io/component']) || labels.app === 'istiod' || labels.app === 'sidecar-injector';
}

/** An Argo CD Application or Flux HelmRelease of one of Istio's charts (`base`, `istiod`, `gateway`), with its values read; else null. */
export function toHelmRelease(object: IndexedObject, index?: YamlIndex): HelmRelease | null {
  if (object.kind === 'HelmRelease') {
    const chart = stringValue(getPath(object.body, ['spec', 'chart', 'spec', 'chart']));
    if (!isIstioChart(chart)) return null;
    const ownValues = asDict(getPath(object.body, ['spec', 'values']));
    const rawVersion = stringValue(getPath(object.body, ['spec', 'chart', 'spec', 'version']));
    // Flux post-build substitutions (`${istio_version}`) and valuesFrom ConfigMaps, as the cluster sees them.
    const resolved = index && rawVersion !== null ? resolveVariable(index, object.file, rawVersion) : null;
    const values = index ? mergeValues(valuesFromConfigMaps(index, object).values, asDict(resolveDeep(index, object.file, ownValues))) : ownValues;
    return {
      object,
      chart,
      values,
      valuesPath: ['spec', 'values'],
      valuesAreText: false,
      chartVersionPath: ['spec', 'chart', 'spec', 'version'],
      chartVersion: resolved ? resolved.value : rawVersion !== null && hasPlaceholder(rawVersion) ? null : rawVersion,
      chartVersionSubstitution: resolved?.substitution ?? null,
    };
  }
  if (!object.apiVersion.startsWith('argoproj.io/')) return null;
  const source = asDict(getPath(object.body, ['spec', 'source']));
  const chart = stringValue(source.chart);
  if (!isIstioChart(chart)) return null;
  const helm = asDict(source.helm);
  const text = typeof helm.values === 'string' ? helm.values : null;
  let values: Readonly<Record<string, unknown>> = asDict(helm.valuesObject);
  let valuesPath = ['spec', 'source', 'helm', 'valuesObject'];
  if (text !== null && helm.valuesObject === undefined) {
    values = parseValuesText(text);
    valuesPath = ['spec', 'source', 'helm', 'values'];
  }
  const parameters = (Array.isArray(helm.parameters) ? helm.parameters : []).map(asDict);
  const meshParameters = parameters.map((p) => stringValue(p.name) ?? '').filter((name) => MESH_VALUE.test(name));
  // Parameters win over valuesObject and values: the revision the cluster gets is theirs.
  const revisionParameter = parameters.find((p) => p.name === 'revision');
  if (revisionParameter) values = { ...values, revision: typeof revisionParameter.value === 'string' ? revisionParameter.value : '' };
  return {
    object,
    chart,
    values,
    valuesPath,
    valuesAreText: text !== null && helm.valuesObject === undefined,
    chartVersionPath: ['spec', 'source', 'targetRevision'],
    chartVersion: stringValue(source.targetRevision),
    ...(meshParameters.length > 0 ? { meshParameters } : {}),
  };
}

/** Helm `values` given as a string of YAML; unreadable values count as none. */
function parseValuesText(text: string): Readonly<Record<string, unknown>> {
  try {
    return asDict(loadValues(text));
  } catch {
    return {};
  }
}

function isIstioChart(chart: string | null): chart is 'base' | 'istiod' | 'gateway' {
  return chart === 'base' || chart === 'istiod' || chart === 'gateway';
}

function versionOf(revision: string): string | null {
  try {
    return parseRevision(revision).version;
  } catch {
    return null;
  }
}

export function stringValue(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
}

function numberValue(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

