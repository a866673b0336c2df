import { ISTIO_SYSTEM } from '../../model/kube.js';
import { channelOf, type ManagedMesh } from '../sources/managed.js';
import type { PhaseDraft, PlanContext } from './context.js';

/** What the placeholders of the fleet commands stand for. */
const FLEET_PLACEHOLDERS =
  "# FLEET_PROJECT_ID: the fleet host project; MEMBERSHIP and LOCATION: the cluster's fleet membership and its location (gcloud container fleet memberships list)";

/**
 * Phase 1 towards a managed channel: Google provisions the channel's control plane outside the
 * cluster, so nothing in git changes unless the repo keeps its ControlPlaneRevisions there. The
 * steps are exact commands; no release is named (a channel has none).
 */
export function draftManagedControlPlane(ctx: PlanContext, managed: ManagedMesh | null): PhaseDraft {
  const { from, to } = ctx;
  const channel = channelOf(to.name);
  // `default`: the revision the default tag serves, which git does not name.
  const current = from.name === 'default' ? 'the control plane the default tag serves' : from.name;
  const inGit = managed?.controlPlaneRevisions ?? [];
  const targetInGit = inGit.some((cr) => cr.name === to.name);
  const cr = `{"apiVersion":"mesh.cloud.google.com/v1beta1","kind":"ControlPlaneRevision","metadata":{"name":"${to.name}","namespace":"${ISTIO_SYSTEM}","labels":{"mesh.cloud.google.com/managed-cni-enabled":"true"}},"spec":{"type":"managed_service","channel":"${channel}"}}`;
  const ready = `kubectl -n ${ISTIO_SYSTEM} get controlplanerevision ${to.name} -o jsonpath='{.status.conditions[?(@.type=="Reconciled")].status}'   # True: Google has provisioned ${to.name}`;
  let manual: string[];
  if (from.flavor === 'managed' && inGit.length > 0) {
    const template = inGit.find((o) => o.name === from.name) ?? inGit[0]!;
    manual = targetInGit
      ? []
      : [
          `# commit a ControlPlaneRevision ${to.name} beside ${template.file}: a copy of ${template.name} with metadata.name: ${to.name} and spec.channel: ${channel}`,
          ready,
        ];
  } else if (from.flavor === 'managed') {
    manual = [
      FLEET_PLACEHOLDERS,
      `gcloud container fleet mesh describe --project FLEET_PROJECT_ID   # if membership MEMBERSHIP already serves ${to.name} (REVISION_READY), skip the next step`,
      `kubectl apply -f - <<<'${cr}'`,
      ready,
    ];
  } else {
    // From an in-cluster (asmcli) revision: Google's migration from in-cluster to managed.
    manual = [
      FLEET_PLACEHOLDERS,
      `gcloud container fleet mesh update --management automatic --memberships MEMBERSHIP --project FLEET_PROJECT_ID --location LOCATION`,
      `gcloud container fleet mesh describe --project FLEET_PROJECT_ID   # MEMBERSHIP: controlPlaneManagement REVISION_READY; the fleet picks the channel of the cluster's GKE release channel, which must be ${channel} for ${to.name}`,
      ready,
    ];
  }
  ctx.warn({
    code: 'managed-control-plane',
    message: `${to.name} is a Google-managed control plane (release channel ${channel}); it is provisioned outside git and Google picks its release. The control-plane phase runs exact commands; only namespace, gateway and workload labels change in git.${from.flavor === 'managed' ? ` Under fleet management (--management automatic) the channel follows the cluster's GKE release channel, and Google does not support changing that safely: check which channel the fleet serves first.` : ''}`,
    file: managed?.evidence[0] ?? null,
  });
  return {
    id: 'control-plane',
    title: `Provision managed control plane ${to.name} beside ${current}`,
    why: `Provisions the managed control plane of the ${channel} channel (${to.name}) next to ${current}. Google runs it outside the cluster and upgrades it within the channel, so no release is pinned. No namespace, gateway or tag points at it yet, so no running pod changes.`,
    objects: [],
    deletions: [],
    manual,
    manualDone: manual.length === 0,
    manualResult: targetInGit || (from.flavor === 'managed' && inGit.length > 0) ? 'repo' : 'cluster',
    pods: 0,
    namespaces: [],
    estimatedMinutes: 15,
    verify: [
      `kubectl -n ${ISTIO_SYSTEM} get controlplanerevision ${to.name}`,
      `kubectl get mutatingwebhookconfiguration istiod-${to.name}   # the managed injector of ${to.name}`,
    ],
    rollback: [
      `Nothing runs on ${to.name} yet: ${from.flavor === 'managed' ? `kubectl -n ${ISTIO_SYSTEM} delete controlplanerevision ${to.name}` : 'gcloud container fleet mesh update --management manual --memberships MEMBERSHIP --project FLEET_PROJECT_ID --location LOCATION'} if you stop here.`,
    ],
  };
}

/**
 * Cleanup of a managed channel: nothing to uninstall (Google runs it); a ControlPlaneRevision of
 * the old channel kept in git goes, which deprovisions it. Cleanup of an in-cluster revision keeps
 * its usual steps.
 */
export function adaptManagedCleanup(ctx: PlanContext, cleanup: PhaseDraft, managed: ManagedMesh | null): PhaseDraft {
  if (ctx.from.flavor !== 'managed') return cleanup;
  if (ctx.from.name === 'default') {
    // Git never named the old revision: nothing to delete here, and no command may guess its name.
    return {
      ...cleanup,
      title: 'Retire the control plane the default tag served',
      why: `Nothing in git to remove: the revision the default tag served before ${ctx.to.name} is not named in the repo. Once istioctl tag list shows default → ${ctx.to.name} and no proxy uses the old revision, retire it the way it was installed (a managed channel needs nothing; an in-cluster revision is removed with istioctl uninstall --revision <that revision>).`,
      deletions: [],
      manual: [`istioctl tag list   # default → ${ctx.to.name}; the revision it served before is the one to retire`],
      manualDone: false,
      verify: [`${cleanup.beforeMerge?.[0] ?? ''}`.replace('must print 0', 'expect 0')].filter((v) => v.trim() !== ''),
    };
  }
  const deletions = (managed?.controlPlaneRevisions ?? []).filter((cr) => cr.name === ctx.from.name);
  return {
    ...cleanup,
    title: `Leave managed control plane ${ctx.from.name}`,
    why:
      deletions.length > 0
        ? `Deletes the ControlPlaneRevision ${ctx.from.name}: no namespace, gateway or tag uses that channel any more, and Google deprovisions it.`
        : `Nothing to remove: ${ctx.from.name} is Google's control plane of the ${channelOf(ctx.from.name)} channel, outside the cluster and outside git. No namespace, gateway or tag uses it any more.`,
    deletions,
    manual: [],
    manualDone: true,
    verify: [`${cleanup.beforeMerge?.[0] ?? ''}`.replace('must print 0', 'expect 0')].filter((v) => v.trim() !== ''),
  };
}

/** The default-revision checks that hold for a managed target (its validator is Google's). */
export function adaptManagedDefaultRevision(ctx: PlanContext, draft: PhaseDraft): PhaseDraft {
  if (ctx.to.flavor !== 'managed') return draft;
  return {
    ...draft,
    verify: [
      `istioctl tag list   # default → ${ctx.to.name}`,
      `kubectl get mutatingwebhookconfiguration istio-revision-tag-default -o jsonpath='{.metadata.labels.istio\\.io/rev}'   # ${ctx.to.name}`,
    ],
  };
}
