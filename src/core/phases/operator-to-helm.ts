import { posix } from 'node:path';
import { DesiredObject } from '../../constructs/desired-object.js';
import { HelmValues } from '../../constructs/helm-release.js';
import { IGNORE_RECONCILE_ANNOTATION } from '../../constructs/istio-operator-first-revision.js';
import { ArgoHelmApplication, FluxHelmRelease, IstioHelmRepository } from '../../constructs/new-helm-release.js';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict, getPath, ISTIO_SYSTEM } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PlacedObject } from '../../model/placed-object.js';
import { operatorGateways } from '../preflight.js';
import { imagePinOverrides, mergeValues } from '../sources/image-pins.js';
import { type HelmHome, helmHomeFor, ISTIO_CHARTS, isOperatorToHelm, translateIstioOperator } from '../sources/iop-to-helm.js';
import { type DraftScope, type PhaseDraft, type PlanContext, registerCreated } from './context.js';

/**
 * From an in-cluster operator install to revisioned Helm releases (targets ≥ 1.24, which have no
 * operator). Istio's own migration order: stop the operator, install the new revision with Helm,
 * move everything, then remove the old revision and the operator.
 *
 * - control-plane: the operator is stopped (replicas 0 when it is in git, else a manual step) and
 *   the old IstioOperator paused (`install.istio.io/ignoreReconcile`), so that it never re-applies
 *   its 1.2x CRDs over the base chart's; `istio-base` (when the repo has no base release yet,
 *   `defaultRevision: ""` until the default-revision phase) and `istiod-<new>` (the IstioOperator
 *   translated into values, `revision: <new>`) are added beside the repo's other Applications or
 *   HelmReleases. What does not translate is listed in the pull request.
 * - gateways: gateway components of the IstioOperator have no automatic move (istioctl manifest
 *   translate does not migrate them either): they are listed, and cleanup stays blocked on them.
 * - default-revision: `default` goes to the new release (`revisionTags: [default]`, base
 *   `defaultRevision`) unless the tag and validator are in git, which are edited as usual.
 * - cleanup: the IstioOperator leaves git; the stopped operator no longer prunes, so the old
 *   revision is uninstalled with istioctl and the IstioOperator's finalizer removed by hand; the
 *   operator goes after (operator-cleanup, when it is in git).
 */

/** Refuses an operator install past 1.23 when the repo shows no GitOps style to write Helm releases in. */
export function helmHomeOrRefuse(ctx: Pick<PlanContext, 'index' | 'installed' | 'to'>): HelmHome {
  const iop = ctx.installed!.installer!;
  const home = helmHomeFor(ctx.index, iop);
  if (home) return home;
  throw new UpgradeRefusedError(
    `${ctx.to.name} (${ctx.to.version}) is past Istio 1.23, the last release of the in-cluster operator that reconciles IstioOperator ${iop.name}, and the repo holds no Argo CD Application or Flux object to write the Helm releases that replace it next to. Upgrade to a 1.23 release with the operator, add the Argo CD Application (or Flux Kustomization) that syncs this repo so the bot can write them, or migrate the control plane to Helm yourself (istioctl manifest translate), then plan again.`,
    'operator-end-of-life',
  );
}

export function draftOperatorToHelmControlPlane(
  ctx: PlanContext,
  s: DraftScope,
  base: Omit<PhaseDraft, 'objects' | 'manual' | 'manualDone'>,
): PhaseDraft {
  const { installed, to, from, inventory } = ctx;
  const iop = installed!.installer!;
  const home = helmHomeOrRefuse(ctx);
  const version = to.version!;
  const raw = translateIstioOperator(iop, to);
  // The IstioOperator's image pins (spec.tag, values.global.tag, …) move to the target, variant kept.
  const translated = {
    ...raw,
    istiod: mergeValues(raw.istiod, imagePinOverrides(raw.istiod, from, to, { file: iop.file, prefix: 'spec (as istiod values)' })),
  };
  const objects: PlacedObject[] = [];
  const beforeMerge: string[] = [];
  const manual: string[] = [];
  const flux = home.style === 'flux';
  const repository = flux ? fluxRepository(ctx, s, home, objects) : null;

  const release = (name: string, chart: 'base' | 'istiod', values: Record<string, unknown>, dependsOn: string[] = []) => {
    const file = posix.join(home.dir, `${name}.yaml`);
    const desired = flux
      ? new FluxHelmRelease(s.scope, s.id('HelmRelease', name), {
          name,
          chart,
          version,
          values,
          repository: repository!,
          like: home.sample,
          dependsOn,
          file,
        })
      : new ArgoHelmApplication(s.scope, s.id('Application', name), {
          name,
          chart,
          version,
          values,
          repoURL: ISTIO_CHARTS,
          like: home.owner,
          cascade: chart !== 'base',
          file,
        });
    objects.push({ desired, targets: [] });
    registerCreated(ctx, chart === 'base' ? 'istio-base-release' : 'istiod-release', desired.toJson(), file);
    return file;
  };

  const files: string[] = [];
  if (!inventory.helmBase) {
    // The validator comes with the default-revision phase: today's istiod-default-validator belongs to the old install.
    files.push(release('istio-base', 'base', { ...translated.base, defaultRevision: '' }));
    if (flux) {
      const adopt = `app.kubernetes.io/managed-by=Helm`;
      const annotate = `meta.helm.sh/release-name=istio-base meta.helm.sh/release-namespace=${ISTIO_SYSTEM}`;
      beforeMerge.push(
        `for crd in $(kubectl get crd -o name | grep -E '\\.istio\\.io$' | grep -v istiooperators); do kubectl label "$crd" ${adopt} --overwrite && kubectl annotate "$crd" ${annotate} --overwrite; done   # once: the base chart templates the CRDs from 1.24 on, and Helm refuses to take over objects it did not create ("invalid ownership metadata")`,
        `kubectl -n ${ISTIO_SYSTEM} get serviceaccount istio-reader-service-account && kubectl -n ${ISTIO_SYSTEM} label serviceaccount istio-reader-service-account ${adopt} --overwrite && kubectl -n ${ISTIO_SYSTEM} annotate serviceaccount istio-reader-service-account ${annotate} --overwrite   # the base chart renders it too`,
      );
    }
  }
  files.push(release(`istiod-${to.name}`, 'istiod', translated.istiod, flux && !inventory.helmBase ? ['istio-base'] : []));
  if (!flux && !home.synced) {
    manual.push(...files.map((f) => `kubectl apply -f ${f}   # no Application in the repo syncs ${home.dir}/`));
  }

  // The operator stops before Helm takes over: a running operator re-applies its own release's CRDs and webhooks over the charts'.
  const operator = installed!.operator ?? inventory.operators.find((o) => o.revision === null) ?? null;
  if (operator) {
    const d = operator.deployment;
    objects.push({
      desired: new DesiredObject(s.scope, s.id('Deployment', d.namespace, d.name), {
        apiVersion: d.apiVersion,
        kind: 'Deployment',
        name: d.name,
        ...(d.namespace ? { namespace: d.namespace } : {}),
        body: { spec: { replicas: 0 } },
        mode: { kind: 'patch' },
      }),
      targets: [d],
    });
  } else {
    manual.unshift(
      `kubectl -n istio-operator scale deployment istio-operator-${from.name} --replicas 0   # before the merge: the operator (not in git) would re-apply ${from.version ?? from.name} CRDs over the base chart's`,
    );
  }
  objects.push({ desired: pauseIop(s, iop), targets: [iop] });

  if (translated.untranslated.length > 0) {
    ctx.warn({
      code: 'iop-not-translated',
      message: `IstioOperator ${iop.name} holds settings no chart value expresses: ${translated.untranslated.join('; ')}. Carry them over by hand or drop them.`,
      file: iop.file,
    });
  }
  const style = flux ? 'Flux HelmReleases' : 'Argo CD Applications';
  return {
    ...base,
    objects,
    manual,
    manualDone: manual.length === 0,
    manualResult: 'cluster',
    beforeMerge,
    why: `${base.why} Istio ${version} has no in-cluster operator: ${to.name} is installed from Istio's Helm charts as ${style} (${files.join(', ')}), with the settings of IstioOperator ${iop.name} as chart values. The operator is stopped${operator ? ` (${operator.deployment.name} to 0 replicas)` : ''} and ${iop.name} paused (${IGNORE_RECONCILE_ANNOTATION}): ${from.name} keeps running, unreconciled, until cleanup.${translated.untranslated.length > 0 ? `\n\n**Not translated** (no chart value; carry over by hand or drop):\n${translated.untranslated.map((u) => `- ${u}`).join('\n')}` : ''}`,
    verify: [`kubectl get ${flux ? 'helmrelease -A' : 'application -A'} | grep -E 'istio-base|istiod-${to.name}'`, ...base.verify],
    rollback: [
      `Revert this pull request: the operator runs again and reconciles ${iop.name}; ${flux ? 'Flux uninstalls' : 'Argo CD deletes'} istiod-${to.name} (the base release keeps the CRDs: delete it by hand only if the operator is to own them again).`,
    ],
  };
}

function fluxRepository(
  ctx: PlanContext,
  s: DraftScope,
  home: HelmHome,
  objects: PlacedObject[],
): { name: string; namespace: string | null } {
  if (home.repository) return { name: home.repository.name, namespace: home.repository.namespace };
  const sampleRef = asDict(getPath(home.sample?.body, ['spec', 'chart', 'spec', 'sourceRef']));
  const namespace = typeof sampleRef.namespace === 'string' ? sampleRef.namespace : 'flux-system';
  const file = posix.join(home.dir, 'istio-repository.yaml');
  objects.push({
    desired: new IstioHelmRepository(s.scope, s.id('HelmRepository', 'istio'), { name: 'istio', namespace, url: ISTIO_CHARTS, file }),
    targets: [],
  });
  void ctx;
  return { name: 'istio', namespace };
}

function pauseIop(s: DraftScope, iop: IndexedObject): DesiredObject {
  return new DesiredObject(s.scope, s.id('IstioOperator', iop.name), {
    apiVersion: iop.apiVersion,
    kind: 'IstioOperator',
    name: iop.name,
    ...(iop.namespace ? { namespace: iop.namespace } : {}),
    body: { metadata: { annotations: { [IGNORE_RECONCILE_ANNOTATION]: 'true' } } },
    mode: { kind: 'patch' },
  });
}

/** Gateways: an IstioOperator's gateway components have no Helm equivalent to move to automatically. */
export function adaptOperatorToHelmGateways(ctx: PlanContext, draft: PhaseDraft): PhaseDraft {
  if (!isOperatorToHelm(ctx.installed, ctx.to)) return draft;
  const iop = ctx.installed!.installer!;
  const gateways = operatorGateways(iop);
  if (gateways.length === 0) return draft;
  ctx.warn({
    code: 'iop-gateways-not-migrated',
    message: `IstioOperator ${iop.name} runs ${gateways.join(', ')}; istioctl manifest translate does not migrate gateway components, and neither does the bot. Install each with Istio's gateway chart (revision: ${ctx.to.name}) and disable it in ${iop.file}; cleanup stays blocked until then.`,
    file: iop.file,
  });
  const manual = gateways.map(
    (name) =>
      `# ${name} (IstioOperator ${iop.name}): add a release of Istio's gateway chart ${ctx.to.version} for it (name ${name}, its namespace, values revision: ${ctx.to.name}, service and k8s settings from the component), move traffic to it, then set enabled: false on the component in ${iop.file} and commit`,
  );
  return { ...draft, manual: [...draft.manual, ...manual], manualDone: false };
}

/** Default-revision: `default` (tag and validator) goes to the new Helm releases, unless git holds them. */
export function adaptOperatorToHelmDefaultRevision(ctx: PlanContext, s: DraftScope, draft: PhaseDraft): PhaseDraft {
  const { installed, to, from, inventory } = ctx;
  if (!isOperatorToHelm(installed, to) || from.name === 'default') return draft;
  const istiod = inventory.revisions.find((r) => r.name === to.name && r.helm)?.helm ?? null;
  const istiodObject = istiod?.object ?? ctx.created.get('istiod-release');
  const base = inventory.helmBase;
  const baseObject = base?.object ?? ctx.created.get('istio-base-release');
  const objects: PlacedObject[] = [];
  const beforeMerge: string[] = [];
  const flux = (istiodObject ?? baseObject)?.kind === 'HelmRelease';
  const adopt = (kind: string, name: string, release: string) =>
    `kubectl get ${kind} ${name} && kubectl label ${kind} ${name} app.kubernetes.io/managed-by=Helm --overwrite && kubectl annotate ${kind} ${name} meta.helm.sh/release-name=${release} meta.helm.sh/release-namespace=${ISTIO_SYSTEM} --overwrite   # if the cluster has it (istioctl made it): Helm takes it over in place instead of refusing it`;
  const valuesPath = (o: IndexedObject) => (o.kind === 'HelmRelease' ? ['spec', 'values'] : ['spec', 'source', 'helm', 'valuesObject']);
  const tags = stringList(
    istiod?.values.revisionTags ??
      getPath(istiodObject?.body, [...valuesPath(istiodObject ?? ({ kind: '' } as IndexedObject)), 'revisionTags']),
  );
  if (istiodObject && !inventory.tags.some((t) => t.tag === 'default') && !tags.includes('default')) {
    objects.push({
      desired: new HelmValues(s.scope, s.id(istiodObject.kind, istiodObject.name), {
        apiVersion: istiodObject.apiVersion,
        kind: istiodObject.kind,
        name: istiodObject.name,
        namespace: istiodObject.namespace,
        valuesPath: istiod?.valuesPath ?? valuesPath(istiodObject),
        values: { revisionTags: [...tags, 'default'] },
      }),
      targets: [istiodObject],
    });
    if (flux) beforeMerge.push(adopt('mutatingwebhookconfiguration', 'istio-revision-tag-default', istiodObject.name));
  }
  const baseDefault = base
    ? base.values.defaultRevision
    : getPath(baseObject?.body, [...valuesPath(baseObject ?? ({ kind: '' } as IndexedObject)), 'defaultRevision']);
  if (baseObject && !inventory.defaultValidator && baseDefault !== to.name) {
    objects.push({
      desired: new HelmValues(s.scope, s.id(baseObject.kind, baseObject.name), {
        apiVersion: baseObject.apiVersion,
        kind: baseObject.kind,
        name: baseObject.name,
        namespace: baseObject.namespace,
        valuesPath: base?.valuesPath ?? valuesPath(baseObject),
        values: { defaultRevision: to.name },
      }),
      targets: [baseObject],
    });
    if (flux) beforeMerge.push(adopt('validatingwebhookconfiguration', 'istiod-default-validator', baseObject.name));
  }
  return { ...draft, objects: [...draft.objects, ...objects], beforeMerge: [...(draft.beforeMerge ?? []), ...beforeMerge] };
}

/** Cleanup: the operator is stopped, so the old revision is uninstalled with istioctl and the IstioOperator released by hand. */
export function adaptOperatorToHelmCleanup(ctx: PlanContext, draft: PhaseDraft): PhaseDraft {
  const { installed, to, from } = ctx;
  if (!isOperatorToHelm(installed, to) || from.name === 'default') return draft;
  const iop = installed!.installer!;
  const ns = iop.namespace ?? ISTIO_SYSTEM;
  const manual = [
    `./istio-${to.version}/bin/istioctl uninstall --revision ${from.name} -y   # the stopped operator no longer prunes istiod ${from.name}: its objects (labelled istio.io/rev=${from.name}) go here; CRDs and the Helm releases stay`,
    `kubectl -n ${ns} patch istiooperator ${iop.name} --type merge -p '{"metadata":{"finalizers":null}}'   # its operator is stopped and will not release it; the prune waits on this`,
  ];
  if (!installed!.operator && !ctx.inventory.operators.some((o) => o.revision === null)) {
    manual.push(
      from.version
        ? `./istio-${from.version}/bin/istioctl operator remove --revision ${from.name}   # with the istioctl of ${from.name}: istioctl 1.24 has no operator commands`
        : `./istio-OLD_VERSION/bin/istioctl operator remove --revision ${from.name}   # OLD_VERSION: the Istio release of ${from.name}; istioctl 1.24 has no operator commands`,
    );
  }
  return { ...draft, manual, manualDone: false, manualResult: 'cluster' };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
