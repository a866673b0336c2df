import type { IndexedObject } from '../../model/objects.js';
import type { Workload } from '../inventory.js';

/** More restarted workloads than this in one namespace get one loop over the namespace instead of a line each. */
export const MAX_NAMED_ROLLOUT_CHECKS = 10;

/** Every type a meshed namespace may restart, for namespaces whose workloads are not in the repo. */
export const ALL_WORKLOAD_TYPES: readonly string[] = ['deployment', 'statefulset', 'daemonset'];

/**
 * `kubectl rollout status` checks for the workloads a phase restarts in one namespace. The command
 * takes one resource at a time, so: one line per workload (`deployment/NAME`), or, above
 * {@link MAX_NAMED_ROLLOUT_CHECKS} of them, one loop over the namespace's objects of their types.
 * `restarted` is null when the namespace's workloads are not in the repo: then the loop runs over
 * every object of `unknownTypes`.
 */
export function rolloutStatusChecks(
  namespace: string,
  restarted: ReadonlyArray<Pick<IndexedObject, 'kind' | 'name'>> | null,
  unknownTypes: readonly string[] = ALL_WORKLOAD_TYPES,
): string[] {
  const timeout = '--timeout=10m';
  const loop = (types: readonly string[]) =>
    `for w in $(kubectl -n ${namespace} get ${types.join(',')} -o name); do kubectl -n ${namespace} rollout status "$w" ${timeout}; done`;
  if (restarted === null) return [loop(unknownTypes)];
  if (restarted.length > MAX_NAMED_ROLLOUT_CHECKS) {
    const types = [...new Set(restarted.map((w) => w.kind.toLowerCase()))].sort(
      (a, b) => ALL_WORKLOAD_TYPES.indexOf(a) - ALL_WORKLOAD_TYPES.indexOf(b),
    );
    return [loop(types)];
  }
  return restarted.map((w) => `kubectl -n ${namespace} rollout status ${w.kind.toLowerCase()}/${w.name} ${timeout}`);
}

/**
 * What a workloads wave restarts in one namespace: its workloads that are not opted out of
 * injection, or null when none of the namespace's workloads are in the repo.
 */
export function restartedWorkloads(workloads: readonly Workload[]): IndexedObject[] | null {
  return workloads.length === 0 ? null : workloads.filter((w) => !w.optedOut).map((w) => w.object);
}

/** The gateways a gateways phase restarts in one namespace, or null when none is in the repo (a Helm release installs it). */
export function restartedGateways(moving: readonly Workload[], namespace: string): IndexedObject[] | null {
  const here = moving.filter((g) => g.object.namespace === namespace).map((g) => g.object);
  return here.length === 0 ? null : here;
}
