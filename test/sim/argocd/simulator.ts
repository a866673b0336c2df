import { loadAll } from 'js-yaml';
import { parseRevision } from '../../../src/core/revision.js';
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
  /** Report Healthy with a stale `reconciledAt` for this long after each sync. */
  readonly staleMs?: number;
  /** The API is unreachable between these virtual times (ms since the first request). */
  readonly downBetween?: readonly [number, number];
  /** The API answers HTML instead of JSON between these virtual times (a broken proxy in front of Argo CD). */
  readonly garbageBetween?: readonly [number, number];
  /** Post Argo CD Notifications commit statuses (`on-deployed`) on the synced revision. */
  readonly notifications?: boolean;
}

interface Workload {
  kind: string;
  namespace: string;
  name: string;
  replicas: number;
  template: string;
  revision: string | null;
}

interface AppState {
  name: string;
  path: string;
  syncedRevision: string | null;
  comparedRevision: string | null;
  operation: { phase: 'Running' | 'Succeeded'; startedAt: number; finishedAt: number | null } | null;
  reconciledAt: number | null;
  health: 'Healthy' | 'Progressing' | 'Degraded';
  healthyAt: number | null;
  degraded: { kind: string; namespace: string; name: string; message: string } | null;
  pods: Map<string, { revision: string | null; template: string }>;
  workloads: Workload[];
  istiods: string[];
  notified: string | null;
}

const SYNC_DELAY_MS = 5_000;
const SYNC_DURATION_MS = 3_000;
const ROLLOUT_MS = 20_000;

/**
 * An Argo CD whose applications follow the main branch of the GitHub simulator: a new commit makes
 * an app OutOfSync, then a sync runs, finishes, the status is reconciled, health goes Progressing
 * then Healthy (or Degraded when the scenario says so). The resource tree lists istiod Deployments
 * of the IstioOperators in git, the workloads and their pods, whose proxy image follows the
 * revision of their namespace at the time they were last restarted.
 */
export class ArgoCdSimulator {
  readonly server = 'https://argocd.sim.example';
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  private readonly apps: AppState[];
  private firstRequest: number | null = null;

  constructor(
    private readonly github: GitHubSimulator,
    private readonly clock: VirtualClock,
    apps: ReadonlyArray<{ name: string; path: string }>,
    private readonly scenario: ArgoScenario = {},
    private readonly onNotification?: (payload: ReturnType<GitHubSimulator['setStatus']>) => Promise<void>,
  ) {
    this.apps = apps.map((a) => ({
      ...a,
      syncedRevision: null,
      comparedRevision: null,
      operation: null,
      reconciledAt: null,
      health: 'Healthy',
      healthyAt: null,
      degraded: null,
      pods: new Map(),
      workloads: [],
      istiods: [],
      notified: null,
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
    for (const app of this.apps) {
      const running = app.operation?.phase === 'Running';
      if (app.syncedRevision !== head && !running && app.comparedRevision !== head) {
        app.comparedRevision = head;
        app.reconciledAt = now;
      }
      if (app.comparedRevision === head && app.syncedRevision !== head && !running && now - (app.reconciledAt ?? now) >= SYNC_DELAY_MS) {
        app.operation = { phase: 'Running', startedAt: now, finishedAt: null };
      }
      if (app.operation?.phase === 'Running' && now - app.operation.startedAt >= SYNC_DURATION_MS) {
        app.operation = { ...app.operation, phase: 'Succeeded', finishedAt: now };
        this.applySync(app, head, false);
        // With a stale status, the old (healthy) health stays visible until the next reconcile.
        if (!this.scenario.staleMs) app.health = 'Progressing';
        app.healthyAt = null;
      }
      const finished = app.operation?.finishedAt ?? null;
      if (finished !== null && (app.reconciledAt ?? 0) < finished && now - finished >= (this.scenario.staleMs ?? 1_000)) {
        app.reconciledAt = now;
        if (this.scenario.staleMs) app.health = 'Progressing';
      }
      if (app.health === 'Progressing' && finished !== null && now - finished >= ROLLOUT_MS + (this.scenario.staleMs ?? 0)) {
        app.health = 'Healthy';
        app.healthyAt = now;
      }
      const degradeOn = this.scenario.degradeGatewayOn;
      if (degradeOn && app.health === 'Healthy' && app.healthyAt !== null && now - app.healthyAt >= 15_000) {
        const gateway = app.workloads.find((w) => w.name === 'istio-ingressgateway' && w.revision === degradeOn);
        if (gateway) {
          app.health = 'Degraded';
          app.degraded = { kind: 'Deployment', namespace: gateway.namespace, name: gateway.name, message: `Deployment "${gateway.name}" exceeded its progress deadline: 2 pods CrashLoopBackOff (proxyv2 cannot reach istiod-${degradeOn})` };
        }
      }
      if (this.scenario.notifications && app.health === 'Healthy' && app.syncedRevision && app.notified !== app.syncedRevision) {
        app.notified = app.syncedRevision;
        const payload = this.github.setStatus(app.syncedRevision, 'success', `continuous-delivery/${app.name}`, 'Argo CD: synced and healthy');
        await this.onNotification?.(payload);
      }
    }
  }

  /** The app's workloads as they are at `sha`; pods whose template changed restart onto the namespace's revision. */
  private applySync(app: AppState, sha: string, initial: boolean): void {
    app.syncedRevision = sha;
    app.comparedRevision = sha;
    const files = [...this.github.filesAt(sha)].filter(([path]) => path.startsWith(`${app.path}/`) && /\.ya?ml$/.test(path));
    const objects = files.flatMap(([, text]) => (loadAll(text) as Array<Record<string, any> | null>).filter((o): o is Record<string, any> => Boolean(o?.kind)));
    const nsRevision = new Map<string, string | null>();
    const defaultTag = objects.find((o) => o.kind === 'MutatingWebhookConfiguration' && o.metadata?.name === 'istio-revision-tag-default')?.metadata?.labels?.['istio.io/rev'] ?? null;
    for (const ns of objects.filter((o) => o.kind === 'Namespace')) {
      const labels = ns.metadata?.labels ?? {};
      nsRevision.set(ns.metadata.name, labels['istio-injection'] === 'enabled' ? defaultTag : (labels['istio.io/rev'] ?? null));
    }
    app.istiods = objects.filter((o) => o.kind === 'IstioOperator' && o.spec?.revision).map((o) => `istiod-${o.spec.revision}`);
    app.workloads = objects
      .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind))
      .map((o) => {
        const namespace = o.metadata.namespace ?? '';
        const podRevision = o.spec?.template?.metadata?.labels?.['istio.io/rev'] ?? null;
        return { kind: o.kind, namespace, name: o.metadata.name, replicas: o.spec?.replicas ?? 1, template: JSON.stringify(o.spec?.template ?? {}), revision: podRevision ?? nsRevision.get(namespace) ?? null };
      });
    for (const workload of app.workloads) {
      const key = `${workload.namespace}/${workload.name}`;
      const pod = app.pods.get(key);
      if (initial || !pod || pod.template !== workload.template) app.pods.set(key, { revision: workload.revision, template: workload.template });
    }
    if (!initial) app.degraded = null;
    app.reconciledAt ??= this.clock.now().getTime();
  }

  /** `fetch` for the Argo CD client. */
  fetch: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const now = this.clock.now().getTime();
    this.firstRequest ??= now;
    const down = this.scenario.downBetween;
    if (down && now - this.firstRequest >= down[0] && now - this.firstRequest < down[1]) {
      this.requests.push({ method: 'GET', path: url.pathname, status: 0 });
      throw new TypeError('fetch failed: connect ECONNREFUSED');
    }
    const garbage = this.scenario.garbageBetween;
    if (garbage && now - this.firstRequest >= garbage[0] && now - this.firstRequest < garbage[1]) {
      this.requests.push({ method: 'GET', path: url.pathname, status: 200 });
      return new Response('<html><body>502 Bad Gateway</body></html>', { status: 200, headers: { 'content-type': 'text/html' } });
    }
    const auth = new Headers(init?.headers).get('authorization');
    const reply = (status: number, body: unknown) => {
      this.requests.push({ method: 'GET', path: url.pathname, status });
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    };
    if (auth !== 'Bearer argocd-sim-token') return reply(401, { error: 'invalid session', code: 16 });
    const match = /^\/api\/v1\/applications\/([^/]+)(\/resource-tree)?$/.exec(url.pathname);
    const app = match ? this.apps.find((a) => a.name === decodeURIComponent(match[1]!)) : undefined;
    if (!app) return reply(404, { error: 'application not found', code: 5 });
    if (url.searchParams.get('refresh')) {
      // A refresh returns once the controller has reconciled.
      await this.tick();
      if (app.operation?.finishedAt && (app.reconciledAt ?? 0) < app.operation.finishedAt && !this.scenario.staleMs) app.reconciledAt = now;
    }
    return reply(200, match![2] ? this.tree(app) : this.application(app));
  };

  private iso(ms: number | null): string | undefined {
    return ms === null ? undefined : new Date(ms).toISOString();
  }

  private application(app: AppState): unknown {
    const head = this.head();
    const outOfSync = app.comparedRevision === head && app.syncedRevision !== head;
    return {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: app.name, namespace: 'argocd' },
      spec: {
        project: 'default',
        source: { repoURL: 'https://github.com/example-org/cluster-config', path: app.path, targetRevision: 'main' },
        destination: { server: 'https://kubernetes.default.svc' },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
      status: {
        sync: { status: outOfSync ? 'OutOfSync' : 'Synced', revision: outOfSync ? app.comparedRevision : app.syncedRevision },
        health: { status: app.health },
        reconciledAt: this.iso(app.reconciledAt),
        ...(app.operation
          ? { operationState: { phase: app.operation.phase, startedAt: this.iso(app.operation.startedAt), finishedAt: this.iso(app.operation.finishedAt), message: app.operation.phase === 'Succeeded' ? 'successfully synced (all tasks run)' : 'waiting for completion', syncResult: { revision: app.syncedRevision } } }
          : {}),
        resources: app.workloads.map((w) => ({
          group: 'apps',
          version: 'v1',
          kind: w.kind,
          namespace: w.namespace,
          name: w.name,
          status: outOfSync ? 'OutOfSync' : 'Synced',
          health: app.degraded && app.degraded.name === w.name ? { status: 'Degraded', message: app.degraded.message } : { status: app.health === 'Degraded' ? 'Healthy' : app.health },
        })),
      },
    };
  }

  private tree(app: AppState): unknown {
    const nodes: unknown[] = app.istiods.map((name) => ({ group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'istio-system', name, health: { status: app.health === 'Progressing' ? 'Progressing' : 'Healthy' } }));
    for (const w of app.workloads) {
      const degraded = app.degraded?.name === w.name;
      nodes.push({ group: 'apps', version: 'v1', kind: w.kind, namespace: w.namespace, name: w.name, health: degraded ? { status: 'Degraded', message: app.degraded!.message } : { status: app.health === 'Degraded' ? 'Healthy' : app.health } });
      const pod = app.pods.get(`${w.namespace}/${w.name}`);
      for (let i = 0; i < w.replicas; i++) {
        nodes.push({
          version: 'v1',
          kind: 'Pod',
          namespace: w.namespace,
          name: `${w.name}-${i}`,
          health: { status: degraded ? 'Degraded' : 'Healthy' },
          images: [`registry.example/${w.name}:1.0`, ...(pod?.revision ? [`gcr.io/gke-release/asm/proxyv2:${proxyTag(pod.revision)}`] : [])],
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
