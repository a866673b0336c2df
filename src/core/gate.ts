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
}

/**
 * The manual gate: a maintainer checks the phase's verification steps and says
 * `/upgrade continue`.
 */
export function evaluateManualGate(question: GateQuestion): GateDecision {
  return question.continued
    ? { status: 'pass', summary: 'a maintainer confirmed the phase with /upgrade continue' }
    : { status: 'wait', reason: 'waiting for a maintainer to check the phase and say `/upgrade continue`' };
}
