/**
 * The injector webhooks a cluster has outside git (asmcli, managed Cloud Service Mesh, istioctl
 * tag set), shaped as Istio's charts render them, so `injectorsFor` can judge a repo whose
 * injectors are not in it.
 */
export function revisionInjector(revision: string): Record<string, unknown> {
  return {
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: `istio-sidecar-injector-${revision}`, labels: { 'istio.io/rev': revision } },
    webhooks: [
      {
        name: 'rev.namespace.sidecar-injector.istio.io',
        clientConfig: { service: { name: `istiod-${revision}` } },
        namespaceSelector: {
          matchExpressions: [
            { key: 'istio.io/rev', operator: 'In', values: [revision] },
            { key: 'istio-injection', operator: 'DoesNotExist' },
          ],
        },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
      },
      {
        name: 'rev.object.sidecar-injector.istio.io',
        clientConfig: { service: { name: `istiod-${revision}` } },
        namespaceSelector: {
          matchExpressions: [
            { key: 'istio.io/rev', operator: 'DoesNotExist' },
            { key: 'istio-injection', operator: 'DoesNotExist' },
          ],
        },
        objectSelector: {
          matchExpressions: [
            { key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] },
            { key: 'istio.io/rev', operator: 'In', values: [revision] },
          ],
        },
      },
    ],
  };
}

/** `istioctl tag set default --revision <revision>`: istio-injection=enabled and istio.io/rev=default. */
export function defaultTag(revision: string): Record<string, unknown> {
  const service = { service: { name: `istiod-${revision}` } };
  return {
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'istio-revision-tag-default', labels: { 'istio.io/rev': revision, 'istio.io/tag': 'default' } },
    webhooks: [
      {
        name: 'rev.namespace.sidecar-injector.istio.io',
        clientConfig: service,
        namespaceSelector: {
          matchExpressions: [
            { key: 'istio.io/rev', operator: 'In', values: ['default'] },
            { key: 'istio-injection', operator: 'DoesNotExist' },
          ],
        },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
      },
      {
        name: 'namespace.sidecar-injector.istio.io',
        clientConfig: service,
        namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
      },
    ],
  };
}
