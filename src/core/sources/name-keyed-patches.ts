import { describe } from '../kube.js';
import type { PlanContext } from '../phases/context.js';
import { istiodServiceFor } from '../phases/naming.js';

/**
 * Kustomize patches keyed by the name of an old-revision object (`Deployment istiod`, `ConfigMap
 * istio`): cleanup removes them with the object, but nothing carries them over to the new
 * revision's objects (`istiod-<new>`, `istio-<new>`), whose names they do not match. Until twin
 * patches are planned, say so clearly, once per patch.
 */
export function warnNameKeyedPatches(ctx: PlanContext): void {
  const owned = ctx.installed?.ownedObjects ?? [];
  if (owned.length === 0) return;
  const key = (o: { kind: string; namespace: string | null; name: string }) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;
  const ownedKeys = new Set(owned.map(key));
  for (const patch of ctx.index.objects.filter((o) => o.isPatch && ownedKeys.has(key(o)))) {
    const twin = patch.kind === 'Deployment' ? istiodServiceFor(ctx.to.name) : `${patch.name}-${ctx.to.name}`;
    ctx.warn({
      code: 'patch-not-carried-over',
      message: `${patch.file} patches ${describe(patch)} of ${ctx.from.name} by name; the new revision's object (${patch.kind} ${twin}) does not match it, so ${ctx.to.name} runs without this customisation, and cleanup removes the patch with ${ctx.from.name}. Add the same patch for ${twin} before the control-plane phase merges.`,
      file: patch.file,
    });
  }
}
