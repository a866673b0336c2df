import { discoverMesh } from '../../src/core/discover.js';
import { toHelmRelease } from '../../src/core/helm-release-values.js';
import type { YamlIndex } from '../../src/core/repo-index.js';
import { buildYamlIndex } from '../../src/core/yaml-index.js';
import { asDict, getPath, labelsOf, podTemplateOf, stringMap, WORKLOAD_KINDS } from '../../src/model/kube.js';
import type { RepoSnapshot } from '../../src/model/snapshot.js';

/**
 * What the Istio Helm releases of a repo render for injection, as the istiod chart's templates do
 * (1.21/1.22 `mutatingwebhook.yaml`, gated by `global.operatorManageWebhooks`; `revision-tags.yaml`,
 * one configuration per `revisionTags` entry), plus the namespaces (Namespace objects and Argo CD
 * `managedNamespaceMetadata`) and the pods (workloads in git, gateway releases' pods).
 */
export interface RenderedMesh {
  readonly objects: Array<{ kind: string; metadata: { name: string; labels?: Record<string, string> }; webhooks?: unknown[] }>;
  readonly pods: Array<{ name: string; namespace: string; labels: Record<string, string> }>;
  /** istiod releases as rendered: name, revision ("" for none), tags, injector rendered. */
  readonly releases: Array<{ name: string; revision: string; tags: string[]; injector: boolean }>;
}

const NOT_FALSE = { key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] };

function webhook(prefix: string, service: string, namespaceSelector: unknown, objectSelector: unknown) {
  return {
    name: `${prefix}sidecar-injector.istio.io`,
    clientConfig: { service: { name: service, namespace: 'istio-system' } },
    namespaceSelector,
    objectSelector,
  };
}

function injectorWebhooks(revision: string, service: string, selectRevision: string, defaultHooks: boolean) {
  const hooks = [
    webhook(
      'rev.namespace.',
      service,
      {
        matchExpressions: [
          { key: 'istio.io/rev', operator: 'In', values: [selectRevision] },
          { key: 'istio-injection', operator: 'DoesNotExist' },
        ],
      },
      { matchExpressions: [NOT_FALSE] },
    ),
    webhook(
      'rev.object.',
      service,
      {
        matchExpressions: [
          { key: 'istio.io/rev', operator: 'DoesNotExist' },
          { key: 'istio-injection', operator: 'DoesNotExist' },
        ],
      },
      { matchExpressions: [NOT_FALSE, { key: 'istio.io/rev', operator: 'In', values: [selectRevision] }] },
    ),
  ];
  if (defaultHooks) {
    hooks.push(
      webhook(
        'namespace.',
        service,
        { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
        { matchExpressions: [NOT_FALSE] },
      ),
      webhook(
        'object.',
        service,
        {
          matchExpressions: [
            { key: 'istio-injection', operator: 'DoesNotExist' },
            { key: 'istio.io/rev', operator: 'DoesNotExist' },
          ],
        },
        {
          matchExpressions: [
            { key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] },
            { key: 'istio.io/rev', operator: 'DoesNotExist' },
          ],
        },
      ),
    );
  }
  void revision;
  return hooks;
}

/** `index`: the repo as read, e.g. with the Applications a local chart renders (sources/helm-app-of-apps.ts). */
export function renderHelmMesh(repo: RepoSnapshot, index: YamlIndex = buildYamlIndex(repo)): RenderedMesh {
  const inventory = discoverMesh(index);
  const releases = [...index.ofKind('Application'), ...index.ofKind('HelmRelease')]
    .map((o) => toHelmRelease(o, index))
    .filter((r) => r !== null);
  const objects: RenderedMesh['objects'] = [];
  const rendered: RenderedMesh['releases'] = [];
  for (const release of releases.filter((r) => r.chart === 'istiod')) {
    const revision = typeof release.values.revision === 'string' ? release.values.revision : '';
    const service = revision ? `istiod-${revision}` : 'istiod';
    const tags = Array.isArray(release.values.revisionTags) ? (release.values.revisionTags as string[]) : [];
    const injector = asDict(release.values.global).operatorManageWebhooks !== true;
    rendered.push({ name: release.object.name, revision, tags, injector });
    if (injector) {
      objects.push({
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: revision ? `istio-sidecar-injector-${revision}` : 'istio-sidecar-injector' },
        webhooks: injectorWebhooks(revision, service, revision || 'default', revision === ''),
      });
    }
    for (const tag of tags) {
      objects.push({
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: `istio-revision-tag-${tag}`, labels: { 'istio.io/tag': tag } },
        webhooks: injectorWebhooks(revision, service, tag, tag === 'default'),
      });
    }
  }
  const namespaces = new Map<string, Record<string, string>>();
  for (const ns of index.ofKind('Namespace')) namespaces.set(ns.name, { ...(namespaces.get(ns.name) ?? {}), ...labelsOf(ns.body) });
  for (const app of index.ofKind('Application')) {
    const labels = stringMap(getPath(app.body, ['spec', 'syncPolicy', 'managedNamespaceMetadata', 'labels']));
    const destination = getPath(app.body, ['spec', 'destination', 'namespace']);
    if (typeof destination === 'string' && Object.keys(labels).length > 0)
      namespaces.set(destination, { ...(namespaces.get(destination) ?? {}), ...labels });
  }
  for (const [name, labels] of namespaces) objects.push({ kind: 'Namespace', metadata: { name, labels } });
  const pods: RenderedMesh['pods'] = [];
  for (const kind of WORKLOAD_KINDS) {
    for (const o of index.ofKind(kind))
      if (!o.isPatch && o.namespace)
        pods.push({ name: `${o.namespace}/${o.name}`, namespace: o.namespace, labels: { ...podTemplateOf(o.body).labels } });
  }
  for (const gateway of inventory.helmGateways) {
    const namespace = String(
      getPath(gateway.object.body, ['spec', 'destination', 'namespace']) ??
        getPath(gateway.object.body, ['spec', 'targetNamespace']) ??
        gateway.object.namespace,
    );
    const revision = typeof gateway.values.revision === 'string' ? gateway.values.revision : null;
    pods.push({
      name: `${namespace}/${gateway.object.name}`,
      namespace,
      labels: { 'sidecar.istio.io/inject': 'true', ...(revision ? { 'istio.io/rev': revision } : {}) },
    });
  }
  return { objects, pods, releases: rendered };
}
