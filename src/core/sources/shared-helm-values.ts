import { asDict } from '../../model/kube.js';
import type { HelmRelease } from '../inventory.js';

/**
 * Values of an istiod release that come from a shared source rather than its own inline values
 * (a Flux `valuesFrom` ConfigMap, merged under `spec.values`), and that the new revision's copy
 * must not inherit: `revisionTags`. The copy keeps the `valuesFrom` reference (the ConfigMap may
 * feed other releases, and is never edited for one of them), so an inherited `revisionTags:
 * [default]` would make both releases render the `istio-revision-tag-default` webhook. The copy
 * overrides it inline (`[]`: inline values win over `valuesFrom`); the default-revision phase
 * later writes `[default]` on the copy and `[]` on the old release, inline as well.
 */
export function overridesOfSharedValues(release: HelmRelease, ownValues: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const inherited = asDict(release.values).revisionTags;
  if (ownValues.revisionTags !== undefined || !Array.isArray(inherited) || inherited.length === 0) return {};
  return { revisionTags: [] };
}
