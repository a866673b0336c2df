import { redactDecision, stripUserinfo } from './argocd-revisions.js';
import type { AppObservation, Verdict } from './argocd-sync-checks.js';
import { isErrorCondition, judgeOutOfSync, judgeSuspended } from './argocd-sync-checks.js';
import type { GateDecision, GateMemory, PhaseExpectations } from './gate.js';

export interface ArgoGateInput extends GateMemory {
  readonly apps: readonly AppObservation[];
  readonly expectations: PhaseExpectations;
  readonly now: Date;
  /** When the phase was merged (the gate's clock starts there). */
  readonly mergedAt: Date;
  readonly stabilityWindowMs: number;
  readonly timeoutMs: number;
  /** How long Degraded may last right after the merge before it fails the phase. */
  readonly degradedGraceMs?: number;
}

interface ArgoGateResult extends GateMemory {
  readonly decision: GateDecision;
  /** Ask Argo CD to refresh these applications (their status is stale or predates X). */
  readonly refresh: readonly string[];
  /** Argo CD's warning conditions (`…Warning`), `<app>: <type>: <message>`, for the phase line. */
  readonly warnings: readonly string[];
}

function isWarningCondition(type: string): boolean {
  return type.endsWith('Warning');
}

/**
 * "Argo CD has applied commit X and everything is healthy", for every application the phase
 * touched: revision at or after X, no operation running, status fresh (`reconciledAt` after the
 * last operation), no failed sync or error condition, Synced, Healthy, the phase's own resources
 * healthy and no old proxies left — holding for a stability window. Pure: the caller fetches.
 */
export function evaluateArgoGate(input: ArgoGateInput): ArgoGateResult {
  const result = judgeArgoGate(input);
  return { ...result, decision: redactDecision(result.decision), warnings: result.warnings.map(stripUserinfo) };
}

function judgeArgoGate(input: ArgoGateInput): ArgoGateResult {
  const refresh: string[] = [];
  const warnings = input.apps.flatMap((a) =>
    (a.app.status.conditions ?? [])
      .filter((c) => isWarningCondition(c.type))
      .map((c) => `${a.name}: ${c.type}${c.message ? `: ${c.message}` : ''}`),
  );
  const checks = input.apps.length + 1;
  let passed = 0;
  let wait: string | null = null;
  let wasHealthy = input.wasHealthy;

  for (const observation of input.apps) {
    const verdict = judgeApplication(observation, input);
    if (verdict.kind === 'fail')
      return {
        decision: { status: 'fail', reason: `${observation.name}: ${verdict.reason}`, resources: verdict.resources ?? [] },
        refresh,
        healthySince: null,
        wasHealthy,
        warnings,
      };
    if (verdict.kind === 'wait') {
      wait ??= `${observation.name}: ${verdict.reason}`;
      if (verdict.refresh) refresh.push(observation.name);
      continue;
    }
    passed++;
  }

  if (wait === null) {
    const phase = judgePhase(input);
    if (phase.kind === 'fail')
      return {
        decision: { status: 'fail', reason: phase.reason, resources: phase.resources ?? [] },
        refresh,
        healthySince: null,
        wasHealthy,
        warnings,
      };
    if (phase.kind === 'wait') wait = phase.reason;
    else passed++;
  }

  const elapsed = input.now.getTime() - input.mergedAt.getTime();
  if (wait !== null) {
    if (elapsed > input.timeoutMs) {
      return {
        decision: { status: 'fail', reason: `timed out after ${Math.round(input.timeoutMs / 60_000)} min: ${wait}`, resources: [] },
        refresh,
        healthySince: null,
        wasHealthy,
        warnings,
      };
    }
    return {
      decision: { status: 'wait', reason: `${wait} (${passed}/${checks} checks)` },
      refresh,
      healthySince: null,
      wasHealthy,
      warnings,
    };
  }

  wasHealthy = true;
  const since = input.healthySince ?? input.now;
  const held = input.now.getTime() - since.getTime();
  if (held < input.stabilityWindowMs) {
    const left = Math.ceil((input.stabilityWindowMs - held) / 1000);
    return {
      decision: {
        status: 'wait',
        reason: `Synced and Healthy at the merge commit; holding for another ${left} s (${checks}/${checks} checks)`,
      },
      refresh,
      healthySince: since,
      wasHealthy,
      warnings,
    };
  }
  const names = input.apps.map((a) => a.name).join(', ');
  return {
    decision: { status: 'pass', summary: `${names} Synced and Healthy at the merge commit for ${Math.round(held / 1000)} s` },
    refresh,
    healthySince: since,
    wasHealthy,
    warnings,
  };
}

function judgeApplication(observation: AppObservation, input: ArgoGateInput): Verdict {
  const { app, ancestry } = observation;
  const status = app.status;
  if (app.metadata.deletionTimestamp) return { kind: 'fail', reason: 'the application is being deleted' };
  const op = status.operationState;
  const failedResources = (op?.syncResult?.resources ?? [])
    .filter((r) => r.status === 'SyncFailed')
    .map((r) => ({ kind: r.kind ?? '', namespace: r.namespace ?? null, name: r.name ?? '', message: r.message ?? '' }));
  // Argo CD's own rule: every condition type ending in `Error` is an error (UnknownError: "the
  // displayed status may be stale", DeletionError, and whatever later versions add). They count
  // only once Argo CD compares X or a descendant: before, they may be about an older revision.
  const errors = (status.conditions ?? []).filter((c) => isErrorCondition(c.type));
  const said = (list: typeof errors) => list.map((c) => `${c.type}: ${c.message ?? ''}`.trim()).join('; ');
  if (ancestry === 'diverged')
    return {
      kind: 'fail',
      reason: 'Argo CD tracks a revision that does not contain the merge commit (another branch, or history was rewritten)',
    };
  if (ancestry === null || ancestry === 'behind') {
    return {
      kind: 'wait',
      reason: `Argo CD has not seen the merge commit yet${errors.length > 0 ? ` (it reports ${said(errors)})` : ''}`,
      refresh: true,
    };
  }
  // A SyncError ("Failed last sync attempt to [<sha>]: …") naming only revisions other than the one
  // Argo CD compares now is left over from an attempt before X: auto-sync tries the new one.
  const current = new Set([status.sync?.revision, ...(status.sync?.revisions ?? [])].filter(Boolean));
  const leftover = (c: (typeof errors)[number]) => {
    if (c.type !== 'SyncError') return false;
    const named = (c.message ?? '').match(/\b[0-9a-f]{40}\b/g) ?? [];
    return named.length > 0 && !named.some((sha) => current.has(sha));
  };
  const live = errors.filter((c) => !leftover(c));
  // ComparisonError and UnknownError are often passing (a repo server restarting, a status too big
  // to persist once): fail only once one has stood for the grace, like Degraded.
  const transient = (c: (typeof errors)[number]) => c.type === 'ComparisonError' || c.type === 'UnknownError';
  const grace = input.degradedGraceMs ?? 120_000;
  const standing = live.filter((c) => {
    if (!transient(c)) return true;
    const since = Math.max(input.mergedAt.getTime(), c.lastTransitionTime ? Date.parse(c.lastTransitionTime) || 0 : 0);
    return input.now.getTime() - since > grace;
  });
  if (standing.length > 0) {
    return { kind: 'fail', reason: said(live), resources: op?.phase === 'Failed' || op?.phase === 'Error' ? failedResources : [] };
  }
  if (live.length > 0) return { kind: 'wait', reason: `${said(live)}; giving Argo CD a moment to compare again` };
  // A running operation keeps `operation` set until it completes: say what it does. Between
  // retries Argo CD sets `finishedAt` with phase Running and counts the attempt in `retryCount`.
  if (op && (!op.finishedAt || op.phase === 'Running')) {
    const retry = op.retryCount ? ` (retry ${op.retryCount}${op.message ? `: ${op.message}` : ''})` : '';
    return { kind: 'wait', reason: `sync ${op.phase ?? 'running'}${retry}` };
  }
  if (app.operation) return { kind: 'wait', reason: 'a sync is requested' };
  if (op?.finishedAt) {
    // Argo CD's times have whole seconds and `reconciledAt` is stamped when a comparison starts:
    // the same second as `finishedAt` may be a comparison that began before the sync ended.
    const reconciled = status.reconciledAt ? Date.parse(status.reconciledAt) : NaN;
    const finished = Date.parse(op.finishedAt);
    if (Number.isNaN(reconciled) || reconciled < finished)
      return { kind: 'wait', reason: 'status predates the last sync (reconciledAt < finishedAt)', refresh: true };
    if (reconciled === finished)
      return { kind: 'wait', reason: 'status may predate the last sync (reconciledAt = finishedAt, whole seconds)', refresh: true };
  }
  if (op && (op.phase === 'Failed' || op.phase === 'Error')) {
    return { kind: 'fail', reason: `sync ${op.phase}: ${op.message ?? 'no message'}`, resources: failedResources };
  }
  const sync = status.sync?.status;
  if (sync === 'OutOfSync') return judgeOutOfSync(observation);
  if (sync !== 'Synced') return { kind: 'wait', reason: `sync status ${sync ?? 'unknown'}` };
  const health = status.health?.status ?? 'Unknown';
  const healthMessage = status.health?.message ? ` (${status.health.message})` : '';
  if (health === 'Degraded') {
    const degraded = (status.resources ?? []).filter((r) => r.health?.status === 'Degraded');
    const resources = degraded.map((r) => ({
      kind: r.kind ?? '',
      namespace: r.namespace ?? null,
      name: r.name ?? '',
      message: r.health?.message ?? 'Degraded',
    }));
    const grace = input.degradedGraceMs ?? 120_000;
    if (input.wasHealthy || input.now.getTime() - input.mergedAt.getTime() > grace) {
      return { kind: 'fail', reason: `Degraded${input.wasHealthy ? ' after having been healthy' : ''}`, resources };
    }
    return { kind: 'wait', reason: 'Degraded right after the sync; giving it a moment' };
  }
  // Synced, fresh, no operation: a paused Deployment or suspended Job stays so; a Rollout may resume by itself.
  if (health === 'Suspended') return judgeSuspended(observation);
  if (health === 'Missing')
    return { kind: 'wait', reason: `Missing: Argo CD finds none of its resources in the cluster yet${healthMessage}` };
  if (health === 'Unknown') return { kind: 'wait', reason: `health Unknown: Argo CD could not assess it${healthMessage}` };
  if (health !== 'Healthy') return { kind: 'wait', reason: health };
  return { kind: 'ok' };
}

function judgePhase(input: ArgoGateInput): Verdict {
  const nodes = input.apps.flatMap((a) => a.tree?.nodes ?? []);
  const find = (r: { kind: string; namespace: string | null; name: string }) =>
    nodes.find((n) => n.kind === r.kind && n.name === r.name && (r.namespace === null || n.namespace === r.namespace));
  for (const expected of input.expectations.healthy) {
    const node = find(expected);
    const where = `${expected.kind} ${expected.namespace ? `${expected.namespace}/` : ''}${expected.name}`;
    if (!node) return { kind: 'wait', reason: `${where} is not in the resource tree yet` };
    const health = node.health?.status;
    if (health === 'Degraded') {
      return input.wasHealthy
        ? {
            kind: 'fail',
            reason: `${where} is Degraded`,
            resources: [
              { kind: expected.kind, namespace: expected.namespace, name: expected.name, message: node.health?.message ?? 'Degraded' },
            ],
          }
        : { kind: 'wait', reason: `${where} is Degraded` };
    }
    if (health !== undefined && health !== 'Healthy') return { kind: 'wait', reason: `${where} is ${health}` };
  }
  for (const gone of input.expectations.absent) {
    if (find(gone)) return { kind: 'wait', reason: `${gone.kind} ${gone.name} is still there (prune pending)` };
  }
  const old = input.expectations.oldProxyTag;
  if (old && input.expectations.migratedNamespaces.length > 0) {
    const stale = nodes.filter(
      (n) =>
        n.kind === 'Pod' &&
        n.namespace &&
        input.expectations.migratedNamespaces.includes(n.namespace) &&
        (n.images ?? []).some((image) => image.includes(`proxyv2:${old}`)),
    );
    if (stale.length > 0) {
      const sample = stale
        .slice(0, 5)
        .map((p) => `${p.namespace}/${p.name}`)
        .join(', ');
      return { kind: 'wait', reason: `${stale.length} pod(s) still run the old proxy ${old}: ${sample}${stale.length > 5 ? ', …' : ''}` };
    }
  }
  return { kind: 'ok' };
}
