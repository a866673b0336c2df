import { asDict, INJECTION_LABEL, REV_LABEL } from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import type { InjectionMode, MeshNamespace } from './inventory.js';
import type { YamlIndex } from './repo-index.js';
import { labelPatchesFor, selectorSubjectOf, withJsonLabelOps } from './sources/json-patches.js';
import { isPlaceholderRevision } from './sources/placeholders.js';

export function discoverNamespaces(index: YamlIndex, tagTarget: ReadonlyMap<string, string>): MeshNamespace[] {
  const byName = new Map<string, IndexedObject[]>();
  for (const object of index.ofKind('Namespace')) {
    const list = byName.get(object.name) ?? [];
    list.push(object);
    byName.set(object.name, list);
  }
  return [...byName].map(([name, definitions]) => {
    // Resources first, then the kustomize patches that override their labels.
    const ordered = [...definitions.filter((d) => !d.isPatch), ...definitions.filter((d) => d.isPatch)];
    const labels = withJsonLabelOps(
      effectiveLabels(ordered),
      labelPatchesFor(index.kustomizations, name, { ...selectorSubjectOf(ordered), labels: effectiveLabels(ordered) }),
    );
    const injection = injectionModeOf(labels);
    let revision: string | null = null;
    if (injection.mode === 'revision')
      revision = isPlaceholderRevision(injection.value) ? null : (tagTarget.get(injection.value) ?? injection.value);
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
function injectionModeOf(labels: Readonly<Record<string, string>>): InjectionMode {
  const injection = labels[INJECTION_LABEL];
  if (injection === 'enabled') return { mode: 'injection-enabled' };
  if (injection === 'disabled') return { mode: 'disabled' };
  const rev = labels[REV_LABEL];
  return rev ? { mode: 'revision', value: rev } : { mode: 'none' };
}
