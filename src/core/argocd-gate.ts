import type { ArgoApplication, ResourceTree } from './argocd-status.js';
import type { GateDecision, GateResource } from './gate.js';

/** How the revision Argo CD last compared relates to the merge commit X (from GitHub's compare). */
export type Ancestry = 'identical' | 'ahead' | 'behind' | 'diverged';

export interface AppObservation {
  readonly name: string;
  readonly app: ArgoApplication;
  /** Relation of the observed sync revision to X; null when Argo CD reports no revision yet. */
  readonly ancestry: Ancestry | null;
  readonly tree: ResourceTree | null;
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

export interface ArgoGateInput {
  readonly apps: readonly AppObservation[];
  readonly expectations: PhaseExpectations;
  readonly now: Date;
  /** When the phase was merged (the gate's clock starts there). */
  readonly mergedAt: Date;
  /** Since when every check has held (null: not yet). */
  readonly healthySince: Date | null;
  /** The phase was seen healthy before: Degraded now is a regression, not a start-up state. */
  readonly wasHealthy: boolean;
  readonly stabilityWindowMs: number;
  readonly timeoutMs: number;
  /** How long Degraded may last right after the merge before it fails the phase. */
  readonly degradedGraceMs?: number;
}

export interface ArgoGateResult {
  readonly decision: GateDecision;
  /** Ask Argo CD to refresh these applications (their status is stale or predates X). */
  readonly refresh: readonly string[];
  /** The new value of `healthySince`. */
  readonly healthySince: Date | null;
  readonly wasHealthy: boolean;
}

type Verdict = { kind: 'ok' } | { kind: 'wait'; reason: string; refresh?: boolean } | { kind: 'fail'; reason: string; resources?: GateResource[] };

const TERMINAL_CONDITIONS = new Set(['InvalidSpecError', 'ComparisonError', 'SyncError']);

/**
 * "Argo CD has applied commit X and everything is healthy", for every application the phase
 * touched: revision at or after X, no operation running, status fresh (`reconciledAt` after the
 * last operation), no failed sync or error condition, Synced, Healthy, the phase's own resources
 * healthy and no old proxies left — holding for a stability window. Pure: the caller fetches.
 */
export function evaluateArgoGate(input: ArgoGateInput): ArgoGateResult {
  const refresh: string[] = [];
  const checks = input.apps.length + 1;
  let passed = 0;
  let wait: string | null = null;
  let wasHealthy = input.wasHealthy;

  for (const observation of input.apps) {
    const verdict = judgeApplication(observation, input);
    if (verdict.kind === 'fail') return { decision: { status: 'fail', reason: `${observation.name}: ${verdict.reason}`, resources: verdict.resources ?? [] }, refresh, healthySince: null, wasHealthy };
    if (verdict.kind === 'wait') {
      wait ??= `${observation.name}: ${verdict.reason}`;
      if (verdict.refresh) refresh.push(observation.name);
      continue;
    }
    passed++;
  }

  if (wait === null) {
    const phase = judgePhase(input);
    if (phase.kind === 'fail') return { decision: { status: 'fail', reason: phase.reason, resources: phase.resources ?? [] }, refresh, healthySince: null, wasHealthy };
    if (phase.kind === 'wait') wait = phase.reason;
    else passed++;
  }

  const elapsed = input.now.getTime() - input.mergedAt.getTime();
  if (wait !== null) {
    if (elapsed > input.timeoutMs) {
      return { decision: { status: 'fail', reason: `timed out after ${Math.round(input.timeoutMs / 60_000)} min: ${wait}`, resources: [] }, refresh, healthySince: null, wasHealthy };
    }
    return { decision: { status: 'wait', reason: `${wait} (${passed}/${checks} checks)` }, refresh, healthySince: null, wasHealthy };
  }

  wasHealthy = true;
  const since = input.healthySince ?? input.now;
  const held = input.now.getTime() - since.getTime();
  if (held < input.stabilityWindowMs) {
    const left = Math.ceil((input.stabilityWindowMs - held) / 1000);
    return { decision: { status: 'wait', reason: `Synced and Healthy at the merge commit; holding for another ${left} s (${checks}/${checks} checks)` }, refresh, healthySince: since, wasHealthy };
  }
  const names = input.apps.map((a) => a.name).join(', ');
  return { decision: { status: 'pass', summary: `${names} Synced and Healthy at the merge commit for ${Math.round(held / 1000)} s` }, refresh, healthySince: since, wasHealthy };
}

function judgeApplication({ app, ancestry }: AppObservation, input: ArgoGateInput): Verdict {
  const status = app.status;
  if (app.metadata.deletionTimestamp) return { kind: 'fail', reason: 'the application is being deleted' };
  const terminal = (status.conditions ?? []).find((c) => TERMINAL_CONDITIONS.has(c.type));
  if (terminal) return { kind: 'fail', reason: `${terminal.type}: ${terminal.message ?? ''}`.trim() };
  if (ancestry === 'diverged') return { kind: 'fail', reason: 'Argo CD tracks a revision that does not contain the merge commit (another branch, or history was rewritten)' };
  if (ancestry === null || ancestry === 'behind') return { kind: 'wait', reason: 'Argo CD has not seen the merge commit yet', refresh: true };
  if (app.operation) return { kind: 'wait', reason: 'a sync is requested' };
  const op = status.operationState;
  if (op && !op.finishedAt) return { kind: 'wait', reason: `sync ${op.phase ?? 'running'}` };
  if (op?.finishedAt && (!status.reconciledAt || Date.parse(status.reconciledAt) < Date.parse(op.finishedAt))) {
    return { kind: 'wait', reason: 'status predates the last sync (reconciledAt < finishedAt)', refresh: true };
  }
  if (op && (op.phase === 'Failed' || op.phase === 'Error')) {
    const failed = (op.syncResult?.resources ?? []).filter((r) => r.status === 'SyncFailed');
    return {
      kind: 'fail',
      reason: `sync ${op.phase}: ${op.message ?? 'no message'}`,
      resources: failed.map((r) => ({ kind: r.kind ?? '', namespace: r.namespace ?? null, name: r.name ?? '', message: r.message ?? '' })),
    };
  }
  const sync = status.sync?.status;
  if (sync === 'OutOfSync') {
    const automated = app.spec.syncPolicy?.automated;
    const auto = Boolean(automated) && automated?.enabled !== false;
    const outOfSync = (status.resources ?? []).filter((r) => r.status === 'OutOfSync');
    const pruneOnly = outOfSync.length > 0 && outOfSync.every((r) => r.requiresPruning);
    if (auto && !(pruneOnly && !automated?.prune)) return { kind: 'wait', reason: 'OutOfSync; auto-sync will apply it' };
    return {
      kind: 'fail',
      reason: pruneOnly ? 'OutOfSync: only deletions are pending and automated prune is off, so auto-sync will never apply them; sync with prune by hand' : 'OutOfSync and auto-sync is off: sync it by hand',
      resources: outOfSync.map((r) => ({ kind: r.kind ?? '', namespace: r.namespace ?? null, name: r.name ?? '', message: r.requiresPruning ? 'requires pruning' : 'OutOfSync' })),
    };
  }
  if (sync !== 'Synced') return { kind: 'wait', reason: `sync status ${sync ?? 'unknown'}` };
  const health = status.health?.status ?? 'Unknown';
  if (health === 'Degraded') {
    const degraded = (status.resources ?? []).filter((r) => r.health?.status === 'Degraded');
    const resources = degraded.map((r) => ({ kind: r.kind ?? '', namespace: r.namespace ?? null, name: r.name ?? '', message: r.health?.message ?? 'Degraded' }));
    const grace = input.degradedGraceMs ?? 120_000;
    if (input.wasHealthy || input.now.getTime() - input.mergedAt.getTime() > grace) {
      return { kind: 'fail', reason: `Degraded${input.wasHealthy ? ' after having been healthy' : ''}`, resources };
    }
    return { kind: 'wait', reason: 'Degraded right after the sync; giving it a moment' };
  }
  if (health !== 'Healthy') return { kind: 'wait', reason: health };
  return { kind: 'ok' };
}

function judgePhase(input: ArgoGateInput): Verdict {
  const nodes = input.apps.flatMap((a) => a.tree?.nodes ?? []);
  const find = (r: { kind: string; namespace: string | null; name: string }) => nodes.find((n) => n.kind === r.kind && n.name === r.name && (r.namespace === null || n.namespace === r.namespace));
  for (const expected of input.expectations.healthy) {
    const node = find(expected);
    const where = `${expected.kind} ${expected.namespace ? `${expected.namespace}/` : ''}${expected.name}`;
    if (!node) return { kind: 'wait', reason: `${where} is not in the resource tree yet` };
    const health = node.health?.status;
    if (health === 'Degraded') {
      return input.wasHealthy ? { kind: 'fail', reason: `${where} is Degraded`, resources: [{ kind: expected.kind, namespace: expected.namespace, name: expected.name, message: node.health?.message ?? 'Degraded' }] } : { kind: 'wait', reason: `${where} is Degraded` };
    }
    if (health !== undefined && health !== 'Healthy') return { kind: 'wait', reason: `${where} is ${health}` };
  }
  for (const gone of input.expectations.absent) {
    if (find(gone)) return { kind: 'wait', reason: `${gone.kind} ${gone.name} is still there (prune pending)` };
  }
  const old = input.expectations.oldProxyTag;
  if (old && input.expectations.migratedNamespaces.length > 0) {
    const stale = nodes.filter(
      (n) => n.kind === 'Pod' && n.namespace && input.expectations.migratedNamespaces.includes(n.namespace) && (n.images ?? []).some((image) => image.includes(`proxyv2:${old}`)),
    );
    if (stale.length > 0) {
      const sample = stale.slice(0, 5).map((p) => `${p.namespace}/${p.name}`).join(', ');
      return { kind: 'wait', reason: `${stale.length} pod(s) still run the old proxy ${old}: ${sample}${stale.length > 5 ? ', …' : ''}` };
    }
  }
  return { kind: 'ok' };
}
