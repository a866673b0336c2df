import { parseRevision } from '../../src/core/revision.js';
import { type AppState, type ArgoScenario, failureMessage, type Workload } from './state.js';

/**
 * What the simulated Argo CD's API answers: an Application and its resource tree, rendered from the
 * simulator's state as Argo CD writes them (whole-second times, multi-source fields, operation state).
 */

/** The istio `base` chart, the first of `spec.sources` in a multi-source scenario. */
const CHART_SOURCE = {
  repoURL: 'https://istio-release.storage.googleapis.com/charts',
  chart: 'base',
  targetRevision: '1.14.0',
  helm: { valueFiles: ['$values/clusters/prod/istio-base-values.yaml'] },
};

/** What an Application view needs besides the app: read when the request is answered. */
export interface ArgoView {
  readonly head: string;
  readonly now: number;
  readonly firstRequest: number | null;
  readonly scenario: ArgoScenario;
  readonly repoURL: string;
}

/** Argo CD's times: RFC 3339 with whole seconds (metav1.Time). */
function iso(ms: number | null): string | undefined {
  return ms === null ? undefined : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function applicationView(app: AppState, view: ArgoView): unknown {
  const head = view.head;
  const outOfSync = app.comparedRevision === head && app.syncedRevision !== head;
  const revision = outOfSync ? app.comparedRevision : app.syncedRevision;
  const multi = view.scenario.multiSource;
  const source = { repoURL: view.repoURL, path: app.path, targetRevision: 'main' };
  const sources = multi ? [CHART_SOURCE, { repoURL: multi.configRepoURL, path: app.path, targetRevision: 'main', ref: 'values' }] : null;
  const revisionsOf = (sha: string | null) => [CHART_SOURCE.targetRevision, sha ?? ''];
  const op = app.operation;
  const opRevision = op?.revision ?? app.syncedRevision;
  const now = view.now;
  const override = view.scenario.healthBetween;
  const overridden =
    override &&
    view.firstRequest !== null &&
    now - view.firstRequest >= override.between[0] &&
    now - view.firstRequest < override.between[1];
  const conditions = [
    ...(view.scenario.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: iso(view.firstRequest ?? now) })),
    ...app.conditions.map((c) => ({ ...c, lastTransitionTime: iso(c.lastTransitionTime) })),
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
            lastTransitionTime: iso(view.firstRequest! + override.between[0]),
          }
        : { status: app.health, lastTransitionTime: iso(app.healthChangedAt) },
      reconciledAt: iso(app.reconciledAt),
      ...(op
        ? {
            operationState: {
              operation: {
                sync: sources ? { revisions: revisionsOf(op.revision), sources } : { revision: op.revision },
                initiatedBy: { automated: true },
                retry: { limit: 5 },
              },
              phase: op.phase,
              startedAt: iso(op.startedAt),
              finishedAt: iso(op.finishedAt),
              message:
                op.phase === 'Succeeded'
                  ? 'successfully synced (all tasks run)'
                  : op.phase === 'Failed'
                    ? failureMessage(op.rejected!)
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

export function resourceTree(app: AppState): unknown {
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
        images: [`registry.example/${w.name}:1.0`, ...(pod?.revision ? [`gcr.io/gke-release/asm/proxyv2:${proxyTag(pod.revision)}`] : [])],
      });
    }
  }
  return { nodes };
}

function proxyTag(revision: string): string {
  try {
    return parseRevision(revision).version ?? revision;
  } catch {
    return revision;
  }
}
