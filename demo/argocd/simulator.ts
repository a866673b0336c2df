import { loadAll } from 'js-yaml';
import { parseRevision } from '../../src/core/revision.js';
import type { GitHubSimulator } from '../github/simulator.js';

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

/** The fields of a manifest in git the simulator reads (loaded from YAML, so only as far as the demo's repos go). */
interface Manifest {
  kind: string;
  metadata?: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    revision?: string;
    replicas?: number;
    template?: { metadata?: { labels?: Record<string, string> }; [field: string]: unknown };
  };
}

interface Workload {
  kind: string;
  namespace: string;
  name: string;
  replicas: number;
  template: string;
  revision: string | null;
}

type Health = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';
type Resource = { kind: string; namespace: string; name: string; message: string };

interface AppState {
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

const SYNC_DELAY_MS = 5_000;
const SYNC_DURATION_MS = 3_000;
const ROLLOUT_MS = 20_000;
const CHART_SOURCE = {
  repoURL: 'https://istio-release.storage.googleapis.com/charts',
  chart: 'base',
  targetRevision: '1.14.0',
  helm: { valueFiles: ['$values/clusters/prod/istio-base-values.yaml'] },
};
const PERMISSION_DENIED = { error: 'permission denied', code: 7, message: 'permission denied' };

/**
 * An Argo CD whose applications follow the main branch of the GitHub simulator: a new commit makes
 * an app OutOfSync, then a sync is requested, runs, finishes, the status is reconciled, health goes
 * Progressing then Healthy (or Degraded, Suspended, a failed sync when the scenario says so). The
 * resource tree lists istiod Deployments of the IstioOperators in git, the workloads and their
 * pods, whose proxy image follows the revision of their namespace at the time they were last
 * restarted. It answers as Argo CD's API does: whole-second times, 403 "permission denied" for an
 * application it does not have as for one the token may not read, gRPC-style error bodies.
 */
export class ArgoCdSimulator {
  readonly server = 'https://argocd.sim.example';
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  /** Every sync that succeeded, with when its health was first shown fresh. */
  readonly syncs: SimulatedSync[] = [];
  private readonly apps: AppState[];
  private readonly repoURL: string;
  private firstRequest: number | null = null;

  constructor(
    private readonly github: GitHubSimulator,
    private readonly clock: VirtualClock,
    apps: ReadonlyArray<{ name: string; path: string }>,
    private readonly scenario: ArgoScenario = {},
    private readonly onNotification?: (payload: ReturnType<GitHubSimulator['setStatus']>) => Promise<void>,
  ) {
    this.repoURL = `https://github.com/${github.owner}/${github.repo}`;
    const now = clock.now().getTime();
    this.apps = apps.map((a) => ({
      ...a,
      syncedRevision: null,
      comparedRevision: null,
      requestedAt: null,
      operation: null,
      reconciledAt: null,
      health: 'Healthy',
      healthChangedAt: now,
      healthyAt: null,
      degraded: null,
      suspended: null,
      failedAttempt: null,
      conditions: [],
      pods: new Map(),
      workloads: [],
      istiods: [],
      notified: null,
      notifiedFailure: null,
    }));
    const head = this.head();
    for (const app of this.apps) this.applySync(app, head, true);
  }

  private head(): string {
    return this.github.branches().get(this.github.defaultBranch)!;
  }

  /** Moves every application one step along (call after advancing the clock). */
  async tick(): Promise<void> {
    const now = this.clock.now().getTime();
    const head = this.head();
    const stale = this.scenario.staleMs;
    for (const app of this.apps) {
      const running = app.operation?.phase === 'Running';
      if (app.syncedRevision !== head && !running && app.comparedRevision !== head) {
        app.comparedRevision = head;
        app.reconciledAt = now;
      }
      // Auto-sync requests a sync once per revision, and never again after a failed attempt.
      const due =
        app.comparedRevision === head &&
        app.syncedRevision !== head &&
        !running &&
        app.failedAttempt !== head &&
        now - (app.reconciledAt ?? now) >= SYNC_DELAY_MS;
      if (due && app.requestedAt === null) app.requestedAt = now;
      if (app.requestedAt !== null && !running && now - app.requestedAt >= (this.scenario.requestedMs ?? 0)) {
        app.requestedAt = null;
        app.operation = { phase: 'Running', startedAt: now, finishedAt: null, revision: head, rejected: null };
      }
      if (app.operation?.phase === 'Running' && now - app.operation.startedAt >= (this.scenario.syncMs ?? SYNC_DURATION_MS)) {
        const rejected = this.rejectedAt(head);
        if (rejected) {
          app.operation = { ...app.operation, phase: 'Failed', finishedAt: now, revision: head, rejected };
          app.failedAttempt = head;
        } else {
          app.operation = { ...app.operation, phase: 'Succeeded', finishedAt: now, revision: head };
          this.applySync(app, head, false);
          this.syncs.push({ app: app.name, revision: head, finishedAt: now, freshAt: null });
          // With a stale status, the old (healthy) health stays visible until the next reconcile.
          if (app.suspended) this.setHealth(app, 'Suspended', now);
          else if (!stale) this.setHealth(app, 'Progressing', now);
          app.healthyAt = null;
          // A comparison that started as the sync ended: the same second, the old health.
          if (stale && this.scenario.staleTie) app.reconciledAt = now;
        }
      }
      const finished = app.operation?.finishedAt ?? null;
      if (finished !== null && (app.reconciledAt ?? 0) <= finished && now - finished >= (stale ?? 1_000)) this.reconcileAfterSync(app, now);
      const neverReady = this.neverReadyGateway(app);
      if (
        neverReady &&
        finished !== null &&
        app.health === 'Progressing' &&
        now - finished >= (this.scenario.progressDeadlineMs ?? 600_000)
      ) {
        this.setHealth(app, 'Degraded', now);
        app.degraded = {
          kind: 'Deployment',
          namespace: neverReady.namespace,
          name: neverReady.name,
          message: `Deployment "${neverReady.name}" exceeded its progress deadline`,
        };
      }
      if (!neverReady && app.health === 'Progressing' && finished !== null && now - finished >= ROLLOUT_MS + (stale ?? 0)) {
        this.setHealth(app, 'Healthy', now);
        app.healthyAt = now;
      }
      const degradeOn = this.scenario.degradeGatewayOn;
      if (degradeOn && app.health === 'Healthy' && app.healthyAt !== null && now - app.healthyAt >= 15_000) {
        const gateway = app.workloads.find((w) => w.name === 'istio-ingressgateway' && w.revision === degradeOn);
        if (gateway) {
          this.setHealth(app, 'Degraded', now);
          app.degraded = {
            kind: 'Deployment',
            namespace: gateway.namespace,
            name: gateway.name,
            message: `Deployment "${gateway.name}" exceeded its progress deadline: 2 pods CrashLoopBackOff (proxyv2 cannot reach istiod-${degradeOn})`,
          };
        }
      }
      await this.notify(app);
    }
  }

  /** The gateway whose pods never become ready (scenario `neverReadyGatewayOn`), when the synced repo runs it. */
  private neverReadyGateway(app: AppState): Workload | null {
    const on = this.scenario.neverReadyGatewayOn;
    return (
      (on &&
        app.operation?.phase === 'Succeeded' &&
        app.workloads.find((w) => w.kind === 'Deployment' && w.name === 'istio-ingressgateway' && w.revision === on)) ||
      null
    );
  }

  /** The comparison after a sync: health assessed anew; after a failed attempt, auto-sync's SyncError. */
  private reconcileAfterSync(app: AppState, now: number): void {
    app.reconciledAt = now;
    const op = app.operation!;
    if (op.phase === 'Succeeded') {
      if (this.scenario.staleMs) this.setHealth(app, app.suspended ? 'Suspended' : 'Progressing', now);
      const sync = [...this.syncs].reverse().find((s) => s.app === app.name);
      if (sync && sync.freshAt === null) sync.freshAt = now;
    }
    if (op.phase === 'Failed' && !app.conditions.some((c) => c.type === 'SyncError')) {
      // controller/appcontroller.go autoSync: "Failed last sync attempt to %s: %s" (revisions as a list).
      app.conditions.push({
        type: 'SyncError',
        message: `Failed last sync attempt to [${op.revision}]: ${this.failureMessage(op.rejected!)}`,
        lastTransitionTime: now,
      });
    }
  }

  private setHealth(app: AppState, health: Health, now: number): void {
    if (app.health !== health) app.healthChangedAt = now;
    app.health = health;
  }

  /** The IstioOperator an admission policy rejects at this commit (scenario `syncErrorOn`), if any. */
  private rejectedAt(sha: string): (Resource & { group: string }) | null {
    const revision = this.scenario.syncErrorOn;
    if (!revision) return null;
    for (const [path, text] of this.github.filesAt(sha)) {
      if (!/\.ya?ml$/.test(path)) continue;
      for (const o of loadAll(text) as Array<Manifest | null>) {
        if (o?.kind === 'IstioOperator' && o.spec?.revision === revision) {
          return {
            group: 'install.istio.io',
            kind: 'IstioOperator',
            namespace: o.metadata?.namespace ?? 'istio-system',
            name: o.metadata?.name ?? '',
            message: `admission webhook "validate.kyverno.svc-fail" denied the request: policy IstioOperator/${o.metadata?.namespace ?? 'istio-system'}/${o.metadata?.name ?? ''} for resource violation: require-change-ticket: label "change-ticket" is required`,
          };
        }
      }
    }
    return null;
  }

  private failureMessage(rejected: Resource): string {
    return `one or more objects failed to apply, reason: ${rejected.message} (retried 5 times).`;
  }

  /** Argo CD Notifications (scenario `notifications`). */
  private async notify(app: AppState): Promise<void> {
    const mode = this.scenario.notifications;
    if (!mode) return;
    const post = async (sha: string, state: 'success' | 'failure', description: string) => {
      const payload = this.github.setStatus(sha, state, `continuous-delivery/${app.name}`, description);
      await this.onNotification?.(payload);
    };
    const op = app.operation;
    // notifications_catalog/triggers/on-deployed.yaml, on Argo CD's whole-second times.
    const second = (ms: number) => Math.floor(ms / 1000) * 1000;
    const changed = second(app.healthChangedAt);
    const deployed =
      op?.phase === 'Succeeded' &&
      op.finishedAt !== null &&
      app.health === 'Healthy' &&
      (!(changed + 60_000 < second(op.finishedAt)) || changed < second(op.startedAt));
    if (deployed && app.notified !== op.revision) {
      app.notified = op.revision;
      await post(op.revision, 'success', 'Argo CD: synced and healthy');
    }
    if (app.health === 'Degraded' && app.syncedRevision && app.notifiedFailure !== app.syncedRevision) {
      app.notifiedFailure = app.syncedRevision;
      await post(app.syncedRevision, 'failure', 'Argo CD: health degraded');
    }
    if (op?.phase === 'Failed' && app.notifiedFailure !== op.revision) {
      app.notifiedFailure = op.revision;
      await post(op.revision, 'failure', 'Argo CD: sync failed');
    }
  }

  /** The app's workloads as they are at `sha`; pods whose template changed restart onto the namespace's revision. */
  private applySync(app: AppState, sha: string, initial: boolean): void {
    app.syncedRevision = sha;
    app.comparedRevision = sha;
    const files = [...this.github.filesAt(sha)].filter(([path]) => path.startsWith(`${app.path}/`) && /\.ya?ml$/.test(path));
    const objects = files.flatMap(([, text]) => (loadAll(text) as Array<Manifest | null>).filter((o): o is Manifest => Boolean(o?.kind)));
    const nsRevision = new Map<string, string | null>();
    const defaultTag =
      objects.find((o) => o.kind === 'MutatingWebhookConfiguration' && o.metadata?.name === 'istio-revision-tag-default')?.metadata
        ?.labels?.['istio.io/rev'] ?? null;
    for (const ns of objects.filter((o) => o.kind === 'Namespace')) {
      const labels = ns.metadata?.labels ?? {};
      nsRevision.set(ns.metadata!.name, labels['istio-injection'] === 'enabled' ? defaultTag : (labels['istio.io/rev'] ?? null));
    }
    app.istiods = objects.flatMap((o) => (o.kind === 'IstioOperator' && o.spec?.revision ? [`istiod-${o.spec.revision}`] : []));
    app.workloads = objects
      .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind))
      .map((o) => {
        const namespace = o.metadata!.namespace ?? '';
        const podRevision = o.spec?.template?.metadata?.labels?.['istio.io/rev'] ?? null;
        return {
          kind: o.kind,
          namespace,
          name: o.metadata!.name,
          replicas: o.spec?.replicas ?? 1,
          template: JSON.stringify(o.spec?.template ?? {}),
          revision: podRevision ?? nsRevision.get(namespace) ?? null,
        };
      });
    const suspendOn = this.scenario.suspendGatewayOn;
    for (const workload of app.workloads) {
      const key = `${workload.namespace}/${workload.name}`;
      // A paused Deployment does not roll its pods (health Suspended: "Deployment is paused").
      if (
        !initial &&
        suspendOn &&
        workload.kind === 'Deployment' &&
        workload.name === 'istio-ingressgateway' &&
        workload.revision === suspendOn
      ) {
        app.suspended = { kind: workload.kind, namespace: workload.namespace, name: workload.name, message: 'Deployment is paused' };
        continue;
      }
      const pod = app.pods.get(key);
      if (initial || !pod || pod.template !== workload.template)
        app.pods.set(key, { revision: workload.revision, template: workload.template });
    }
    if (!initial) app.degraded = null;
    app.reconciledAt ??= this.clock.now().getTime();
  }

  /** `fetch` for the Argo CD client. */
  fetch: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const now = this.clock.now().getTime();
    this.firstRequest ??= now;
    const within = (window: readonly [number, number] | undefined) =>
      window !== undefined && now - this.firstRequest! >= window[0] && now - this.firstRequest! < window[1];
    if (within(this.scenario.downBetween)) {
      this.requests.push({ method: 'GET', path: url.pathname, status: 0 });
      throw new TypeError('fetch failed: connect ECONNREFUSED');
    }
    if (within(this.scenario.garbageBetween)) {
      this.requests.push({ method: 'GET', path: url.pathname, status: 200 });
      return new Response('<html><body>502 Bad Gateway</body></html>', { status: 200, headers: { 'content-type': 'text/html' } });
    }
    const auth = new Headers(init?.headers).get('authorization');
    const reply = (status: number, body: unknown) => {
      this.requests.push({ method: 'GET', path: url.pathname, status });
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    };
    // gRPC status Unauthenticated (16) as HTTP 401.
    if (auth !== 'Bearer argocd-sim-token')
      return reply(401, {
        error: 'invalid session: token signature is invalid',
        code: 16,
        message: 'invalid session: token signature is invalid',
      });
    if (within(this.scenario.unauthenticatedBetween))
      return reply(401, {
        error: 'invalid session: token has invalid claims: token is expired',
        code: 16,
        message: 'invalid session: token has invalid claims: token is expired',
      });
    const match = /^\/api\/v1\/applications\/([^/]+)(\/resource-tree)?$/.exec(url.pathname);
    if (!match) return reply(404, { error: 'Not Found', code: 5, message: 'Not Found' });
    const name = decodeURIComponent(match[1]!);
    const app = this.scenario.forbidden?.includes(name) ? undefined : this.apps.find((a) => a.name === name);
    if (!app) {
      // server/application/application.go getAppEnforceRBAC: without `project`, a missing application
      // and one the token may not read both answer PermissionDenied (7) as 403; with it, 404.
      if (url.searchParams.get('project') && !this.apps.some((a) => a.name === name)) {
        const message = `applications.argoproj.io "${name}" not found`;
        return reply(404, { error: message, code: 5, message });
      }
      return reply(403, PERMISSION_DENIED);
    }
    if (url.searchParams.get('refresh')) {
      // A refresh returns once the controller has reconciled (or gives up: gRPC Unknown, as HTTP 500).
      await this.tick();
      if (within(this.scenario.refreshDeadlineBetween))
        return reply(500, { error: 'application refresh deadline exceeded', code: 2, message: 'application refresh deadline exceeded' });
      const finished = app.operation?.finishedAt;
      if (finished && (app.reconciledAt ?? 0) <= finished && !this.scenario.staleMs) this.reconcileAfterSync(app, now);
    }
    return reply(200, match[2] ? this.tree(app) : this.application(app));
  };

  /** Argo CD's times: RFC 3339 with whole seconds (metav1.Time). */
  private iso(ms: number | null): string | undefined {
    return ms === null ? undefined : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }

  private application(app: AppState): unknown {
    const head = this.head();
    const outOfSync = app.comparedRevision === head && app.syncedRevision !== head;
    const revision = outOfSync ? app.comparedRevision : app.syncedRevision;
    const multi = this.scenario.multiSource;
    const source = { repoURL: this.repoURL, path: app.path, targetRevision: 'main' };
    const sources = multi ? [CHART_SOURCE, { repoURL: multi.configRepoURL, path: app.path, targetRevision: 'main', ref: 'values' }] : null;
    const revisionsOf = (sha: string | null) => [CHART_SOURCE.targetRevision, sha ?? ''];
    const op = app.operation;
    const opRevision = op?.revision ?? app.syncedRevision;
    const now = this.clock.now().getTime();
    const override = this.scenario.healthBetween;
    const overridden =
      override &&
      this.firstRequest !== null &&
      now - this.firstRequest >= override.between[0] &&
      now - this.firstRequest < override.between[1];
    const conditions = [
      ...(this.scenario.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: this.iso(this.firstRequest ?? now) })),
      ...app.conditions.map((c) => ({ ...c, lastTransitionTime: this.iso(c.lastTransitionTime) })),
    ];
    const resourceHealth = (w: Workload) =>
      app.degraded?.name === w.name
        ? { status: 'Degraded', message: app.degraded.message }
        : app.suspended?.name === w.name && app.suspended.namespace === w.namespace
          ? { status: 'Suspended', message: app.suspended.message }
          : { status: app.health === 'Degraded' || app.health === 'Suspended' ? 'Healthy' : app.health };
    return {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: app.name, namespace: 'argocd' },
      spec: {
        project: 'default',
        ...(sources ? { sources } : { source }),
        destination: { server: 'https://kubernetes.default.svc' },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
      // Set from the request until the operation completes (controller/appcontroller.go setOperationState).
      ...(app.requestedAt !== null || op?.phase === 'Running'
        ? {
            operation: {
              sync: sources ? { revisions: revisionsOf(head), sources } : { revision: head },
              initiatedBy: { automated: true },
              retry: { limit: 5 },
            },
          }
        : {}),
      status: {
        sync: sources
          ? {
              status: outOfSync ? 'OutOfSync' : 'Synced',
              revisions: revisionsOf(revision),
              comparedTo: { sources, destination: { server: 'https://kubernetes.default.svc' } },
            }
          : { status: outOfSync ? 'OutOfSync' : 'Synced', revision },
        health: overridden
          ? {
              status: override.status,
              ...(override.message ? { message: override.message } : {}),
              lastTransitionTime: this.iso(this.firstRequest! + override.between[0]),
            }
          : { status: app.health, lastTransitionTime: this.iso(app.healthChangedAt) },
        reconciledAt: this.iso(app.reconciledAt),
        ...(op
          ? {
              operationState: {
                operation: {
                  sync: sources ? { revisions: revisionsOf(op.revision), sources } : { revision: op.revision },
                  initiatedBy: { automated: true },
                  retry: { limit: 5 },
                },
                phase: op.phase,
                startedAt: this.iso(op.startedAt),
                finishedAt: this.iso(op.finishedAt),
                message:
                  op.phase === 'Succeeded'
                    ? 'successfully synced (all tasks run)'
                    : op.phase === 'Failed'
                      ? this.failureMessage(op.rejected!)
                      : 'waiting for completion',
                ...(op.phase === 'Failed' ? { retryCount: 5 } : {}),
                syncResult: {
                  ...(sources ? { revisions: revisionsOf(opRevision), sources } : { revision: opRevision, source }),
                  ...(op.rejected
                    ? {
                        resources: [
                          {
                            group: op.rejected.group,
                            version: 'v1alpha1',
                            kind: op.rejected.kind,
                            namespace: op.rejected.namespace,
                            name: op.rejected.name,
                            status: 'SyncFailed',
                            message: op.rejected.message,
                            hookPhase: 'Failed',
                            syncPhase: 'Sync',
                          },
                        ],
                      }
                    : {}),
                },
              },
            }
          : {}),
        ...(conditions.length > 0 ? { conditions } : {}),
        resources: [
          ...app.workloads.map((w) => ({
            group: 'apps',
            version: 'v1',
            kind: w.kind,
            namespace: w.namespace,
            name: w.name,
            status: outOfSync ? 'OutOfSync' : 'Synced',
            health: resourceHealth(w),
          })),
          ...(op?.phase === 'Failed' && op.rejected && outOfSync
            ? [
                {
                  group: op.rejected.group,
                  version: 'v1alpha1',
                  kind: op.rejected.kind,
                  namespace: op.rejected.namespace,
                  name: op.rejected.name,
                  status: 'OutOfSync',
                  health: { status: 'Missing' },
                },
              ]
            : []),
        ],
      },
    };
  }

  private tree(app: AppState): unknown {
    const nodes: unknown[] = app.istiods.map((name) => ({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      namespace: 'istio-system',
      name,
      health: { status: app.health === 'Progressing' ? 'Progressing' : 'Healthy' },
    }));
    for (const w of app.workloads) {
      const degraded = app.degraded?.name === w.name;
      const suspended = app.suspended?.name === w.name && app.suspended.namespace === w.namespace;
      const health = degraded
        ? { status: 'Degraded', message: app.degraded!.message }
        : suspended
          ? { status: 'Suspended', message: app.suspended!.message }
          : { status: app.health === 'Degraded' || app.health === 'Suspended' ? 'Healthy' : app.health };
      nodes.push({ group: 'apps', version: 'v1', kind: w.kind, namespace: w.namespace, name: w.name, health });
      const pod = app.pods.get(`${w.namespace}/${w.name}`);
      for (let i = 0; i < w.replicas; i++) {
        nodes.push({
          version: 'v1',
          kind: 'Pod',
          namespace: w.namespace,
          name: `${w.name}-${i}`,
          health: { status: degraded ? 'Degraded' : 'Healthy' },
          images: [
            `registry.example/${w.name}:1.0`,
            ...(pod?.revision ? [`gcr.io/gke-release/asm/proxyv2:${proxyTag(pod.revision)}`] : []),
          ],
        });
      }
    }
    return { nodes };
  }

  /** When every app was last Healthy, Synced and fresh at the head (for latency figures). */
  healthySince(): number | null {
    let latest = 0;
    for (const app of this.apps) {
      if (app.health !== 'Healthy' || app.syncedRevision !== this.head() || app.healthyAt === null) return null;
      latest = Math.max(latest, app.healthyAt, app.reconciledAt ?? 0);
    }
    return latest;
  }
}

function proxyTag(revision: string): string {
  try {
    return parseRevision(revision).version ?? revision;
  } catch {
    return revision;
  }
}
