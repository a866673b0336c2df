import { loadAll } from 'js-yaml';
import type { GitHubSimulator } from '../github/simulator.js';
import {
  type AppState,
  type ArgoScenario,
  failureMessage,
  type Health,
  type Resource,
  type SimulatedSync,
  type VirtualClock,
  type Workload,
} from './state.js';
import { type ArgoView, applicationView, resourceTree } from './views.js';

const SYNC_DELAY_MS = 5_000;
const SYNC_DURATION_MS = 3_000;
const ROLLOUT_MS = 20_000;
const PERMISSION_DENIED = { error: 'permission denied', code: 7, message: 'permission denied' };

/** The fields of a manifest the simulator reads. */
interface Manifest {
  kind: string;
  metadata?: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    revision?: string;
    replicas?: number;
    template?: { metadata?: { labels?: Record<string, string> }; [field: string]: unknown };
  };
}

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
        message: `Failed last sync attempt to [${op.revision}]: ${failureMessage(op.rejected!)}`,
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
    return reply(200, match[2] ? resourceTree(app) : applicationView(app, this.view()));
  };

  /** What the API views read of the simulator, as it is when the request is answered. */
  private view(): ArgoView {
    return {
      head: this.head(),
      now: this.clock.now().getTime(),
      firstRequest: this.firstRequest,
      scenario: this.scenario,
      repoURL: this.repoURL,
    };
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
