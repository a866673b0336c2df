import { ControlPlaneScale, SCALED_FROM_ANNOTATION } from '../../constructs/control-plane-scale.js';
import { asDict, getPath, ISTIO_SYSTEM } from '../../model/kube.js';
import type { MergePatch } from '../../model/merge-patch.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { InstalledRevision } from '../inventory.js';
import type { DraftScope, PhaseDraft, PlanContext } from './context.js';
import { countProxiesOn } from './naming.js';

interface ScaleTarget {
  readonly path: readonly string[];
  readonly current: MergePatch;
  readonly zero: MergePatch;
}

/** Where each install style keeps istiod's replica settings. */
function scaleTarget(installed: InstalledRevision): ScaleTarget | null {
  const object = installed.installer;
  if (!object) return null;
  if (installed.install === 'manifests') {
    return { path: ['spec'], current: { replicas: Number(getPath(object.body, ['spec', 'replicas']) ?? 1) }, zero: { replicas: 0 } };
  }
  if (installed.install === 'istio-operator') {
    const path = ['spec', 'components', 'pilot', 'k8s'];
    return { path, current: { replicaCount: Number(asDict(getPath(object.body, path)).replicaCount ?? 1) }, zero: { replicaCount: 0 } };
  }
  if (installed.helm) {
    const pilot = asDict(installed.helm.values.pilot);
    const path = [...installed.helm.valuesPath, 'pilot'];
    if (installed.helm.valuesAreText) return null;
    return {
      path,
      current: {
        autoscaleEnabled: pilot.autoscaleEnabled === undefined ? true : Boolean(pilot.autoscaleEnabled),
        replicaCount: Number(pilot.replicaCount ?? 1),
      },
      zero: { autoscaleEnabled: false, replicaCount: 0 },
    };
  }
  return null;
}

/**
 * `cleanupMode: scale-then-delete`: the old istiod is scaled to zero first (a reversible PR), and
 * deleted by the cleanup phase only after a grace period.
 */
export function draftScaleDown(ctx: PlanContext, s: DraftScope, blockedBy: readonly string[]): PhaseDraft {
  const { from, installed } = ctx;
  const target = installed ? scaleTarget(installed) : null;
  const objects: PlacedObject[] = [];
  const manual: string[] = [];
  if (installed?.installer && target) {
    const object = installed.installer;
    const already = object.body.metadata.annotations?.[SCALED_FROM_ANNOTATION];
    objects.push({
      desired: new ControlPlaneScale(s.scope, s.id(object.kind, object.name), {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.name,
        namespace: object.namespace,
        path: target.path,
        values: target.zero,
        scaledFrom: already ?? JSON.stringify(target.current),
      }),
      targets: [object],
    });
  } else {
    manual.push(`kubectl -n ${ISTIO_SYSTEM} scale deployment/istiod-${from.name} --replicas=0   # reversible: scale it back up to undo`);
  }
  return {
    id: s.phaseId,
    title: `Scale control plane ${from.name} to zero`,
    why: `Stops istiod ${from.name} without deleting it: nothing uses it any more, and if something still did, scaling it back up undoes this at once. The cleanup phase deletes it after the grace period.`,
    objects,
    deletions: [],
    manual,
    manualDone: objects.length > 0,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 1,
    // Merging stops the old istiod: a proxy still connected to it would lose its control plane.
    beforeMerge: [`${countProxiesOn(from.name, ctx.to.name)}   # must print 0`],
    verify: [`kubectl -n ${ISTIO_SYSTEM} get deployment istiod-${from.name}   # 0/0 ready`, 'istioctl analyze -A'],
    rollback: [`Revert this pull request: istiod ${from.name} scales back up.`],
    blockedBy,
  };
}

/** Rollback after a scale-down: the old istiod comes back to the replicas it had. */
export function draftScaleUp(ctx: PlanContext, s: DraftScope): PhaseDraft | null {
  const restored = ctx.inventory.revisions.find((r) => r.name === ctx.to.name);
  const object = restored?.installer;
  const before = object?.body.metadata.annotations?.[SCALED_FROM_ANNOTATION];
  const target = restored ? scaleTarget(restored) : null;
  if (!object || !before || !target) return null;
  let values: MergePatch;
  try {
    values = JSON.parse(before) as MergePatch;
  } catch {
    return null;
  }
  return {
    id: s.phaseId,
    title: `Scale control plane ${ctx.to.name} back up`,
    why: `istiod ${ctx.to.name} was scaled to zero by the upgrade; it comes back (${before}) before anything moves back to it.`,
    objects: [
      {
        desired: new ControlPlaneScale(s.scope, s.id(object.kind, object.name), {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.name,
          namespace: object.namespace,
          path: target.path,
          values,
          scaledFrom: null,
        }),
        targets: [object],
      },
    ],
    deletions: [],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 5,
    verify: [`kubectl -n ${ISTIO_SYSTEM} rollout status deployment/istiod-${ctx.to.name}`],
    rollback: [],
  };
}
