import semver from 'semver';
import { UpgradeRefusedError } from '../model/errors.js';
import { getPath } from '../model/kube.js';
import type { PlanWarning } from '../model/plan-warning.js';
import type { InstalledRevision, MeshInventory } from './inventory.js';
import { helmHomeOrRefuse } from './phases/operator-to-helm.js';
import type { PlanOptions } from './plan-types.js';
import type { Revision } from './revision.js';
import { isOperatorToHelm } from './sources/iop-to-helm.js';
import { isFirstCanaryFromIop } from './sources/operator-nonrevisioned.js';
import type { buildYamlIndex } from './yaml-index.js';

/**
 * Istio's in-cluster operator ended with 1.23: an IstioOperator it reconciles cannot go past 1.23.x
 * (istioctl 1.24 has no `operator init`, and there is no operator image to run).
 * @see https://istio.io/latest/blog/2024/in-cluster-operator-deprecation-announcement/
 */
export function assertOperatorCanReach(installed: InstalledRevision | null, to: Revision, index: ReturnType<typeof buildYamlIndex>): void {
  if (installed?.install !== 'istio-operator' || !to.version) return;
  // Past 1.23 the operator install moves to Helm releases (phases/operator-to-helm.ts), where the repo's GitOps style allows.
  if (isOperatorToHelm(installed, to)) {
    helmHomeOrRefuse({ index, installed, to });
    return;
  }
  // istioctl install -f of an IstioOperator outlives the in-cluster operator.
  if (installed.name === 'default' && !installed.operator) return;
  const target = semver.parse(to.version);
  if (!target || target.major > 1 || (target.major === 1 && target.minor <= 23)) return;
  throw new UpgradeRefusedError(
    `${to.name} (${to.version}) is past Istio 1.23, the last release of the in-cluster operator that reconciles IstioOperator ${installed.installer?.name ?? ''}. Upgrade to a 1.23 release with the operator, or migrate the control plane to Helm first (istioctl manifest translate), then upgrade.`,
    'operator-end-of-life',
  );
}

/**
 * The first canary from a non-revisioned control plane (revision `default`) is planned for rendered
 * manifests only; other styles are refused with what to do instead, never half planned.
 */
export function assertNonRevisionedSupported(installed: InstalledRevision | null, inventory: MeshInventory, options: PlanOptions): void {
  if (installed?.name !== 'default') return;
  void options;
  if (installed.install === 'manifests' && inventory.nonRevisionInjector) return;
  if (isFirstCanaryFromIop(installed)) return;
  // Helm istiod release without `revision`: Istio's Helm canary, namespaces relabelled (phases/helm-nonrevisioned.ts).
  if (installed.install === 'helm' && installed.helm?.chart === 'istiod') return;
  throw new UpgradeRefusedError(
    'the control plane in this repo is non-revisioned (istiod without a revision); its first canary upgrade is not supported yet. Install the target revision beside it by hand (istioctl manifest generate --set revision=<target>), then plan again.',
    'non-revisioned-unsupported',
  );
}

/**
 * A chart version read from a Flux substitution ConfigMap while Secrets sit in the same
 * `substituteFrom`: a Secret that sets the variable would win, and git cannot show it.
 */
export function fluxSecretWarnings(inventory: MeshInventory): PlanWarning[] {
  const releases = [...inventory.revisions.map((r) => r.helm), ...inventory.helmGateways, inventory.helmBase].filter(
    (r): r is NonNullable<typeof r> => r !== null && r !== undefined,
  );
  const seen = new Set<string>();
  const out: PlanWarning[] = [];
  for (const { chartVersionSubstitution: sub } of releases) {
    if (sub?.source !== 'configmap' || sub.secrets.length === 0 || seen.has(sub.variable)) continue;
    seen.add(sub.variable);
    out.push({
      code: 'flux-substitution-secret',
      message: `\${${sub.variable}} is read as ${sub.value} from ConfigMap ${sub.configMap?.name ?? ''}; Secret ${sub.secrets.join(', ')} in the same postBuild.substituteFrom cannot be read from git and would win if it set ${sub.variable}. Check: kubectl -n ${sub.kustomization?.namespace ?? 'flux-system'} get secret ${sub.secrets[0]} -o jsonpath='{.data.${sub.variable}}'   # expect nothing`,
      file: sub.configMap?.file ?? null,
    });
  }
  return out;
}

/**
 * Istio charts installed through sources the planner does not read yet: an Argo CD Application with
 * `spec.sources` (multi-source) or a Flux HelmRelease with `spec.chartRef` (OCIRepository or
 * HelmChart). Refused by name rather than planned as if the control plane were outside git.
 */
export function assertReadableHelmSources(index: ReturnType<typeof buildYamlIndex>): void {
  const ISTIO_CHART = /^(base|istiod|gateway)$/;
  // Istio's chart repositories (and mirrors that keep the name): another chart called `gateway` is not Istio's.
  const ISTIO_REPO = /istio/i;
  const found: string[] = [];
  for (const app of index.ofKind('Application')) {
    const sources = getPath(app.body, ['spec', 'sources']);
    if (app.isPatch || !Array.isArray(sources)) continue;
    if (
      sources.some(
        (source) =>
          ISTIO_CHART.test(String(getPath(source, ['chart']) ?? '')) && ISTIO_REPO.test(String(getPath(source, ['repoURL']) ?? '')),
      )
    )
      found.push(`Application ${app.name} (${app.file}): spec.sources`);
  }
  const charts = new Map(
    [...index.ofKind('OCIRepository'), ...index.ofKind('HelmChart')].map((o) => [`${o.kind}/${o.namespace ?? ''}/${o.name}`, o]),
  );
  for (const release of index.ofKind('HelmRelease')) {
    const ref = getPath(release.body, ['spec', 'chartRef']) as { kind?: unknown; name?: unknown; namespace?: unknown } | undefined;
    if (release.isPatch || !ref || typeof ref.name !== 'string') continue;
    const source = charts.get(`${String(ref.kind)}/${String(ref.namespace ?? release.namespace ?? '')}/${ref.name}`);
    const chart = source
      ? String(
          getPath(source.body, ['spec', 'chart']) ??
            String(getPath(source.body, ['spec', 'url']) ?? '')
              .split('/')
              .pop(),
        )
      : '';
    // An OCIRepository names its registry in `url`; a HelmChart its HelmRepository, whose URL says.
    const repoRef = source ? (getPath(source.body, ['spec', 'sourceRef', 'name']) as string | undefined) : undefined;
    const repoUrl =
      source?.kind === 'OCIRepository'
        ? String(getPath(source.body, ['spec', 'url']) ?? '')
        : String(getPath(index.ofKind('HelmRepository').find((r) => r.name === repoRef)?.body, ['spec', 'url']) ?? '');
    if (ISTIO_CHART.test(chart) && ISTIO_REPO.test(repoUrl))
      found.push(`HelmRelease ${release.name} (${release.file}): spec.chartRef to ${source!.kind} ${source!.name}`);
  }
  if (found.length === 0) return;
  throw new UpgradeRefusedError(
    `Istio charts installed through sources the planner does not read yet: ${found.join('; ')}. Use spec.source with the chart and inline helm values (Argo CD), or spec.chart.spec with a HelmRepository (Flux), for the Istio releases; or upgrade by hand.`,
    'helm-source-unsupported',
  );
}

/**
 * Argo CD `helm.parameters` win over `valuesObject` and `values`, where the plan writes `revision`,
 * `revisionTags` and the rest: a copy of such an Application would keep the old revision. Refused
 * with the way out rather than planned wrong.
 */
export function assertNoMeshParameters(inventory: MeshInventory): void {
  const releases = [...inventory.revisions.map((r) => r.helm), ...inventory.helmGateways, inventory.helmBase].filter(
    (r): r is NonNullable<typeof r> => r !== null && r !== undefined,
  );
  const found = releases.filter((r) => (r.meshParameters ?? []).length > 0);
  if (found.length === 0) return;
  throw new UpgradeRefusedError(
    `${found.map((r) => `${r.object.kind} ${r.object.name} (${r.object.file}) sets ${r.meshParameters!.join(', ')} in spec.source.helm.parameters`).join('; ')}: Argo CD parameters win over valuesObject and values, where the plan writes these values, so a copy for the new revision would keep the old one. Move them into helm.valuesObject (or helm.values), then plan again.`,
    'helm-parameters-override',
  );
}
