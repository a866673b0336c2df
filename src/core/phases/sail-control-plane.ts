import { DesiredObject } from '../../constructs/desired-object.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { PhaseDraft } from './context.js';
import { idOf, type SailContext, sailScope } from './sail-context.js';

/** control-plane: spec.version of the Istio. The IstioCNI follows at cleanup (Sail: the control plane before the CNI). */
export function draftSailControlPlane(ctx: SailContext): PhaseDraft {
  const { plane, from, to } = ctx;
  const cp = sailScope(ctx, 'control-plane');
  const cpObjects: PlacedObject[] = [
    {
      desired: new DesiredObject(cp, idOf('Istio', plane.name), {
        apiVersion: plane.istio.apiVersion,
        kind: 'Istio',
        name: plane.name,
        body: { spec: { version: `v${ctx.version}` } },
        mode: { kind: 'patch' },
      }),
      targets: [plane.istio],
    },
  ];
  const followingTags = plane.tags.filter((t) => t.targetKind === 'Istio').map((t) => t.tag);
  return {
    id: 'control-plane',
    title: `Install ${to.name} (Istio ${plane.name} spec.version v${to.version})`,
    why:
      plane.strategy === 'RevisionBased'
        ? `Sets spec.version of the Sail Operator's Istio ${plane.name} to v${to.version}. The operator creates IstioRevision ${to.name} (istiod-${to.name}) beside ${from?.name ?? 'the running one'} and makes it the active revision${followingTags.length ? `; the IstioRevisionTag${followingTags.length > 1 ? 's' : ''} ${followingTags.join(', ')} follow${followingTags.length > 1 ? '' : 's'} it at once, so new pods in namespaces on ${followingTags.includes('default') ? 'istio-injection=enabled or ' : ''}those tags get the ${to.version} proxy from this merge on` : ''}. Running pods keep their proxy and their istiod until they restart (the operator restarts nothing): the next phases restart them. There is no default-revision phase: the tags follow the Istio.`
        : `Sets spec.version of the Sail Operator's Istio ${plane.name} (InPlace) to v${to.version}. The operator upgrades istiod ${plane.name} in place: there is no canary revision beside the old one, so the gateways and workloads phases only restart pods onto the ${to.version} proxy (the operator restarts nothing), and cleanup has nothing to remove.`,
    objects: cpObjects,
    deletions: [],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 5,
    beforeMerge: [`kubectl get istio ${plane.name} -o jsonpath='{.status.state}'   # expect Healthy`],
    verify: [
      `kubectl wait istio/${plane.name} --for=condition=Ready --timeout=5m`,
      `kubectl get istio ${plane.name} -o jsonpath='{.status.activeRevisionName}'   # expect ${to.name}`,
      `kubectl get istiorevisions   # ${plane.strategy === 'RevisionBased' ? `${from?.name ?? 'the old revision'} and ${to.name}, both Ready` : `${to.name} at v${to.version}`}`,
      ...(plane.tags.length ? ['kubectl get istiorevisiontags   # REVISION column'] : []),
    ],
    rollback: [
      `Revert this pull request: spec.version goes back to ${plane.versionText}${plane.strategy === 'RevisionBased' ? ` and ${from?.name ?? 'the old revision'} is active again (the operator prunes ${to.name} once unused)` : ' and istiod is downgraded in place'}.`,
    ],
  };
}
