import { DesiredObject } from '../../constructs/desired-object.js';
import {
  FirstRevisionIstioOperator,
  IGNORE_RECONCILE_ANNOTATION,
  OperatorRevisionCopy,
} from '../../constructs/istio-operator-first-revision.js';
import { asDict, getPath, ISTIO_SYSTEM } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PlacedObject } from '../../model/placed-object.js';
import { operatorGateways } from '../preflight.js';
import { istioOperatorPinOverrides } from '../sources/image-pins.js';
import { isFirstCanaryFromIop } from '../sources/operator-nonrevisioned.js';
import { type DraftScope, type PhaseDraft, type PlanContext, registerCreated } from './context.js';
import { fileForRevision } from './naming.js';

/**
 * The first canary from a non-revisioned IstioOperator (revision `default`), in two shapes:
 *
 * - **In-cluster operator in git** (`istio-operator`, REVISION "" or unset). Such an operator
 *   reconciles every IstioOperator, revisioned ones included, with the charts of its own release
 *   (`operatorRevision != "" && operatorRevision != iop.Spec.Revision` is its only filter,
 *   istiocontrolplane_controller.go), so it must never see the new one. The control-plane commit
 *   scales it to 0, pauses the old IstioOperator (`install.istio.io/ignoreReconcile: "true"`: if the
 *   operator ever runs again it leaves it alone, and does not re-point the `default` tag at the old
 *   istiod, which it does on every reconcile of a non-revisioned IstioOperator), adds the revisioned
 *   operator of the new revision (a copy, REVISION=<new>, the target image), and adds the new
 *   IstioOperator in Argo CD sync wave 1, applied once wave 0 (both operator Deployments) is healthy.
 *   The old IstioOperator stays as a static record until cleanup; the old control plane keeps
 *   running unreconciled meanwhile.
 * - **istioctl install -f** (no operator in git): the copy is committed and installed by hand with
 *   `istioctl manifest generate -f <copy> | kubectl apply -f -`, which never touches the `default`
 *   tag (`istioctl install` of a revision creates one when the cluster has none, and thereby moves
 *   `default` at once).
 *
 * Namespaces are relabelled (istio-injection=enabled → istio.io/rev=<new>) rather than following a
 * moved tag: the old injector belongs to the old install and the tag to the new one, and neither
 * is in git, so no commit can switch them together. `default` is handed over afterwards with
 * `istioctl tag set default --revision <new>`, which also deactivates the old injector.
 */
export function draftFirstCanaryControlPlane(
  ctx: PlanContext,
  s: DraftScope,
  base: Omit<PhaseDraft, 'objects' | 'manual' | 'manualDone'>,
): PhaseDraft {
  const { installed, to } = ctx;
  if (!isFirstCanaryFromIop(installed)) throw new Error('not a first canary from an IstioOperator');
  const iop = installed.installer;
  const name = `${iop.name.replace(/-default$/, '')}-${to.name}`;
  const file = fileForRevision(iop.file, 'default', to.name);
  const pins = istioOperatorPinOverrides(asDict(iop.body.spec), ctx.from, to, { file: iop.file, prefix: 'spec' });
  const operator = installed.operator;
  const desired = new FirstRevisionIstioOperator(s.scope, s.id('IstioOperator', name), {
    current: iop,
    name,
    revision: to.name,
    pins,
    gateways: runningGateways(iop),
    ...(operator ? { syncWave: '1' } : {}),
    file,
  });
  registerCreated(ctx, 'first-canary-iop', desired.toJson(), file);
  const objects: PlacedObject[] = [{ desired, targets: [] }];
  const verify = [
    `kubectl -n ${iop.namespace ?? ISTIO_SYSTEM} get istiooperator ${name} -o jsonpath='{.status.status}'   # HEALTHY`,
    ...base.verify,
  ];
  if (!operator) {
    const version = to.version ?? 'VERSION';
    const istioctl = `./istio-${version}/bin/istioctl`;
    return {
      ...base,
      objects,
      manual: [
        ...versionNote(to),
        `curl -sSL https://istio.io/downloadIstio | ISTIO_VERSION=${version} sh -   # istioctl ${version}`,
        `${istioctl} manifest generate -f ${file} | kubectl apply -f -   # not istioctl install: on a cluster without a default tag, istioctl install of a revision makes it the default at once`,
        `kubectl -n ${ISTIO_SYSTEM} rollout status deployment/istiod-${to.name}`,
      ],
      manualDone: false,
      manualResult: 'cluster',
      beforeMerge: [
        `kubectl get deployment -A -l name=istio-operator   # must list nothing: ${iop.name} is applied with istioctl, no in-cluster operator reconciles it`,
      ],
      why: `${base.why} The new IstioOperator ${name} (revision ${to.name}, gateways and the base component off) is a copy of ${iop.name}; istioctl applies it (see the manual steps), nothing reconciles it in the cluster.`,
    };
  }
  const deployment = operator.deployment;
  const newName = `${deployment.name}-${to.name}`;
  const opFile = fileForRevision(deployment.file, 'default', to.name);
  const imageTag = operator.version && to.version ? { from: operator.version, to: to.version } : undefined;
  for (const object of operator.objects) {
    objects.push({
      desired: new OperatorRevisionCopy(s.scope, s.id('operator', object.kind, newName), {
        current: object,
        oldName: deployment.name,
        name: newName,
        revision: to.name,
        ...(imageTag ? { imageTag } : {}),
        file: opFile,
      }),
      targets: [],
    });
  }
  objects.push(
    {
      desired: new DesiredObject(s.scope, s.id('Deployment', deployment.namespace, deployment.name), {
        apiVersion: deployment.apiVersion,
        kind: 'Deployment',
        name: deployment.name,
        ...(deployment.namespace ? { namespace: deployment.namespace } : {}),
        body: { spec: { replicas: 0 } },
        mode: { kind: 'patch' },
      }),
      targets: [deployment],
    },
    {
      desired: new DesiredObject(s.scope, s.id('IstioOperator', iop.name), {
        apiVersion: iop.apiVersion,
        kind: 'IstioOperator',
        name: iop.name,
        ...(iop.namespace ? { namespace: iop.namespace } : {}),
        body: { metadata: { annotations: { [IGNORE_RECONCILE_ANNOTATION]: 'true' } } },
        mode: { kind: 'patch' },
      }),
      targets: [iop],
    },
  );
  const opNs = deployment.namespace ?? 'istio-operator';
  return {
    ...base,
    objects,
    manual: [],
    manualDone: true,
    why: `${base.why} ${deployment.name} has no revision: it reconciles every IstioOperator, ${name} included, with the charts of its own release. This commit stops it (replicas 0) and pauses ${iop.name} (install.istio.io/ignoreReconcile), adds ${newName} (REVISION=${to.name}) to reconcile ${name} alone, and applies ${name} in sync wave 1, once both operator Deployments are healthy. The old control plane keeps running, unreconciled, until cleanup.`,
    verify: [
      `kubectl -n ${opNs} get deployment ${deployment.name} ${newName}   # 0/0 and 1/1`,
      `kubectl -n ${opNs} logs deployment/${newName} | grep -c 'Ignoring IstioOperator CR ${iop.name}'   # ${newName} leaves ${iop.name} alone`,
      ...verify,
    ],
    rollback: [
      `Revert this pull request: ${deployment.name} runs again and ${iop.name} is reconciled again; then delete IstioOperator ${name} by hand if it is stuck on its finalizer (kubectl -n ${iop.namespace ?? ISTIO_SYSTEM} delete istiooperator ${name}).`,
    ],
  };
}

/**
 * Gateways phase: the gateway components move from the old IstioOperator to the new one, in place
 * (their Deployments have no revision in their names): enabled with their settings in the new
 * IstioOperator, off in the old one, which is a record from here on.
 */
export function firstCanaryGatewayMoves(ctx: PlanContext, s: DraftScope): { objects: PlacedObject[]; manual: string[]; moved: string[] } {
  const { installed, to } = ctx;
  if (!isFirstCanaryFromIop(installed)) return { objects: [], manual: [], moved: [] };
  const iop = installed.installer;
  const running = runningGateways(iop);
  const moved = [...running.ingressGateways, ...running.egressGateways];
  const target =
    ctx.inventory.revisions.find((r) => r.name === to.name && r.install === 'istio-operator')?.installer ??
    ctx.created.get('first-canary-iop');
  if (moved.length === 0 || !target) return { objects: [], manual: [], moved: [] };
  const components = asDict(getPath(iop.body, ['spec', 'components']));
  const on: Record<string, unknown> = {};
  const off: Record<string, unknown> = {};
  for (const key of ['ingressGateways', 'egressGateways'] as const) {
    if (running[key].length === 0) continue;
    const listed = new Map((Array.isArray(components[key]) ? (components[key] as unknown[]) : []).map(asDict).map((g) => [g.name, g]));
    on[key] = running[key].map((name) => ({ ...(listed.get(name) ?? { name }), enabled: true }));
    off[key] = running[key].map((name) => ({ name, enabled: false }));
  }
  const patch = (object: IndexedObject, components: Record<string, unknown>) => ({
    desired: new DesiredObject(s.scope, s.id('IstioOperator', object.name), {
      apiVersion: object.apiVersion,
      kind: 'IstioOperator',
      name: object.name,
      ...(object.namespace ? { namespace: object.namespace } : {}),
      body: { spec: { components } },
      mode: { kind: 'patch' },
    }),
    targets: [object],
  });
  const manual = installed.operator
    ? []
    : [
        ...versionNote(to),
        `./istio-${to.version ?? 'VERSION'}/bin/istioctl manifest generate -f ${target.file} | kubectl apply -f -   # after the merge: re-renders ${moved.join(', ')} in place for ${to.name}`,
      ];
  return { objects: [patch(target, on), patch(iop, off)], manual, moved };
}

/** The comment line that explains the VERSION placeholder, when the target's release is not known. */
function versionNote(to: PlanContext['to']): string[] {
  return to.version ? [] : [`# VERSION: the Istio release of ${to.name}`];
}

/** Default-revision phase: the `default` tag lives in the cluster (istioctl or the operator made it). */
export function firstCanaryTagSteps(ctx: PlanContext): string[] {
  const { installed, to, inventory } = ctx;
  if (!isFirstCanaryFromIop(installed) || inventory.tags.some((t) => t.tag === 'default')) return [];
  return [
    ...versionNote(to),
    `./istio-${to.version ?? 'VERSION'}/bin/istioctl tag set default --revision ${to.name} --overwrite   # moves istio-revision-tag-default and istiod-default-validator to ${to.name} and deactivates istio-sidecar-injector (neither is in git)`,
    `istioctl tag list   # default → ${to.name}`,
  ];
}

/**
 * Cleanup: the old IstioOperator and the stopped operator leave git; the old control plane's
 * objects, which only the cluster holds, go with `istioctl uninstall --revision default` (the
 * operator that would have pruned them on the IstioOperator's deletion is stopped). The CRD
 * `istiooperators.install.istio.io`, `istio-system`, the base chart and the new revision's objects
 * stay: uninstall selects `istio.io/rev=default` and never prunes CRDs without --purge.
 */
export function firstCanaryCleanup(ctx: PlanContext): { deletions: IndexedObject[]; manual: string[] } {
  const { installed, to } = ctx;
  if (!isFirstCanaryFromIop(installed)) return { deletions: [], manual: [] };
  const iop = installed.installer;
  const istioctl = `./istio-${to.version ?? 'VERSION'}/bin/istioctl`;
  const manual = [
    ...versionNote(to),
    `${istioctl} uninstall --revision default -y   # istiod, Service istiod, istio-sidecar-injector, the old ConfigMaps and RBAC: objects labelled istio.io/rev=default; CRDs and the new revision stay`,
  ];
  if (installed.operator) {
    manual.push(
      `kubectl -n ${iop.namespace ?? ISTIO_SYSTEM} patch istiooperator ${iop.name} --type merge -p '{"metadata":{"finalizers":null}}'   # its operator is gone and will not release it; Argo CD's prune waits on this`,
    );
  }
  const deletions = installed.operator ? [...installed.operator.objects] : [];
  return { deletions, manual };
}

/** The gateway components an IstioOperator runs, by component key. */
function runningGateways(iop: IndexedObject): Record<'ingressGateways' | 'egressGateways', string[]> {
  const names = operatorGateways(iop);
  const keyOf = (name: string) => {
    for (const key of ['ingressGateways', 'egressGateways'] as const) {
      const listed = getPath(iop.body, ['spec', 'components', key]);
      if (Array.isArray(listed) && listed.some((g) => asDict(g).name === name)) return key;
    }
    return /egress/.test(name) ? 'egressGateways' : 'ingressGateways';
  };
  return {
    ingressGateways: names.filter((n) => keyOf(n) === 'ingressGateways'),
    egressGateways: names.filter((n) => keyOf(n) === 'egressGateways'),
  };
}
