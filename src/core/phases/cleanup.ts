import { ISTIO_SYSTEM } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { InClusterOperator, MeshInventory } from '../inventory.js';
import { removeOldIopJsonPatches } from '../sources/iop-name-keyed-patches.js';
import type { PhaseDraft, PlanContext } from './context.js';
import { helmNonRevisionedCleanupChecks } from './helm-nonrevisioned.js';
import { countProxiesOn } from './naming.js';
import { firstCanaryCleanup } from './operator-first-canary.js';

/**
 * Phase 5: the old revision's control plane goes: its istiod Deployment/Service/HPA/PDB, RBAC,
 * ConfigMaps, per-revision webhooks, EnvoyFilters, `installed-state` record, and its
 * IstioOperator or Helm release. The Service `istiod`, tags and validators stay (they were moved).
 */
export function draftCleanup(ctx: PlanContext, stillReferenced: readonly string[]): PhaseDraft {
  const { from, to, installed, inventory } = ctx;
  const deletions: IndexedObject[] = [...(installed?.ownedObjects ?? [])];
  // Name-keyed kustomize patches of what goes (a Deployment istiod resized for prod) go with it:
  // kustomize refuses to build a patch whose target is gone.
  if (from.name === 'default' || installed?.install === 'manifests' || installed?.install === 'istio-operator') {
    const gone = new Set(deletions.map((o) => `${o.kind}|${o.namespace ?? ''}|${o.name}`));
    deletions.push(...ctx.index.objects.filter((o) => o.isPatch && gone.has(`${o.kind}|${o.namespace ?? ''}|${o.name}`)));
  }
  if (inventory.deprecatedValidator) deletions.push(inventory.deprecatedValidator);
  const manual: string[] = [];
  const firstCanary = firstCanaryCleanup(ctx);
  deletions.push(...firstCanary.deletions);
  manual.push(...firstCanary.manual);
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
  } else if (
    installed.install === 'istio-operator' &&
    installed.name !== 'default' &&
    !installed.operator &&
    !inventory.operators.some((o) => o.revision === null) &&
    installed.installer
  ) {
    // The operator removes its finalizer from the IstioOperator (and istiod with it): removing the
    // operator first would leave both stuck.
    manual.push(
      `kubectl -n ${installed.installer.namespace ?? ISTIO_SYSTEM} wait --for=delete istiooperator/${installed.installer.name} --timeout=10m   # after Argo CD has pruned it; operator ${from.name} removes its finalizer`,
      `istioctl operator remove --revision ${from.name}   # only once the IstioOperator above is gone`,
    );
  }
  const helm = helmNonRevisionedCleanupChecks(ctx);
  return {
    id: 'cleanup',
    title: `Remove control plane ${from.name}`,
    why:
      helm.why ??
      `Deletes everything of ${from.name}: no namespace, gateway, tag, validator or Service uses it any more. Argo CD prunes the objects when this merges (the Application needs prune enabled).`,
    objects: [],
    deletions,
    rawFiles: removeOldIopJsonPatches(ctx),
    manual,
    manualDone: installed !== null && manual.length === 0,
    manualResult: 'cluster',
    blockedBy: stillReferenced,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 1,
    // Merging deletes the old istiod: a proxy still connected to it would lose its control plane.
    beforeMerge: [`${countProxiesOn(from.name, to.name)}   # must print 0`, ...helm.beforeMerge],
    verify: [
      `kubectl get all,configmap,mutatingwebhookconfiguration,validatingwebhookconfiguration,hpa,pdb -A -l istio.io/rev=${from.name}   # nothing left`,
      `istioctl analyze -A   # no IST0139 (a webhook calling a missing Service)`,
      `kubectl -n ${ISTIO_SYSTEM} get pods -l app=istiod`,
    ],
    rollback: [`Revert this pull request: Argo CD re-creates ${from.name}; nothing points at it, so no pod moves back until you relabel.`],
  };
}

/**
 * After cleanup (with the in-cluster operator in git): the old revision's operator goes, in a pull
 * request of its own. It must outlive its IstioOperator, whose finalizer it removes while deleting
 * istiod; pruned together, the IstioOperator would hang in Terminating with istiod still running.
 */
export function draftOperatorCleanup(ctx: PlanContext): PhaseDraft | null {
  const { from, installed } = ctx;
  const operator = ctx.inventory.operators.find((o) => o.revision === from.name);
  if (!operator) return null;
  return operatorCleanupDraft(operator, from.name, installed?.install === 'istio-operator' ? installed.installer : null);
}

/**
 * The same phase once cleanup is merged: the old IstioOperator is gone from the repo, its operator
 * is not. Null when no operator of another revision than `target` is left.
 */
export function draftLeftoverOperatorCleanup(inventory: MeshInventory, target: string): PhaseDraft | null {
  const operator = inventory.operators.find(
    (o) => o.revision !== null && o.revision !== target && !inventory.revisions.some((r) => r.name === o.revision),
  );
  return operator ? operatorCleanupDraft(operator, operator.revision!, null) : null;
}

function operatorCleanupDraft(operator: InClusterOperator, revision: string, iop: IndexedObject | null): PhaseDraft {
  const iopName = iop?.name ?? `<the IstioOperator of ${revision}>`;
  return {
    id: 'operator-cleanup',
    title: `Remove the ${revision} operator`,
    why: `Deletes the in-cluster operator of ${revision} (${operator.objects.map((o) => o.kind).join(', ')}). It comes after cleanup because it is the operator that removes the IstioOperator's finalizer, and istiod ${revision} with it.`,
    objects: [],
    deletions: [...operator.objects],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 1,
    verify: [`kubectl -n ${operator.deployment.namespace ?? 'istio-operator'} get deployment ${operator.deployment.name}   # NotFound`],
    beforeMerge: [
      iop
        ? `kubectl -n ${iop.namespace ?? ISTIO_SYSTEM} get istiooperator ${iop.name}   # must say NotFound: the IstioOperator is gone`
        : `kubectl get istiooperator -A | grep -c ${revision}   # 0: no IstioOperator of ${revision} left (${iopName})`,
      `kubectl -n ${ISTIO_SYSTEM} get deployment istiod-${revision}   # NotFound: the operator has removed istiod`,
    ],
    rollback: [`Revert this pull request: the ${revision} operator comes back, with nothing left to reconcile.`],
  };
}
