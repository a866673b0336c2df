/**
 * The simulated Argo CD's model: the scenario knobs, the virtual clock, and what the simulator keeps
 * per application. Kept apart from the simulator and its API views so both can use it.
 */

/** A virtual clock shared by the simulators and the app under test. */
export class VirtualClock {
  private ms: number;
  constructor(start = Date.parse('2026-11-22T10:00:00Z')) {
    this.ms = start;
  }
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface ArgoScenario {
  /** The app turns Degraded (after a healthy moment) once the synced repo runs this gateway on the target revision. */
  readonly degradeGatewayOn?: string;
  /**
   * The gateway Deployment was paused (`kubectl rollout pause`): once the synced repo runs it on this
   * revision, its pods do not roll and Argo CD reports it, and the app, Suspended for good.
   */
  readonly suspendGatewayOn?: string;
  /**
   * A sync to a commit holding the IstioOperator of this revision fails (an admission policy rejects
   * it); auto-sync does not try that revision again and reports a SyncError condition.
   */
  readonly syncErrorOn?: string;
  /** Report Healthy with a stale `reconciledAt` for this long after each sync. */
  readonly staleMs?: number;
  /**
   * With `staleMs`: a comparison starts as the sync ends, so `reconciledAt` equals `finishedAt` to
   * the second while the health is still the old one (Argo CD stamps `reconciledAt` when a
   * comparison starts and writes whole seconds).
   */
  readonly staleTie?: boolean;
  /** The API is unreachable between these virtual times (ms since the first request). */
  readonly downBetween?: readonly [number, number];
  /** The API answers HTML instead of JSON between these virtual times (a broken proxy in front of Argo CD). */
  readonly garbageBetween?: readonly [number, number];
  /**
   * Post Argo CD Notifications commit statuses on the synced revision, context
   * `continuous-delivery/<app>`: success when the current catalog's `on-deployed` condition holds
   * (operation Succeeded, health Healthy, and the health changed at most a minute before the sync
   * finished — or before the sync started, i.e. the old, pre-sync health: with `staleMs` it fires
   * as the sync ends, while the new pods still roll out), once per revision; failure on Degraded
   * (`on-health-degraded`) and on a failed sync (`on-sync-failed`).
   */
  readonly notifications?: boolean;
  /**
   * The gateway Deployment's new pods never become ready once the synced repo runs it on this
   * revision: Progressing (once the status is fresh) until `progressDeadlineMs` after the sync, then
   * Degraded "exceeded its progress deadline", as Kubernetes and Argo CD report it.
   */
  readonly neverReadyGatewayOn?: string;
  /** The Deployment's `progressDeadlineSeconds`. @default 600_000 (Kubernetes' default, 600 s) */
  readonly progressDeadlineMs?: number;
  /**
   * `spec.sources`: the istio `base` chart from its Helm repository first (as Argo CD's multi-source
   * docs order them), then this repo as `configRepoURL` writes it; only `status.sync.revisions` is filled.
   */
  readonly multiSource?: { readonly configRepoURL: string };
  /** Conditions Argo CD reports all along (e.g. `RepeatedResourceWarning`). */
  readonly conditions?: ReadonlyArray<{ readonly type: string; readonly message: string }>;
  /** How long a requested sync (top-level `operation` set, no operation state yet) waits before it runs. @default 0 */
  readonly requestedMs?: number;
  /** How long a sync runs (`operationState.phase: Running`). @default 3000 */
  readonly syncMs?: number;
  /** The app's health is reported as this between these virtual times (ms since the first request). */
  readonly healthBetween?: {
    readonly status: 'Missing' | 'Unknown';
    readonly message?: string;
    readonly between: readonly [number, number];
  };
  /** 401 (the token expired) between these virtual times. */
  readonly unauthenticatedBetween?: readonly [number, number];
  /** Applications the token's RBAC may not read: 403, exactly like an application that does not exist. */
  readonly forbidden?: readonly string[];
  /** `?refresh=` answers 500 "application refresh deadline exceeded" between these virtual times. */
  readonly refreshDeadlineBetween?: readonly [number, number];
}

export interface Workload {
  kind: string;
  namespace: string;
  name: string;
  replicas: number;
  template: string;
  revision: string | null;
}

export type Health = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';
export type Resource = { kind: string; namespace: string; name: string; message: string };

export interface AppState {
  name: string;
  path: string;
  syncedRevision: string | null;
  comparedRevision: string | null;
  /** Since when a sync is requested (top-level `operation`) and not yet running. */
  requestedAt: number | null;
  operation: {
    phase: 'Running' | 'Succeeded' | 'Failed';
    startedAt: number;
    finishedAt: number | null;
    revision: string;
    rejected: (Resource & { group: string }) | null;
  } | null;
  reconciledAt: number | null;
  health: Health;
  healthChangedAt: number;
  healthyAt: number | null;
  degraded: Resource | null;
  suspended: Resource | null;
  /** A revision whose sync failed: auto-sync does not try it again. */
  failedAttempt: string | null;
  conditions: Array<{ type: string; message: string; lastTransitionTime: number }>;
  pods: Map<string, { revision: string | null; template: string }>;
  workloads: Workload[];
  istiods: string[];
  notified: string | null;
  notifiedFailure: string | null;
}

/** A sync as it happened: when it ended and when Argo CD first showed health assessed after it. */
export interface SimulatedSync {
  readonly app: string;
  readonly revision: string;
  readonly finishedAt: number;
  freshAt: number | null;
}

/** The message of a sync an admission policy rejected, as Argo CD writes it (in operationState and SyncError). */
export function failureMessage(rejected: Resource): string {
  return `one or more objects failed to apply, reason: ${rejected.message} (retried 5 times).`;
}
