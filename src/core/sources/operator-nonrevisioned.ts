import { UpgradeRefusedError } from '../../model/errors.js';
import { getPath, ISTIO_SYSTEM, labelsOf, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { HelmRelease, InClusterOperator, InstalledRevision } from '../inventory.js';
import type { YamlIndex } from '../repo-index.js';
import { parseVersion } from '../revision.js';
import type { StrategySetting } from '../upgrade-options.js';

/**
 * The first canary from an IstioOperator without `spec.revision` (revision `default`), applied by
 * `istioctl install -f` (no operator in git) or reconciled by a non-revisioned in-cluster operator
 * (`istio-operator`, REVISION "" or unset) that is itself in git.
 *
 * An IstioOperator without revision counts as a control plane when it has a name and is neither a
 * kustomize patch nor an `installed-state` record; beside a rendered non-revisioned istiod it is
 * the overlay that render was made from, unless a non-revisioned operator in git would reconcile it.
 */
export function nonRevisionedIstioOperators(
  index: YamlIndex,
  renderedIstiod: boolean,
  operators: readonly InClusterOperator[],
): IndexedObject[] {
  const found = index
    .ofKind('IstioOperator')
    .filter(
      (o) => !o.isPatch && o.name !== '' && !o.name.startsWith('installed-state') && !stringOf(getPath(o.body, ['spec', 'revision'])),
    );
  if (renderedIstiod && !operators.some((op) => op.revision === null)) return [];
  return found;
}

/** Revision `default` as installed by a non-revisioned IstioOperator (its objects live in the cluster only). */
export function nonRevisionedIopRevision(iop: IndexedObject, operators: readonly InClusterOperator[]): InstalledRevision {
  const operator = operators.find((o) => o.revision === null) ?? null;
  const tag = stringOf(getPath(iop.body, ['spec', 'tag']));
  const replicas = getPath(iop.body, ['spec', 'components', 'pilot', 'k8s', 'replicaCount']);
  return {
    name: 'default',
    version: (tag && parseVersion(tag)) ?? operator?.version ?? null,
    install: 'istio-operator',
    installer: iop,
    helm: null,
    // The operator goes with its IstioOperator at cleanup: it is stopped from the control-plane
    // phase on, so it is no longer the one that removes the finalizer.
    ownedObjects: [iop],
    istiodReplicas: typeof replicas === 'number' ? replicas : null,
    hasDisruptionBudget: getPath(iop.body, ['spec', 'components', 'pilot', 'k8s', 'hpaSpec', 'minReplicas']) !== undefined,
    operator,
  };
}

/** Whether a plan upgrades from a non-revisioned IstioOperator (the first canary of an IOP install). */
export function isFirstCanaryFromIop(installed: InstalledRevision | null): installed is InstalledRevision & { installer: IndexedObject } {
  return installed?.name === 'default' && installed.install === 'istio-operator' && installed.installer !== null;
}

/**
 * One non-revisioned control plane at most: two of them (two IstioOperators without revision, or
 * one beside a rendered non-revisioned istiod or a Helm istiod release without revision) both
 * claim revision `default` (the same istiod, injector and Service names), and no plan can say
 * which one the cluster runs.
 */
export function assertSingleNonRevisioned(
  index: YamlIndex,
  operators: readonly InClusterOperator[],
  helmReleases: readonly HelmRelease[],
): void {
  const rendered = index
    .ofKind('Deployment')
    .filter(
      (o) => !o.isPatch && o.namespace === ISTIO_SYSTEM && o.name === 'istiod' && (labelsOf(o.body)[REV_LABEL] ?? 'default') === 'default',
    );
  const iops = nonRevisionedIstioOperators(index, rendered.length > 0, operators);
  const helm = helmReleases.filter((r) => r.chart === 'istiod' && !r.object.isPatch && !stringOf(r.values.revision)).map((r) => r.object);
  const found = [...iops, ...rendered, ...helm];
  if (found.length < 2) return;
  const names = found.map((o) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name} (${o.file})`);
  throw new UpgradeRefusedError(
    `the repo holds ${found.length} non-revisioned control planes: ${names.join('; ')}. Each claims revision "default" (istiod, istio-sidecar-injector and the istiod Service by the same names), so there is no telling which one the cluster runs. Keep the one that is applied (delete the other, or turn it into an overlay without metadata.name), then plan again.`,
    'several-non-revisioned',
  );
}

/**
 * Namespaces are relabelled to the new revision: the tag that istio-injection=enabled follows and
 * the injector it replaces live in the cluster only (istioctl or the operator made them), so no
 * commit can move one with the other. An explicit `--strategy tag` is overruled, with a warning.
 */
export function firstCanaryStrategy(
  requested: StrategySetting,
  warn: (w: { code: string; message: string; file: string | null }) => void,
): 'relabel' {
  if (requested === 'tag') {
    warn({
      code: 'strategy-relabel-for-iop',
      message:
        'from a non-revisioned IstioOperator the namespaces are relabelled (istio.io/rev=<new>) instead of following a moved default tag: the tag and the old injector live in the cluster only, so no commit can switch them together.',
      file: null,
    });
  }
  return 'relabel';
}

function stringOf(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
}
