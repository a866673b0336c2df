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

/** What a gate remembers about a phase between two checks (stored, as ISO times, in the phase record). */
export interface GateMemory {
  /** Since when every check has held (null: not yet). */
  readonly healthySince: Date | null;
  /** The phase was seen healthy before: Degraded now is a regression, not a start-up state. */
  readonly wasHealthy: boolean;
}

/** What the phase itself must bring about, checked in the resource tree once the apps are healthy. */
export interface PhaseExpectations {
  /** Resources that must exist and be Healthy (e.g. Deployment istiod-<new> after control-plane). */
  readonly healthy: ReadonlyArray<{ kind: string; namespace: string | null; name: string }>;
  /** Resources that must be gone (the old istiod after cleanup). */
  readonly absent: ReadonlyArray<{ kind: string; namespace: string | null; name: string }>;
  /** Namespaces whose pods must no longer run the old proxy. */
  readonly migratedNamespaces: readonly string[];
  /** Image tag of the old proxy (`proxyv2:1.13.0-asm.0`), when known. */
  readonly oldProxyTag: string | null;
}

/**
 * The facts of a phase a gate may ask for. Each costs reads (a plan of the repo, the PR's files), so
 * a gate asks only for what it uses: the manual gate asks for nothing.
 */
export interface PhaseFacts {
  /** The Argo CD applications the phase touched. */
  applications(): Promise<readonly string[]>;
  /** What the phase must bring about in the cluster. */
  expectations(): Promise<PhaseExpectations>;
}

/** Facts known up front (tests, and callers that have them already). */
export function knownFacts(applications: readonly string[], expectations: PhaseExpectations = NO_EXPECTATIONS): PhaseFacts {
  return { applications: async () => applications, expectations: async () => expectations };
}

export const NO_EXPECTATIONS: PhaseExpectations = { healthy: [], absent: [], migratedNamespaces: [], oldProxyTag: null };

/** What a gate is asked: is the cluster healthy at the merge commit of this phase? */
export interface GateQuestion extends GateMemory {
  readonly cluster: string;
  readonly phase: string;
  readonly mergeSha: string;
  /** A maintainer said `/upgrade continue` after the merge. */
  readonly continued: boolean;
  readonly now: Date;
  /** When the phase PR was merged. */
  readonly mergedAt: Date;
  /** The phase's facts, for the gate to ask for what it needs. */
  readonly facts: PhaseFacts;
}

/** A decision plus what the gate wants remembered until its next check. */
export interface GateOutcome extends GateMemory {
  readonly decision: GateDecision;
  /** What the phase line shows beside the decision (e.g. Argo CD's warning conditions). */
  readonly warnings?: readonly string[];
  /** On `wait`: ask again after this long. Absent: the gate waits for a person (`/upgrade continue`). */
  readonly retryAfterMs?: number;
}

/** Decides whether a merged phase is healthy enough to go on. Nothing outside a gate looks at which one it is. */
export interface HealthGate {
  /** Names the gate in logs. */
  readonly name: string;
  /** The `gate` label of its metrics. */
  readonly metricLabel: 'manual' | 'argocd';
  evaluate(question: GateQuestion): Promise<GateOutcome>;
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

export const manualGate: HealthGate = { name: 'manual', metricLabel: 'manual', evaluate: async (question) => evaluateManualGate(question) };

/** How often a gate that polls asks again (the repo config's gateTiming, in ms). */
interface PollTiming {
  readonly pollMs: number;
  readonly maxPollMs: number;
  /** How long a healthy phase is held before it passes. */
  readonly stabilityWindowMs: number;
}

/**
 * When to ask again: every pollMs, doubling every five minutes since the merge up to maxPollMs; a
 * phase healthy and holding is looked at again exactly when its stability window ends.
 */
export function pollDelay(timing: PollTiming, question: Pick<GateQuestion, 'now' | 'mergedAt'>, healthySince: Date | null): number {
  const waited = question.now.getTime() - question.mergedAt.getTime();
  let delay = Math.min(timing.maxPollMs, timing.pollMs * 2 ** Math.floor(waited / (5 * 60_000)));
  if (healthySince) {
    const windowEnds = healthySince.getTime() + timing.stabilityWindowMs - question.now.getTime();
    delay = Math.max(0, Math.min(delay, windowEnds));
  }
  return delay;
}

/** A gate that, while it waits, asks to be asked again after pollDelay. */
export function polling(gate: HealthGate, timing: PollTiming): HealthGate {
  return {
    name: gate.name,
    metricLabel: gate.metricLabel,
    async evaluate(question) {
      const outcome = await gate.evaluate(question);
      return outcome.decision.status === 'wait' ? { ...outcome, retryAfterMs: pollDelay(timing, question, outcome.healthySince) } : outcome;
    },
  };
}
