import type { PlacedObject } from '../../model/placed-object.js';
import type { MeshNamespace, Workload } from '../inventory.js';
import { restartMinutes } from '../phase-ids.js';
import type { PhaseDraft } from './context.js';
import { rolloutStatusChecks } from './rollout.js';
import { onMesh, pinnedToOld, relabelNamespace, restartWorkload, type SailContext, sailScope } from './sail-context.js';

/** A namespace moved as a whole: its workloads in the repo (none when only the namespace is). */
interface Unit {
  readonly name: string;
  readonly ns: MeshNamespace | null;
  readonly workloads: readonly Workload[];
  readonly pods: number;
}

export interface SailWorkloads {
  /** The workloads phases that move something (empty when nothing runs on this Istio). */
  readonly drafts: readonly PhaseDraft[];
  /** Whether some namespace is pinned by name to an old revision, so the plan relabels rather than lets tags follow. */
  readonly relabels: boolean;
}

/**
 * The namespaces to move, sorted by name: those on this Istio (but not a namespace that holds only
 * gateways, moved with them), then those whose workloads alone carry a pod revision label of it.
 */
function sailUnits(ctx: SailContext, gatewayNamespaces: readonly string[]): Unit[] {
  const { inventory } = ctx;
  const byNamespace = new Map<string, Workload[]>();
  for (const w of inventory.workloads) {
    const list = byNamespace.get(w.object.namespace ?? '') ?? [];
    list.push(w);
    byNamespace.set(w.object.namespace ?? '', list);
  }
  const units: Unit[] = [];
  for (const ns of inventory.namespaces) {
    if (!onMesh(ctx, ns.revision)) continue;
    const workloads = byNamespace.get(ns.name) ?? [];
    if (gatewayNamespaces.includes(ns.name) && workloads.length === 0) continue;
    units.push({ name: ns.name, ns, workloads, pods: workloads.reduce((n, w) => n + (w.optedOut ? 0 : w.replicas), 0) });
  }
  for (const [name, workloads] of byNamespace) {
    if (units.some((u) => u.name === name)) continue;
    const own = workloads.filter((w) => onMesh(ctx, w.podRevision));
    if (own.length) units.push({ name, ns: null, workloads: own, pods: own.reduce((n, w) => n + (w.optedOut ? 0 : w.replicas), 0) });
  }
  units.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return units;
}

/** Waves of whole namespaces, each of at most podBudget pods (a bigger namespace makes a wave alone). */
function waves(units: readonly Unit[], podBudget: number): Unit[][] {
  const result: Unit[][] = [];
  let current: Unit[] = [];
  let pods = 0;
  for (const unit of units) {
    if (current.length > 0 && pods + unit.pods > podBudget) {
      result.push(current);
      current = [];
      pods = 0;
    }
    current.push(unit);
    pods += unit.pods;
  }
  if (current.length) result.push(current);
  return result;
}

/** workloads[-n]: relabel the namespaces pinned to an old revision and restart their pods, in waves. */
export function draftSailWorkloads(ctx: SailContext, gatewayNamespaces: readonly string[], podBudget: number): SailWorkloads {
  const { plane, from, to, warn } = ctx;
  const units = sailUnits(ctx, gatewayNamespaces);
  const all = waves(units, podBudget);
  const drafts = all.map((wave, i): PhaseDraft => {
    const id = all.length === 1 ? 'workloads' : `workloads-${i + 1}`;
    const chart = sailScope(ctx, id);
    const objects: PlacedObject[] = [];
    const manual: string[] = [];
    for (const unit of wave) {
      if (unit.ns && pinnedToOld(ctx, unit.ns)) objects.push(relabelNamespace(ctx, chart, unit.ns));
      for (const w of unit.workloads) {
        if (w.optedOut) continue;
        objects.push(restartWorkload(ctx, chart, w));
      }
      if (unit.workloads.length === 0) {
        manual.push(`kubectl -n ${unit.name} rollout restart deployment,statefulset,daemonset   # its workloads are not in this repo`);
        warn({
          code: 'workloads-not-in-repo',
          message: `namespace ${unit.name} is meshed but none of its workloads are in the repo; restart them by hand after merging.`,
          file: unit.ns?.definitions[0]?.file ?? null,
        });
      }
    }
    const names = wave.map((u) => u.name);
    const wavePods = wave.reduce((n, u) => n + u.pods, 0);
    const pinned = wave.filter((u) => u.ns && pinnedToOld(ctx, u.ns)).map((u) => u.name);
    const following = wave.filter((u) => u.ns && !pinnedToOld(ctx, u.ns)).map((u) => u.name);
    return {
      id,
      title: `Move workloads to ${to.name}${all.length > 1 ? ` (wave ${i + 1} of ${all.length}: ${names.join(', ')})` : ''}`,
      why: [
        pinned.length ? `Relabels ${pinned.join(', ')} from the old revision's name to istio.io/rev=${to.name}.` : '',
        following.length
          ? `${following.join(', ')} follow${following.length > 1 ? '' : 's'} Istio ${plane.name} (istio-injection or an IstioRevisionTag) and already inject${following.length > 1 ? '' : 's'} new pods with ${to.name}.`
          : '',
        `Restarts their ${wavePods} pod(s) so that they are re-injected with the ${to.version} proxy: injection only happens when a pod is created, and the Sail Operator restarts nothing.`,
      ]
        .filter(Boolean)
        .join(' '),
      objects,
      deletions: [],
      manual,
      manualDone: true,
      pods: wavePods,
      namespaces: names,
      estimatedMinutes: restartMinutes(wavePods),
      verify: [
        `kubectl get namespace ${names.join(' ')} -L istio-injection -L istio.io/rev`,
        ...wave.flatMap((u) =>
          rolloutStatusChecks(u.name, u.workloads.length ? u.workloads.filter((w) => !w.optedOut).map((w) => w.object) : null),
        ),
      ],
      rollback: [
        `Revert this pull request: the namespaces go back and the pods restart${plane.strategy === 'RevisionBased' ? ` onto ${from?.name ?? 'the old revision'} (still installed while used)` : ''}.`,
      ],
    };
  });
  return { drafts, relabels: units.some((u) => u.ns && pinnedToOld(ctx, u.ns)) };
}
