import type { Ancestry } from './argocd-revisions.js';
import type { ArgoApplication, ResourceTree } from './argocd-status.js';
import type { GateResource } from './gate.js';

/** OutOfSync: wait only when Argo CD will sync by itself (its `autoSync` in controller/appcontroller.go). */
export function judgeOutOfSync({ app }: AppObservation): Verdict {
  const automated = app.spec.syncPolicy?.automated;
  const auto = Boolean(automated) && automated?.enabled !== false;
  const outOfSync = (app.status.resources ?? []).filter((r) => r.status === 'OutOfSync');
  const listed = outOfSync.map((r) => ({
    kind: r.kind ?? '',
    namespace: r.namespace ?? null,
    name: r.name ?? '',
    message: r.requiresPruning ? 'requires pruning' : 'OutOfSync',
  }));
  if (!auto) return { kind: 'fail', reason: 'OutOfSync and auto-sync is off: sync it by hand', resources: listed };
  const pruneOnly = outOfSync.length > 0 && outOfSync.every((r) => r.requiresPruning);
  if (pruneOnly && !automated?.prune) {
    return {
      kind: 'fail',
      reason:
        'OutOfSync: only deletions are pending and automated prune is off, so auto-sync will never apply them; sync with prune by hand',
      resources: listed,
    };
  }
  const synced = lastSuccessfulSyncTo(app);
  if (synced !== null) {
    if (!automated?.selfHeal) {
      return {
        kind: 'fail',
        reason: `OutOfSync although the last sync to ${synced} succeeded: with selfHeal off, Argo CD does not sync the same revision again ("Skipping auto-sync: most recent sync already to ${synced}"); sync it by hand, or enable syncPolicy.automated.selfHeal`,
        resources: listed,
      };
    }
    return { kind: 'wait', reason: 'OutOfSync after a successful sync to this revision; self-heal will sync it again' };
  }
  return { kind: 'wait', reason: 'OutOfSync; auto-sync will apply it' };
}

/**
 * The revision(s) the last operation synced successfully, when they are the ones Argo CD now
 * compares against with the same source(s) — then auto-sync counts the revision as attempted
 * (`alreadyAttemptedSync`) — else null.
 */
function lastSuccessfulSyncTo(app: ArgoApplication): string | null {
  const op = app.status.operationState;
  const result = op?.syncResult;
  if (op?.phase !== 'Succeeded' || !result) return null;
  const multi = (app.spec.sources ?? []).length > 0;
  const desired = multi ? (app.status.sync?.revisions ?? []) : app.status.sync?.revision ? [app.status.sync.revision] : [];
  const synced = multi ? (result.revisions ?? []) : result.revision ? [result.revision] : [];
  if (desired.length === 0 || !sameJson(desired, synced)) return null;
  const sourceNow = multi ? app.spec.sources : app.spec.source;
  const sourceSynced = multi ? result.sources : result.source;
  if (sourceSynced !== undefined && sourceNow !== undefined && !sameJson(sourceNow, sourceSynced)) return null;
  return desired.length === 1 ? desired[0]! : `[${desired.join(', ')}]`;
}

function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([, v]) => v !== undefined)
              .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * Suspended: a paused Deployment (`Deployment is paused`) or a suspended Job stays so until a person
 * resumes it: say at once which, and how. An Argo Rollout is reported Suspended too while it pauses
 * on a timed canary step or awaits BlueGreen auto-promotion, and resumes by itself: wait for it
 * (naming it and how to promote it by hand), up to the phase timeout.
 */
export function judgeSuspended({ app, tree }: AppObservation): Verdict {
  const found = new Map<string, GateResource>();
  const add = (r: {
    kind?: string | undefined;
    namespace?: string | undefined;
    name?: string | undefined;
    health?: { status?: string | undefined; message?: string | undefined } | undefined;
  }) => {
    if (r.health?.status !== 'Suspended' || !r.kind || !r.name) return;
    const key = `${r.kind}/${r.namespace ?? ''}/${r.name}`;
    if (!found.has(key))
      found.set(key, { kind: r.kind, namespace: r.namespace ?? null, name: r.name, message: r.health.message ?? 'Suspended' });
  };
  for (const r of app.status.resources ?? []) add(r);
  for (const node of tree?.nodes ?? []) add(node);
  const all = [...found.values()];
  if (all.length === 0) {
    return {
      kind: 'fail',
      reason: `Suspended${app.status.health?.message ? ` (${app.status.health.message})` : ''}: something in it is paused and stays so until a person resumes it; Argo CD names no suspended resource, look at the application in Argo CD`,
    };
  }
  const describe = (list: GateResource[]) =>
    list.map((r) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name} (${r.message})`).join(', ');
  const resources = all.filter((r) => r.kind !== 'Rollout');
  if (resources.length === 0) {
    const how = all.slice(0, 3).map(resumeHint).join('; ');
    return {
      kind: 'wait',
      reason: `Suspended: ${describe(all)}: a Rollout pausing on a timed step or awaiting auto-promotion resumes by itself; if it waits for a manual promotion, promote it (${how})`,
    };
  }
  const how = resources.slice(0, 3).map(resumeHint).join('; ');
  return {
    kind: 'fail',
    reason: `Suspended: ${describe(resources)}. Nothing resumes ${resources.length === 1 ? 'it' : 'them'} by itself: a person must (${how}; if it is paused in git, unpause it there), then say /upgrade continue`,
    resources,
  };
}

function resumeHint(r: GateResource): string {
  const ns = r.namespace ? ` -n ${r.namespace}` : '';
  switch (r.kind) {
    case 'Deployment':
      return `kubectl${ns} rollout resume deployment/${r.name}`;
    case 'Rollout':
      return `kubectl argo rollouts${ns} promote ${r.name}`;
    case 'Job':
      return `set spec.suspend: false on Job ${r.name}`;
    default:
      return `resume ${r.kind} ${r.name}`;
  }
}

export interface AppObservation {
  readonly name: string;
  readonly app: ArgoApplication;
  /** Relation of the observed sync revision to X; null when Argo CD reports no revision yet. */
  readonly ancestry: Ancestry | null;
  readonly tree: ResourceTree | null;
}

export type Verdict =
  | { kind: 'ok' }
  | { kind: 'wait'; reason: string; refresh?: boolean }
  | { kind: 'fail'; reason: string; resources?: GateResource[] };

/** Argo CD's rule (`ApplicationCondition.IsError`): every condition type ending in `Error` is an error. */
export function isErrorCondition(type: string): boolean {
  return type.endsWith('Error');
}
