import type { UpgradePlan } from '../core/plan-types.js';
import { newPhaseRecord, type PhaseRecord, type UpgradeState } from '../core/state.js';

/**
 * Small pure transitions of the stored state. Each returns a new state; the caller's is never
 * changed.
 */

/** An upgrade this issue drives (a dry run only shows a plan: it holds no lock and opens nothing). */
export function isActive(state: UpgradeState): boolean {
  return (state.status === 'running' || state.status === 'paused') && !state.options.dryRun;
}

/** The first phase that has not passed (nor was found done). */
export function currentPhase(state: UpgradeState): PhaseRecord | undefined {
  return state.phases.find((p) => !isSettled(p));
}

export function isSettled(phase: PhaseRecord): boolean {
  return phase.status === 'passed' || phase.status === 'done';
}

export function paused(state: UpgradeState, reason: string): UpgradeState {
  return { ...state, status: 'paused', reason };
}

/** Phase records for every phase of a plan (those the repo already shows are done). */
export function phaseRecordsOf(plan: UpgradePlan): PhaseRecord[] {
  return plan.phases.map((p) => withPods(newPhaseRecord(p.id, p.title, p.status === 'done' ? 'done' : 'pending'), p.pods));
}

/** A phase record with the pods its phase restarts, when it restarts any. */
export function withPods(record: PhaseRecord, pods: number): PhaseRecord {
  return pods > 0 ? { ...record, pods } : record;
}

/** Open phases closed (their PRs are closed by the caller), each with `note`; the PRs to close, in order. */
export function closeOpenPhases(state: UpgradeState, note: string): { state: UpgradeState; pullRequests: number[] } {
  const pullRequests: number[] = [];
  const phases = state.phases.map((phase) => {
    if (phase.status !== 'open' || phase.pr === null) return phase;
    pullRequests.push(phase.pr);
    return { ...phase, status: 'closed' as const, note };
  });
  return { state: { ...state, phases }, pullRequests };
}
