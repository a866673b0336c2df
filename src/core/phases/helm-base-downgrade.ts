import semver from 'semver';
import { parseVersion } from '../revision.js';
import type { PlanContext } from './context.js';

/**
 * A downgrade with Helm keeps the `base` chart (the CRDs, shared by every revision) at its newer
 * release: older CRDs can drop fields or versions that objects in the cluster (and the newer istiod
 * until cleanup) still use, and Istio supports newer CRDs with an older control plane, not the
 * other way round. The plan says so: a warning, and a sentence for the control-plane pull request.
 * @see https://istio.io/latest/docs/setup/upgrade/helm/
 */
export function baseKeptOnDowngrade(ctx: PlanContext): string | null {
  const base = ctx.inventory.helmBase;
  const version = ctx.to.version;
  if (!base || !version) return null;
  const current = base.chartVersion === null ? null : parseVersion(base.chartVersion);
  const target = parseVersion(version);
  // Below the running control plane too: a base chart already behind the istiod is not the downgrade's doing.
  const running = ctx.from.version ? parseVersion(ctx.from.version) : null;
  const newer = current ?? running;
  if (!newer || !target || !semver.gt(newer, target)) return null;
  const { object } = base;
  const shown = current ? base.chartVersion! : `the running release (${ctx.from.version})`;
  ctx.warn({
    code: 'helm-base-kept-newer',
    message: `downgrade to ${version}: the base chart ${object.kind} ${object.name} (the Istio CRDs, shared by every revision) stays at ${shown}; older CRDs could drop fields or versions that objects in the cluster still use, and an older istiod works with newer CRDs. Move it down by hand only once nothing uses the newer fields.`,
    file: object.file,
  });
  return ` The base chart ${object.name} (the CRDs) stays at ${shown}: a downgrade keeps the newer CRDs, which ${version} works with, because older ones could drop fields still in use.`;
}
