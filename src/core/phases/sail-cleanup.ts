import { DesiredObject } from '../../constructs/desired-object.js';
import { describe as describeObject } from '../../model/kube.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { PhaseDraft } from './context.js';
import { idOf, pinnedToOld, type SailContext, sailScope } from './sail-context.js';

/**
 * cleanup: the IstioCNI follows the control plane; the operator prunes the old IstioRevision. It is
 * blocked while something the earlier phases did not move still names an old revision.
 */
export function draftSailCleanup(ctx: SailContext, movedObjects: readonly PlacedObject[]): PhaseDraft {
  const { plane, inventory, to, oldNames } = ctx;
  const cl = sailScope(ctx, 'cleanup');
  const cniObjects: PlacedObject[] = plane.cni.map((c) => ({
    desired: new DesiredObject(cl, idOf('IstioCNI', c.name), {
      apiVersion: c.apiVersion,
      kind: 'IstioCNI',
      name: c.name,
      body: { spec: { version: `v${ctx.version}` } },
      mode: { kind: 'patch' },
    }),
    targets: [c],
  }));
  const moved = new Set(movedObjects.flatMap((o) => o.targets.map((t) => `${t.file}#${t.documentIndex}`)));
  const isMoved = (o: { file: string; documentIndex: number }) => moved.has(`${o.file}#${o.documentIndex}`);
  const blockedBy: string[] = [];
  for (const ns of inventory.namespaces) if (pinnedToOld(ctx, ns) && !ns.definitions.some(isMoved)) blockedBy.push(`namespace ${ns.name}`);
  for (const w of [...inventory.workloads, ...inventory.gateways])
    if (w.podRevision && oldNames.has(w.podRevision) && !w.optedOut && !isMoved(w.object))
      blockedBy.push(`pod label on ${describeObject(w.object)}`);
  for (const t of plane.tags)
    if (t.targetKind === 'IstioRevision' && oldNames.has(t.targetName))
      blockedBy.push(`IstioRevisionTag ${t.tag} (targetRef IstioRevision ${t.targetName}: point it at the Istio ${plane.name})`);
  const grace = plane.gracePeriodSeconds ?? 30;
  const old = [...oldNames];
  return {
    id: 'cleanup',
    title: plane.cni.length
      ? `Upgrade IstioCNI to v${to.version}; the operator prunes ${old.join(', ') || 'the old revision'}`
      : `Check that the operator pruned ${old.join(', ') || 'the old revision'}`,
    why: `Nothing of the old control plane is in git: ${
      plane.strategy === 'RevisionBased'
        ? `the Sail Operator deletes IstioRevision ${old.join(', ') || '(the old one)'} ${grace} s (inactiveRevisionDeletionGracePeriodSeconds) after nothing uses it any more (InUse false: no namespace, pod or tag names it)`
        : 'InPlace upgraded istiod where it runs'
    }.${plane.cni.length ? ` ${plane.cni.map((c) => `IstioCNI ${c.name}`).join(', ')} go${plane.cni.length > 1 ? '' : 'es'} to v${to.version} now: Sail upgrades the control plane before the CNI, and a CNI is compatible with its own minor and the next control-plane minor only, so it waits until no older control plane is in use.` : ''}`,
    objects: cniObjects,
    deletions: [],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: Math.max(1, Math.ceil(grace / 60)),
    beforeMerge: old.length
      ? [
          `kubectl get istiorevision ${old.join(' ')} -o 'custom-columns=NAME:.metadata.name,IN-USE:.status.conditions[?(@.type=="InUse")].status'   # IN-USE: expect False (or NotFound)`,
        ]
      : [],
    verify: [
      `kubectl get istiorevisions   # only ${to.name}${old.length ? ` (${old.join(', ')} deleted after ${grace} s unused)` : ''}`,
      ...(plane.cni.length ? [`kubectl wait istiocni/${plane.cni[0]!.name} --for=condition=Ready --timeout=5m`] : []),
      `istioctl proxy-status   # every proxy at ${to.version}`,
    ],
    rollback: plane.cni.length
      ? [
          `Revert this pull request: the IstioCNI goes back to ${plane.cni.map((c) => String((c.body.spec as { version?: unknown } | undefined)?.version ?? '')).join(', ')}.`,
        ]
      : [],
    blockedBy,
  };
}
