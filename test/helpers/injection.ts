/**
 * Which injectors a pod would be sent to, computed from rendered objects the way the API server
 * picks mutating webhooks: a webhook is called when its namespaceSelector matches the namespace's
 * labels and its objectSelector the pod's.
 */
type Labels = Readonly<Record<string, string>>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}
interface KubeDoc {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels };
  webhooks?: Array<{
    name: string;
    namespaceSelector?: Selector;
    objectSelector?: Selector;
    clientConfig?: { service?: { name?: string } };
  }>;
  spec?: { template?: { metadata?: { labels?: Labels } } };
}

export function selectorMatches(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const ok =
      e.operator === 'In'
        ? has && (e.values ?? []).includes(labels[e.key]!)
        : e.operator === 'NotIn'
          ? !has || !(e.values ?? []).includes(labels[e.key]!)
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** The injector webhooks (`*.sidecar-injector.istio.io`) a pod with `podLabels` in `namespace` goes to: `<MWC>/<webhook> -> <service>`. */
export function injectorsFor(objects: readonly KubeDoc[], namespace: string, podLabels: Labels): string[] {
  const ns = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === namespace);
  const nsLabels = { 'kubernetes.io/metadata.name': namespace, ...(ns?.metadata.labels ?? {}) };
  const hits: string[] = [];
  for (const mwc of objects.filter((o) => o.kind === 'MutatingWebhookConfiguration')) {
    for (const w of mwc.webhooks ?? []) {
      if (!w.name.endsWith('sidecar-injector.istio.io')) continue;
      if (selectorMatches(w.namespaceSelector, nsLabels) && selectorMatches(w.objectSelector, podLabels))
        hits.push(`${mwc.metadata.name}/${w.name} -> ${w.clientConfig?.service?.name ?? '?'}`);
    }
  }
  return hits;
}
