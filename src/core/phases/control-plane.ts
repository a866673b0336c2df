import { IstiodRelease } from '../../constructs/helm-release.js';
import { IstioOperatorRevision } from '../../constructs/istio-operator-revision.js';
import { patchYamlMappingText } from '../../writer/yaml-patch.js';
import { asDict, ISTIO_SYSTEM } from '../kube.js';
import { minorOf } from '../revision.js';
import type { IndexedObject } from '../yaml-index.js';
import type { DraftScope, PhaseDraft, PlanContext } from './context.js';
import { fileForRevision, manifestsDirForRevision, renameForRevision } from './naming.js';

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
  if (already) {
    ctx.warn({ code: 'target-already-installed', message: `revision ${to.name} is already installed (${already.install}); the control-plane phase has nothing to add.`, file: already.installer?.file ?? null });
    return { ...base, objects: [], manual: [], manualDone: true };
  }

  if (installed?.install === 'istio-operator' && installed.installer) {
    const operator = installed.installer;
    const name = renameForRevision(operator.name, from.name, to.name);
    const file = fileForRevision(operator.file, from.name, to.name);
    const tag = asDict(operator.body.spec).tag !== undefined && to.version ? to.version : undefined;
    const desired = new IstioOperatorRevision(s.scope, s.id('IstioOperator', name), {
      current: operator,
      currentRevision: from.name,
      name,
      namespace: operator.namespace ?? ISTIO_SYSTEM,
      revision: to.name,
      ...(tag ? { tag } : {}),
      file,
    });
    registerCreated(ctx, 'control-plane', desired.toJson(), file);
    return { ...base, objects: [{ desired, targets: [] }], manual: [], manualDone: true };
  }

  if (installed?.install === 'helm' && installed.helm) {
    const release = installed.helm;
    const name = renameForRevision(release.object.name, from.name, to.name);
    const file = fileForRevision(release.object.file, from.name, to.name);
    const valuesPatch = { revision: to.name, revisionTags: null };
    const values = release.valuesAreText
      ? patchYamlMappingText(release.object.file, String(getValue(release.object, release.valuesPath)), valuesPatch)
      : withoutKey({ ...release.values, revision: to.name }, 'revisionTags');
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
    return { ...base, objects: [{ desired, targets: [] }], manual: [], manualDone: true };
  }

  return { ...base, objects: [], manual: manualInstallSteps(ctx), manualDone: false };
}

function manualInstallSteps(ctx: PlanContext): string[] {
  const { from, to, installed } = ctx;
  const version = to.version ?? '<version>';
  const asm = to.flavor === 'asm';
  const istioctl = asm ? `./${to.name}/istio-${version}/bin/istioctl` : `./istio-${version}/bin/istioctl`;
  const fetch = asm
    ? `curl -sSLo asmcli https://storage.googleapis.com/csm-artifacts/asm/asmcli_${minorOf(version)} && chmod +x asmcli   # asmcli pins the ASM release it installs`
    : `curl -sSL https://istio.io/downloadIstio | ISTIO_VERSION=${version} sh -   # istioctl ${version}`;
  const gatewaysOff = '--set components.ingressGateways[0].enabled=false --set components.egressGateways[0].enabled=false';

  if (installed?.install === 'manifests' && installed.installer) {
    const dir = manifestsDirForRevision(installed.installer.file, from.name, to.name);
    const steps = [fetch];
    if (asm) {
      steps.push(
        `./asmcli print-config --project_id PROJECT_ID --cluster_name CLUSTER_NAME --cluster_location CLUSTER_LOCATION --revision_name ${to.name} --output_dir ./${to.name} > ${to.name}-overlay.yaml`,
      );
    }
    steps.push(
      `${istioctl} manifest generate ${asm ? `-f ${to.name}-overlay.yaml` : '-f <the IstioOperator overlay the current revision was rendered from>'} --set revision=${to.name} ${gatewaysOff} > ${dir}/istiod.yaml`,
      `# commit ${dir}/ (gateways stay disabled: they move in their own phase), then say /upgrade continue`,
    );
    return steps;
  }
  // Installed outside git (e.g. by asmcli): install the new revision with the same tool.
  if (asm) {
    return [
      fetch,
      `./asmcli install --project_id PROJECT_ID --cluster_name CLUSTER_NAME --cluster_location CLUSTER_LOCATION --revision_name ${to.name} --output_dir ./${to.name} --ca mesh_ca`,
      `kubectl -n ${ISTIO_SYSTEM} rollout status deployment/istiod-${to.name}`,
    ];
  }
  return [fetch, `${istioctl} install --set revision=${to.name} ${gatewaysOff} -y`, `kubectl -n ${ISTIO_SYSTEM} rollout status deployment/istiod-${to.name}`];
}

function registerCreated(ctx: PlanContext, key: string, json: ReturnType<IstioOperatorRevision['toJson']>, file: string): void {
  const object: IndexedObject = {
    file,
    documentIndex: 0,
    apiVersion: json.apiVersion,
    kind: json.kind,
    namespace: json.metadata.namespace ?? null,
    name: json.metadata.name,
    body: json as unknown as IndexedObject['body'],
    isPatch: false,
  };
  ctx.created.set(key, object);
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
