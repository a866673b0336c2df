/** Phase ids, in the order a canary upgrade runs them. Workload waves are `workloads-<n>`. */
const PHASE_ORDER = [
  'control-plane',
  'gateways',
  'workloads',
  'default-revision',
  'scale-down',
  'cleanup',
  'operator-cleanup',
  'scale-up',
] as const;
type PhaseKind = (typeof PHASE_ORDER)[number];

/** Restarts proceed at about this many pods a minute (ASM's documented figure). */
const PODS_PER_MINUTE = 100;
/** Default pod budget of one workload wave: about a minute of restarts. */
export const DEFAULT_POD_BUDGET = 100;

/** The kind of a phase id (`workloads-3` → workloads; rollback phases are `rollback-<id>`). */
export function phaseKindOf(id: string): PhaseKind | null {
  const bare = id.replace(/^rollback-/, '');
  if (/^workloads(-\d+)?$/.test(bare)) return 'workloads';
  return (PHASE_ORDER as readonly string[]).includes(bare) ? (bare as PhaseKind) : null;
}

export function restartMinutes(pods: number): number {
  return Math.max(1, Math.ceil(pods / PODS_PER_MINUTE));
}
