import type { IndexedObject } from '../../model/objects.js';

/**
 * References from a twin kustomize patch to the old revision's per-revision objects. A patch of
 * `HorizontalPodAutoscaler istiod` says `scaleTargetRef: {kind: Deployment, name: istiod}`; its twin
 * for `istiod-<new>` must say `istiod-<new>`, or two autoscalers fight over the old Deployment. The
 * same holds for every field that names another object: `roleRef`, `subjects`, owner references,
 * `serviceAccountName`, a webhook's `service`, a volume's `configMap`/`secret`.
 */

/** `kind/name` of each old per-revision object → the new revision's name for it. */
export type Renames = ReadonlyMap<string, string>;

export function renamesOf(owned: readonly IndexedObject[], rename: (object: IndexedObject) => string): Renames {
  const out = new Map<string, string>();
  for (const o of owned) {
    const renamed = rename(o);
    if (renamed !== o.name) out.set(`${o.kind}/${o.name}`, renamed);
  }
  return out;
}

/** Fields that name an object of one kind, beside a `name` (or as a string of their own). */
const NAMED_FIELDS: Readonly<Record<string, string>> = { serviceAccountName: 'ServiceAccount', serviceAccount: 'ServiceAccount' };
const NAMED_PARENTS: Readonly<Record<string, { kind: string; key: string }>> = {
  // An autoscaler of istiod scales its Deployment; a patch may leave out the kind the base already has.
  scaleTargetRef: { kind: 'Deployment', key: 'name' },
  service: { kind: 'Service', key: 'name' },
  configMap: { kind: 'ConfigMap', key: 'name' },
  configMapRef: { kind: 'ConfigMap', key: 'name' },
  configMapKeyRef: { kind: 'ConfigMap', key: 'name' },
  secret: { kind: 'Secret', key: 'secretName' },
  secretRef: { kind: 'Secret', key: 'name' },
  secretKeyRef: { kind: 'Secret', key: 'name' },
};
/** Lists whose items' `name` is the item's own (a container, a volume), never a reference. */
const OWN_NAMES = new Set([
  'containers',
  'initContainers',
  'ephemeralContainers',
  'volumes',
  'volumeMounts',
  'env',
  'ports',
  'webhooks',
  'metrics',
  'rules',
]);
/** Maps whose values are labels, not names: `app: istiod` selects pods of both revisions' istiod. */
const LABEL_MAPS = new Set(['labels', 'matchLabels', 'selector', 'nodeSelector', 'annotations']);

/**
 * The body with every reference to a renamed object renamed (`metadata` is left to the caller).
 * `leftover` collects the paths of `name`-like fields that still name an old object after the
 * renaming and whose kind the bot cannot tell: the twin is then not written.
 */
export function renameReferences(body: unknown, renames: Renames, leftover: string[]): unknown {
  const names = new Set([...renames.keys()].map((k) => k.slice(k.indexOf('/') + 1)));
  const walk = (value: unknown, path: string, parentKey: string | null): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`, parentKey));
    if (typeof value !== 'object' || value === null) return value;
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const siblingKind = typeof record.kind === 'string' ? record.kind : null;
    for (const [key, v] of Object.entries(record)) {
      const at = path ? `${path}.${key}` : key;
      if (path === '' && key === 'metadata') {
        out[key] = v;
        continue;
      }
      if (
        LABEL_MAPS.has(key) &&
        typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.values(v).every((x) => typeof x !== 'object' || x === null)
      ) {
        out[key] = v;
        continue;
      }
      if (typeof v === 'string') {
        const parent = parentKey ? NAMED_PARENTS[parentKey] : undefined;
        const kind = NAMED_FIELDS[key] ?? (key === 'name' && siblingKind ? siblingKind : parent?.key === key ? parent.kind : null);
        const renamed = kind ? renames.get(`${kind}/${v}`) : undefined;
        if (renamed !== undefined) out[key] = renamed;
        else {
          out[key] = v;
          // A name of an old object in a field whose kind is unknown (or another kind's): the bot cannot tell whether it refers to it.
          if (
            kind === null &&
            !(key === 'name' && parentKey !== null && OWN_NAMES.has(parentKey)) &&
            (key === 'name' || key.endsWith('Name')) &&
            names.has(v)
          )
            leftover.push(at);
        }
        continue;
      }
      out[key] = walk(v, at, key);
    }
    return out;
  };
  return walk(body, '', null);
}
