import { MeshNotFoundError, said, settingHint } from '../model/errors.js';
import {
  asDict,
  getPath,
  INJECT_LABEL,
  ISTIO_SYSTEM,
  labelsOf,
  podTemplateOf,
  RESTART_ANNOTATION,
  REV_LABEL,
  replicasOf,
  stringMap,
  TAG_LABEL,
  WORKLOAD_KINDS,
} from '../model/kube.js';
import {
  discoverOperators,
  isControlPlaneOwned,
  isGateway,
  ownedByNonRevisioned,
  ownedByRevision,
  pinnedProxyOf,
  revisionOfIstiodAddress,
  revisionOfIstiodService,
  versionOf,
} from './control-plane-objects.js';
import { numberValue, stringList, stringValue, toHelmRelease } from './helm-release-values.js';
import type { Gateway, HelmRelease, InstalledRevision, MeshInventory, RevisionTag, Workload } from './inventory.js';
import { discoverNamespaces } from './namespaces.js';
import type { YamlIndex } from './repo-index.js';
import { parseVersion, versionFromImage } from './revision.js';
import { generatedApplications } from './sources/applicationset.js';
import { hasPlaceholder } from './sources/flux-substitution.js';
import { nonRevisionedIopRevision, nonRevisionedIstioOperators } from './sources/operator-nonrevisioned.js';
import { isPlaceholderRevision } from './sources/placeholders.js';
import { discoverSail, sailTagTargets } from './sources/sail.js';

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
    .find(
      (o) => !o.isPatch && o.namespace === ISTIO_SYSTEM && o.name === 'istiod' && (labelsOf(o.body)[REV_LABEL] ?? 'default') === 'default',
    );
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
    .filter(
      (o) =>
        o === nonRevisionedIstiod ||
        (o.namespace === ISTIO_SYSTEM &&
          /^istiod(-|$)/.test(o.name) &&
          labelsOf(o.body)[REV_LABEL] &&
          labelsOf(o.body)[REV_LABEL] !== 'default'),
    );
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
  if (nonRevisionedIop && !revisions.has('default'))
    revisions.set('default', nonRevisionedIopRevision(nonRevisionedIop, inClusterOperators));
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
    const image = podTemplateOf(deployment.body)
      .containers.map((c) => stringValue(c.image))
      .find(Boolean);
    const owned = name === 'default' ? ownedByNonRevisioned(index) : ownedByRevision(index, name);
    const hpaMin = owned
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((o) => numberValue(getPath(o.body, ['spec', 'minReplicas'])) ?? 1);
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
  const istiodNames = new Set(
    [...istiodDeployments, ...inClusterOperators.map((o) => o.deployment)].map((d) => `${d.namespace}/${d.name}`),
  );
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
        const pinnedRevision = pinned?.caAddress
          ? (revisionOfIstiodAddress(pinned.caAddress) ?? revisionOfIstiodService(pinned.caAddress, istiodService))
          : null;
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

  const webhooksWithCaBundle = [...index.ofKind('MutatingWebhookConfiguration'), ...index.ofKind('ValidatingWebhookConfiguration')].filter(
    (o) => (Array.isArray(o.body.webhooks) ? o.body.webhooks : []).some((w) => asDict(asDict(w).clientConfig).caBundle),
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
      said`no Istio control plane or revision-labelled namespace found: expected istiod-<revision> manifests, an IstioOperator with spec.revision, Helm istiod releases, or namespaces labelled istio.io/rev. Check ${settingHint('path')}.`,
    );
  }
}
