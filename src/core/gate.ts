import type { PhaseExpectations } from './argocd-gate.js';

/** What a health gate says about a merged phase. */
export type GateDecision =
  | { readonly status: 'pass'; readonly summary: string }
  | { readonly status: 'wait'; readonly reason: string }
  | { readonly status: 'fail'; readonly reason: string; readonly resources: readonly GateResource[] };

export interface GateResource {
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly message: string;
}

/** What a gate is asked: is the cluster healthy at the merge commit of this phase? */
export interface GateQuestion {
  readonly cluster: string;
  readonly phase: string;
  readonly mergeSha: string;
  /** A maintainer said `/upgrade continue` after the merge. */
  readonly continued: boolean;
  readonly now: Date;
  /** When the phase PR was merged. */
  readonly mergedAt: Date;
  /** Gate memory from earlier checks. */
  readonly healthySince: Date | null;
  readonly wasHealthy: boolean;
  /** Argo CD applications the phase touched. */
  readonly applications: readonly string[];
  readonly expectations: PhaseExpectations;
}

/** A decision plus what the gate wants remembered until its next check. */
export interface GateOutcome {
  readonly decision: GateDecision;
  readonly healthySince: Date | null;
  readonly wasHealthy: boolean;
  /** What the phase line shows beside the decision (e.g. Argo CD's warning conditions). */
  readonly warnings?: readonly string[];
}

/**
 * The manual gate: a maintainer checks the phase's verification steps and says
 * `/upgrade continue`.
 */
export function evaluateManualGate(question: GateQuestion): GateOutcome {
  const decision: GateDecision = question.continued
    ? { status: 'pass', summary: 'a maintainer confirmed the phase with /upgrade continue' }
    : { status: 'wait', reason: 'waiting for a maintainer to check the phase and say `/upgrade continue`' };
  return { decision, healthySince: null, wasHealthy: question.wasHealthy };
}

/** Decides whether a merged phase is healthy enough to go on (manual, Argo CD, commit statuses). */
export interface HealthGate {
  readonly kind: 'manual' | 'argocd';
  /** The window a healthy phase is held for, when the gate holds longer than gateTiming.stabilityWindowSeconds (token-free mode). */
  readonly stabilityWindowMs?: number;
  evaluate(question: GateQuestion): Promise<GateOutcome>;
}
