import { posix } from 'node:path';
import semver from 'semver';
import { HelmValues, IstiodRelease } from '../../constructs/helm-release.js';
import { IstioOperatorRevision } from '../../constructs/istio-operator-revision.js';
import { RevisionCopy } from '../../constructs/revision-copy.js';
import { asDict, describe, getPath, ISTIO_SYSTEM } from '../../model/kube.js';
import type { MergePatch } from '../../model/merge-patch.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PlacedObject } from '../../model/placed-object.js';
import { patchYamlMappingText } from '../../writer/yaml-patch.js';
import type { InstalledRevision } from '../inventory.js';
import { minorOf, parseVersion } from '../revision.js';
import { overridesOfChartValueFiles } from '../sources/chart-value-files.js';
import { assertNoDigestImages, istioOperatorPinOverrides, mergeValues, releaseImagePinOverrides } from '../sources/image-pins.js';
import { isOperatorToHelm } from '../sources/iop-to-helm.js';
import { isFirstCanaryFromIop } from '../sources/operator-nonrevisioned.js';
import { overridesOfSharedValues } from '../sources/shared-helm-values.js';
import { type DraftScope, type PhaseDraft, type PlanContext, registerCreated } from './context.js';
import { baseKeptOnDowngrade } from './helm-base-downgrade.js';
import { chartVersionMove, warnPinnedCopy } from './helm-nonrevisioned.js';
import { fileForRevision, manifestsDirForFirstRevision, manifestsDirForRevision, renameForRevision } from './naming.js';
import { draftFirstCanaryControlPlane } from './operator-first-canary.js';
import { draftOperatorToHelmControlPlane } from './operator-to-helm.js';

/**
 * Phase 1: the new control plane beside the old one. Tags, the `istiod` Service and every
 * workload stay on the old revision, so merging this changes no running pod.
 */
export function draftControlPlane(ctx: PlanContext, s: DraftScope): PhaseDraft {
  const { from, to, installed, inventory } = ctx;
  const base = {
    id: 'control-plane',
    title: `Install control plane ${to.name} beside ${from.name}`,
    why: `Adds istiod ${to.name}${to.version ? ` (${to.version})` : ''} next to ${from.name}. No namespace, gateway, tag or Service points at it yet, so no running pod changes; it only starts the new control plane and its revision-specific webhooks.`,
    deletions: [],
    pods: 0,
    namespaces: [],
    estimatedMinutes: 10,
    verify: [
      `kubectl -n ${ISTIO_SYSTEM} rollout status deployment/istiod-${to.name}`,
      `kubectl -n ${ISTIO_SYSTEM} get deployment,service,hpa,pdb -l istio.io/rev=${to.name}`,
      `kubectl get mutatingwebhookconfiguration -l istio.io/rev=${to.name}   # istio-sidecar-injector-${to.name}, caBundle filled in by istiod`,
      `istioctl x revision list   # both ${from.name} and ${to.name}`,
      'istioctl analyze -A',
    ],
    rollback: [`Revert this pull request: nothing runs on ${to.name} yet, so removing it is safe.`],
  };

  const already = inventory.revisions.find((r) => r.name === to.name);
  const incomplete = already?.install === 'manifests' ? missingManifests(already, to.name) : [];
  if (already && incomplete.length > 0) {
    // A Deployment alone is no control plane: without its Service or injector, namespaces moved
    // to it would start pods without a sidecar.
    ctx.warn({
      code: 'target-incomplete',
      message: `control plane ${to.name} is only partly in the repo: ${incomplete.join(', ')} missing. Commit the whole output of the manual steps.`,
      file: already.installer?.file ?? null,
    });
    return { ...base, objects: [], manual: manualInstallSteps(ctx), manualDone: false, manualResult: 'repo' };
  }
  if (already) {
    ctx.warn({
      code: 'target-already-installed',
      message: `revision ${to.name} is already installed (${already.install}); the control-plane phase has nothing to add.`,
      file: already.installer?.file ?? null,
    });
    return { ...base, objects: [], manual: [], manualDone: true };
  }

  if (isOperatorToHelm(installed, to)) return draftOperatorToHelmControlPlane(ctx, s, base);
  if (isFirstCanaryFromIop(installed)) return draftFirstCanaryControlPlane(ctx, s, base);
  if (installed?.install === 'istio-operator' && installed.installer) {
    const operator = installed.installer;
    const name = renameForRevision(operator.name, from.name, to.name);
    const file = fileForRevision(operator.file, from.name, to.name);
    const pins = istioOperatorPinOverrides(asDict(operator.body.spec), from, to, { file: operator.file, prefix: 'spec' });
    const desired = new IstioOperatorRevision(s.scope, s.id('IstioOperator', name), {
      current: operator,
      currentRevision: from.name,
      name,
      namespace: operator.namespace ?? ISTIO_SYSTEM,
      revision: to.name,
      pins,
      file,
    });
    registerCreated(ctx, 'control-plane', desired.toJson(), file);
    // A revisioned in-cluster operator reconciles only IstioOperators of its own revision: the new
    // one needs an operator of its own, or istiod-<new> never appears.
    const objects: PlacedObject[] = [{ desired, targets: [] }, ...operatorCopies(ctx, s)];
    const sharedOperator = inventory.operators.find((o) => o.revision === null);
    if (sharedOperator) {
      ctx.warn({
        code: 'non-revisioned-operator',
        message: `${describe(sharedOperator.deployment)} has no revision, so it reconciles every IstioOperator, ${name} included, with the charts of its own release${sharedOperator.version ? ` (${sharedOperator.version})` : ''}. Replace it with per-revision operators (istioctl operator init --revision ${from.name}, then --revision ${to.name}) before merging this phase.`,
        file: sharedOperator.deployment.file,
      });
    }
    const manual = installed.operator || sharedOperator ? [] : operatorInitSteps(ctx);
    return {
      ...base,
      objects,
      manual,
      manualDone: manual.length === 0,
      verify: [`kubectl -n ${ISTIO_SYSTEM} get istiooperator ${name} -o jsonpath='{.status.status}'   # HEALTHY`, ...base.verify],
    };
  }

  if (installed?.install === 'helm' && installed.helm) {
    const release = installed.helm;
    const name = renameForRevision(release.object.name, from.name, to.name);
    const file = fileForRevision(release.object.file, from.name, to.name);
    // Image pins of the effective values (inline, or inherited from a shared source) move to the target, inline on the copy.
    const pins = releaseImagePinOverrides(release, from, to);
    const valuesPatch = mergeValues({ revision: to.name, revisionTags: null, ...overridesOfChartValueFiles(release) }, pins);
    const values = release.valuesAreText
      ? patchYamlMappingText(release.object.file, String(getValue(release.object, release.valuesPath)), valuesPatch as MergePatch)
      : // The values as written (not as resolved from Flux substitutions and valuesFrom, which the copy keeps by reference).
        mergeValues(
          {
            ...withoutKey({ ...asDict(getValue(release.object, release.valuesPath)), revision: to.name }, 'revisionTags'),
            ...overridesOfSharedValues(release, asDict(getValue(release.object, release.valuesPath))),
            ...overridesOfChartValueFiles(release),
          },
          pins,
        );
    const desired = new IstiodRelease(s.scope, s.id('IstiodRelease', name), {
      current: release.object,
      currentRevision: from.name,
      name,
      namespace: release.object.namespace,
      revision: to.name,
      valuesPath: release.valuesPath,
      values,
      ...(release.chartVersionPath && to.version ? { chartVersion: { path: release.chartVersionPath, version: to.version } } : {}),
      file,
    });
    registerCreated(ctx, 'istiod-release', desired.toJson(), file);
    warnPinnedCopy(ctx, release, file);
    const kept = baseKeptOnDowngrade(ctx);
    return {
      ...base,
      ...(kept ? { why: base.why + kept } : {}),
      objects: [...baseChartUpgrade(ctx, s), { desired, targets: [] }],
      manual: [],
      manualDone: true,
    };
  }

  // Rendered manifests: the new revision's files are generated by hand and committed; the phase
  // passes once the repo shows them. Installed outside git: a maintainer confirms it.
  const inRepo = installed?.install === 'manifests';
  if (inRepo) {
    ctx.warn({
      code: 'target-not-in-repo',
      message: `the new control plane istiod-${to.name} is not in the repo yet: generate and commit it with the manual steps of the control-plane phase. The later phases are a preview until then; the bot opens none of them before the repo shows istiod-${to.name}.`,
      file: installed.installer?.file ?? null,
    });
  }
  return { ...base, objects: [], manual: manualInstallSteps(ctx), manualDone: false, manualResult: inRepo ? 'repo' : 'cluster' };
}

/**
 * Istio's Helm upgrade order: the `base` chart (CRDs) goes to the new release first, with
 * `defaultRevision` left on the old revision until the default-revision phase.
 * @see https://istio.io/latest/docs/setup/upgrade/helm/
 */
function baseChartUpgrade(ctx: PlanContext, s: DraftScope): PlacedObject[] {
  const base = ctx.inventory.helmBase;
  const version = ctx.to.version;
  if (!base?.chartVersionPath || !version || base.chartVersion === null) return [];
  const current = parseVersion(base.chartVersion);
  const target = parseVersion(version);
  if (current && target && semver.gte(current, target)) return [];
  const { object } = base;
  // Flux's helm-controller leaves a chart's CRDs alone on upgrade unless told otherwise (the default
  // policy is Skip): the CRD bump would not happen.
  const flux = object.kind === 'HelmRelease';
  const crdPolicy = getPath(object.body, ['spec', 'upgrade', 'crds']);
  const createReplace = flux && crdPolicy !== 'CreateReplace' ? { spec: { upgrade: { crds: 'CreateReplace' } } } : undefined;
  if (flux && target && semver.gte(target, '1.24.0') && (!current || semver.lt(current, '1.24.0'))) {
    ctx.warn({
      code: 'helm-crds-adoption',
      message: `the base chart moves its CRDs into templates in 1.24: before ${object.name} upgrades to ${version}, the existing Istio CRDs need Helm's ownership (label app.kubernetes.io/managed-by=Helm, annotations meta.helm.sh/release-name=${object.name} and meta.helm.sh/release-namespace), or the upgrade fails.`,
      file: object.file,
    });
  }
  // A version from a Flux variable moves at its source when only base uses it, else it is pinned here.
  const move = chartVersionMove(ctx, s, base, version);
  if (!move.chartVersion && !createReplace) return move.objects;
  return [
    ...move.objects,
    {
      desired: new HelmValues(s.scope, s.id(object.kind, object.name), {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.name,
        namespace: object.namespace,
        valuesPath: base.valuesPath,
        ...(move.chartVersion ? { chartVersion: move.chartVersion } : {}),
        ...(createReplace ? { also: createReplace } : {}),
      }),
      targets: [object],
    },
  ];
}

/** The old revision's in-cluster operator (from git), copied for the new revision. */
function operatorCopies(ctx: PlanContext, s: DraftScope): PlacedObject[] {
  const operator = ctx.installed?.operator;
  if (!operator) return [];
  const { from, to } = ctx;
  const file = fileForRevision(operator.deployment.file, from.name, to.name);
  const imageTag = operator.version && to.version ? { from: operator.version, to: to.version } : undefined;
  if (imageTag) assertNoDigestImages(operator.objects, to);
  return operator.objects.map((object) => ({
    desired: new RevisionCopy(s.scope, s.id(object.kind, object.namespace, renameForRevision(object.name, from.name, to.name)), {
      current: object,
      name: renameForRevision(object.name, from.name, to.name),
      from: from.name,
      to: to.name,
      ...(imageTag ? { imageTag } : {}),
      file,
    }),
    targets: [],
  }));
}

/** The operator for the new revision when the operator is not in git: installed with the target's istioctl. */
function operatorInitSteps(ctx: PlanContext): string[] {
  const version = ctx.to.version ?? 'VERSION';
  return [
    ...(ctx.to.version ? [] : [`# VERSION: the Istio release of ${ctx.to.name}`]),
    `curl -sSL https://istio.io/downloadIstio | ISTIO_VERSION=${version} sh -   # istioctl ${version}`,
    `./istio-${version}/bin/istioctl operator init --revision ${ctx.to.name}   # the operator of ${ctx.from.name} ignores IstioOperators of other revisions`,
    `kubectl -n istio-operator rollout status deployment/istio-operator-${ctx.to.name}`,
  ];
}

function manualInstallSteps(ctx: PlanContext): string[] {
  const { from, to, installed } = ctx;
  const version = to.version ?? 'VERSION';
  const asm = to.flavor === 'asm';
  // asmcli unpacks its release into <output_dir>/istio-<release>/; the download below is pinned to `version`.
  const istioctl = asm ? `./${to.name}/istio-${version}/bin/istioctl` : `./istio-${version}/bin/istioctl`;
  const fetch = asm
    ? asmcliDownload(to.version)
    : `curl -sSL https://istio.io/downloadIstio | ISTIO_VERSION=${version} sh -   # istioctl ${version}`;
  const asmcliTarget = `${asmcliPlatformFlags(ctx.platform)} --revision_name ${to.name} --output_dir ./${to.name}`;
  // Placeholders are UPPER_CASE words; a comment line says what each stands for.
  const placeholders = [
    ...(to.version ? [] : [`# VERSION: the Istio release of ${to.name}`]),
    ...(asm ? [asmcliPlaceholders(ctx.platform)] : []),
  ];
  // Quoted: `[0]` is a glob, and zsh refuses an unmatched one.
  const gatewaysOff = "--set 'components.ingressGateways[0].enabled=false' --set 'components.egressGateways[0].enabled=false'";

  if (installed?.install === 'manifests' && installed.installer) {
    const first = from.name === 'default';
    const dir = first
      ? manifestsDirForFirstRevision(installed.installer.file, to.name)
      : manifestsDirForRevision(installed.installer.file, from.name, to.name);
    const overlay = ctx.renderOverlay ? `-f ${ctx.renderOverlay}` : '-f OVERLAY';
    if (!ctx.renderOverlay && !asm) placeholders.push(`# OVERLAY: the IstioOperator overlay ${from.name} was rendered from`);
    const steps = [...placeholders, fetch];
    if (asm) steps.push(`./asmcli print-config ${asmcliTarget} > ${to.name}-overlay.yaml`);
    // The non-revisioned render holds the CRDs, the base chart's objects and the default
    // validator, which the revisions share: the new revision's render leaves them out.
    const sharedOff = first ? " --set 'components.base.enabled=false'" : '';
    steps.push(
      // The new revision's directory does not exist yet, and a redirect does not create it.
      `mkdir -p ${dir}`,
      `${istioctl} manifest generate ${asm ? `-f ${to.name}-overlay.yaml` : overlay} --set revision=${to.name} ${gatewaysOff}${sharedOff} > ${dir}/istiod.yaml`,
    );
    if (first)
      steps.push(
        `# keep only istiod-${to.name}'s own objects in ${dir}/istiod.yaml: anything the current render already defines under the same name (CRDs, istiod-default-validator, istio-reader-service-account) is shared and stays where it is`,
      );
    const listing = ctx.index.kustomizations.find((k) => k.resources.includes(installed.installer!.file));
    if (listing)
      steps.push(
        `# add ${posix.relative(listing.dir, `${dir}/istiod.yaml`)} to the resources of ${listing.file}, or Argo CD never applies it`,
      );
    steps.push(
      `# commit ${dir}/ (gateways stay disabled: they move in their own phase); the phase passes once the repo shows istiod-${to.name}`,
    );
    return steps;
  }
  // Installed outside git (e.g. by asmcli): install the new revision with the same tool.
  if (asm) {
    // The new revision must use the CA the running one uses, or mTLS between the two breaks.
    return [
      ...placeholders,
      fetch,
      `./asmcli install ${asmcliTarget} --ca CA   # CA: the one ${from.name} uses (mesh_ca, gcp_cas or citadel)`,
      `kubectl -n ${ISTIO_SYSTEM} rollout status deployment/istiod-${to.name}`,
    ];
  }
  return [
    ...placeholders,
    fetch,
    `${istioctl} install --set revision=${to.name} ${gatewaysOff} -y`,
    `kubectl -n ${ISTIO_SYSTEM} rollout status deployment/istiod-${to.name}`,
  ];
}

/**
 * The asmcli script of exactly the target release. `asmcli_<minor>` is re-published with every
 * patch and installs the newest one on the day it is downloaded, so two clusters upgraded a week
 * apart get different releases, and `istio-<version>/` may not be what it unpacks. Each release's
 * own script is published as `asmcli_<version>-config<N>`: csm-artifacts/asm/ASMCLI_VERSIONS lists
 * them as `<version>+config<N>:asmcli_<version>-config<N>` (GoogleCloudPlatform/kubeflow-distribution,
 * ASM upgrade README), and asmcli's own `version_message` is `<version>+config<N>`
 * (anthos-service-mesh-packages asmcli/lib/util.sh, `init`). config1 is a release's first packaging.
 */
function asmcliDownload(version: string | null): string {
  const pinned = `curl -sSLo asmcli https://storage.googleapis.com/csm-artifacts/asm/asmcli_${version ?? 'VERSION'}-config1 && chmod +x asmcli`;
  return version
    ? `${pinned}   # exactly ${version}: asmcli_${minorOf(version)} would install the newest ${minorOf(version)} patch`
    : pinned;
}

/**
 * How asmcli reaches the cluster. On GKE it looks the cluster up in Google Cloud by project, name
 * and location; outside Google Cloud (Anthos on bare metal or VMware, other clouds) those flags
 * fail, and it takes the cluster's kubeconfig and the fleet host project instead.
 */
function asmcliPlatformFlags(platform: PlanContext['platform']): string {
  return platform === 'multicloud'
    ? '--platform multicloud --kubeconfig KUBECONFIG --fleet_id FLEET_PROJECT_ID'
    : '--project_id PROJECT_ID --cluster_name CLUSTER_NAME --cluster_location CLUSTER_LOCATION';
}

/** What the placeholders of {@link asmcliPlatformFlags} stand for. */
function asmcliPlaceholders(platform: PlanContext['platform']): string {
  return platform === 'multicloud'
    ? "# KUBECONFIG: the cluster's kubeconfig file; FLEET_PROJECT_ID: the fleet host project"
    : "# PROJECT_ID, CLUSTER_NAME, CLUSTER_LOCATION: the cluster's Google Cloud project, name and location";
}

/** What a rendered control plane needs besides its Deployment: the Service and the injector. */
function missingManifests(revision: InstalledRevision, name: string): string[] {
  const has = (kind: string, objectName: string) => revision.ownedObjects.some((o) => o.kind === kind && o.name === objectName);
  return [
    has('Service', `istiod-${name}`) ? null : `Service istiod-${name}`,
    has('MutatingWebhookConfiguration', `istio-sidecar-injector-${name}`)
      ? null
      : `MutatingWebhookConfiguration istio-sidecar-injector-${name}`,
  ].filter((m): m is string => m !== null);
}

function getValue(object: IndexedObject, path: readonly string[]): unknown {
  let current: unknown = object.body;
  for (const key of path) current = asDict(current)[key];
  return current;
}

function withoutKey(values: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = values;
  return rest;
}
