import { ISTIO_SYSTEM } from '../kube.js';
import type { IndexedObject } from '../yaml-index.js';
import type { PhaseDraft, PlanContext } from './context.js';

/**
 * Phase 5: the old revision's control plane goes: its istiod Deployment/Service/HPA/PDB, RBAC,
 * ConfigMaps, per-revision webhooks, EnvoyFilters, `installed-state` record, and its
 * IstioOperator or Helm release. The Service `istiod`, tags and validators stay (they were moved).
 */
export function draftCleanup(ctx: PlanContext, stillReferenced: readonly string[]): PhaseDraft {
  const { from, to, installed, inventory } = ctx;
  const deletions: IndexedObject[] = [...(installed?.ownedObjects ?? [])];
  if (inventory.deprecatedValidator) deletions.push(inventory.deprecatedValidator);
  const manual: string[] = [];
  if (stillReferenced.length > 0) {
    ctx.warn({
      code: 'old-revision-still-referenced',
      message: `${from.name} is still referenced after the earlier phases (${stillReferenced.join('; ')}); do not merge cleanup until nothing uses it.`,
      file: null,
    });
  }
  if (!installed) {
    manual.push(
      `istioctl proxy-status | grep istiod-${from.name}   # must print nothing before you go on`,
      `istioctl uninstall --revision ${from.name} -y   # the default tag and validator already point at ${to.name}, so uninstall leaves them alone`,
    );
  } else if (installed.install === 'istio-operator') {
    manual.push(`istioctl operator remove --revision ${from.name}   # only if the in-cluster operator was installed per revision`);
  }
  return {
    id: 'cleanup',
    title: `Remove control plane ${from.name}`,
    why: `Deletes everything of ${from.name}: no namespace, gateway, tag, validator or Service uses it any more. Argo CD prunes the objects when this merges (the Application needs prune enabled).`,
    objects: [],
    deletions,
    manual,
    manualDone: installed !== null,
    blockedBy: stillReferenced,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 1,
    verify: [
      `istioctl proxy-status | grep -c istiod-${from.name}   # 0 before merging`,
      `kubectl get all,configmap,mutatingwebhookconfiguration,validatingwebhookconfiguration,hpa,pdb -A -l istio.io/rev=${from.name}   # nothing left`,
      `istioctl analyze -A   # no IST0139 (a webhook calling a missing Service)`,
      `kubectl -n ${ISTIO_SYSTEM} get pods -l app=istiod`,
    ],
    rollback: [`Revert this pull request: Argo CD re-creates ${from.name}; nothing points at it, so no pod moves back until you relabel.`],
  };
}
