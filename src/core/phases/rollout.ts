import type { IndexedObject } from '../../model/objects.js';
import type { Workload } from '../inventory.js';

/** More restarted workloads than this in one namespace get one type-wide check instead of a line each. */
const MAX_NAMED_ROLLOUT_CHECKS = 10;

/** `kubectl rollout status` with a resource type and no name waits for every object of the type only from kubectl 1.25. */
const NEEDS_KUBECTL_1_25 = '# kubectl ≥ 1.25';

/** Every type a meshed namespace may restart, for namespaces whose workloads are not in the repo. */
const ALL_WORKLOAD_TYPES: readonly string[] = ['deployment', 'statefulset', 'daemonset'];

/**
 * `kubectl rollout status` checks for the workloads a phase restarts in one namespace: one line per
 * workload (`deployment/NAME` works with every kubectl), or, above {@link MAX_NAMED_ROLLOUT_CHECKS}
 * of them, one type-wide line marked as needing kubectl ≥ 1.25. `restarted` is null when the
 * namespace's workloads are not in the repo: then only the type-wide form (of `unknownTypes`) can
 * name them.
 */
export function rolloutStatusChecks(
  namespace: string,
  restarted: ReadonlyArray<Pick<IndexedObject, 'kind' | 'name'>> | null,
  unknownTypes: readonly string[] = ALL_WORKLOAD_TYPES,
): string[] {
  const timeout = '--timeout=10m';
  if (restarted === null) return [`kubectl -n ${namespace} rollout status ${unknownTypes.join(',')} ${timeout}   ${NEEDS_KUBECTL_1_25}`];
  if (restarted.length > MAX_NAMED_ROLLOUT_CHECKS) {
    const types = [...new Set(restarted.map((w) => w.kind.toLowerCase()))].sort(
      (a, b) => ALL_WORKLOAD_TYPES.indexOf(a) - ALL_WORKLOAD_TYPES.indexOf(b),
    );
    return [`kubectl -n ${namespace} rollout status ${types.join(',')} ${timeout}   ${NEEDS_KUBECTL_1_25}`];
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
