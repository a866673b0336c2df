import { type App, Chart } from 'cdk8s';
import { NamespaceInjection } from '../../constructs/namespace-injection.js';
import { WorkloadRestart } from '../../constructs/workload-restart.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { MeshInventory, MeshNamespace, Workload } from '../inventory.js';
import type { Revision } from '../revision.js';
import type { SailControlPlane } from '../sources/sail.js';

/**
 * What every phase of a Sail plan shares, worked out once by `draftSailUpgrade`: the Istio, where the
 * upgrade goes and comes from, and which revisions count as old. Kept apart from sail.ts so that the
 * phase modules can use it without importing the orchestrator back.
 */
export interface SailContext {
  readonly plane: SailControlPlane;
  readonly inventory: MeshInventory;
  readonly app: App;
  readonly warn: (w: PlanWarning) => void;
  readonly from: Revision | null;
  readonly to: Revision;
  /** The release being installed, without the `v`. */
  readonly version: string;
  /** The restart marker: names the release even when InPlace keeps one revision name. */
  readonly marker: string;
  /** Revisions of this Istio that are not the target (the one the upgrade leaves, and older ones still named). */
  readonly oldNames: ReadonlySet<string>;
}

/** One cdk8s chart per phase, so each phase's objects render apart. */
export function sailScope(ctx: SailContext, id: string): Chart {
  return new Chart(ctx.app, `sail-${id}`, { disableResourceNameHashes: true });
}

export function idOf(...parts: Array<string | null>): string {
  return parts.filter((p) => p).join('-');
}

/** Whether a revision label belongs to this Istio (the target or an old revision). */
export function onMesh(ctx: SailContext, revision: string | null): boolean {
  return revision !== null && (revision === ctx.to.name || ctx.oldNames.has(revision));
}

/** A namespace pinned by name to an old revision is relabelled; one on a tag or istio-injection follows the Istio by itself. */
export function pinnedToOld(ctx: SailContext, ns: MeshNamespace | undefined): boolean {
  return ns?.injection.mode === 'revision' && ctx.oldNames.has(ns.injection.value);
}

export function restartWorkload(ctx: SailContext, chart: Chart, w: Workload): PlacedObject {
  return {
    desired: new WorkloadRestart(chart, idOf(w.object.kind, w.object.namespace, w.object.name), {
      apiVersion: w.object.apiVersion,
      kind: w.object.kind as 'Deployment',
      namespace: w.object.namespace ?? '',
      name: w.object.name,
      // The marker names the release (InPlace keeps the revision name), the pod label the revision.
      revision: ctx.marker,
      // A pod pinned by name to an old revision is relabelled in the same edit (RevisionBased: the marker is the revision).
      podRevisionLabel: ctx.marker === ctx.to.name && w.podRevision !== null && ctx.oldNames.has(w.podRevision),
    }),
    targets: [w.object],
  };
}

export function relabelNamespace(ctx: SailContext, chart: Chart, ns: MeshNamespace): PlacedObject {
  return {
    desired: new NamespaceInjection(chart, idOf('Namespace', ns.name), { namespace: ns.name, revision: ctx.to.name }),
    targets: ns.definitions,
  };
}
