import { evaluateArgoGate, type AppObservation } from '../../core/argocd-gate.js';
import type { GateOutcome, GateQuestion, HealthGate } from '../../core/gate.js';
import { ArgoCdApiError, type ArgoCdClient } from './client.js';

export interface ArgoCdGateOptions {
  readonly client: ArgoCdClient;
  /** How the revision Argo CD reports relates to the merge commit (GitHub's compare). */
  readonly compare: (base: string, head: string) => Promise<'identical' | 'ahead' | 'behind' | 'diverged'>;
  readonly stabilityWindowMs: number;
  readonly timeoutMs: number;
}

/**
 * The Argo CD gate: reads each touched application and its resource tree, relates the revision
 * it synced to the merge commit, and lets the pure evaluation decide. An unreachable Argo CD is a
 * reason to wait (and say so); a wrong token, a missing application or an answer that is not an
 * Argo CD object pauses the upgrade with the reason.
 */
export class ArgoCdHealthGate implements HealthGate {
  readonly kind = 'argocd' as const;

  constructor(private readonly options: ArgoCdGateOptions) {}

  async evaluate(question: GateQuestion): Promise<GateOutcome> {
    const keep = { healthySince: null, wasHealthy: question.wasHealthy };
    if (question.applications.length === 0) {
      return { ...keep, decision: { status: 'fail', reason: 'no Argo CD application manages the files of this phase; name them under clusters[].argocd.applications in .github/mesh-upgrade.yml', resources: [] } };
    }
    let observations: AppObservation[];
    try {
      observations = await Promise.all(question.applications.map((name) => this.observe(name, question.mergeSha)));
    } catch (error) {
      if (!(error instanceof ArgoCdApiError)) throw error;
      if (error.status === null) return { ...keep, decision: { status: 'wait', reason: error.message } };
      return { ...keep, decision: { status: 'fail', reason: error.message, resources: [] } };
    }
    const result = evaluateArgoGate({
      apps: observations,
      expectations: question.expectations,
      now: question.now,
      mergedAt: question.mergedAt,
      healthySince: question.healthySince,
      wasHealthy: question.wasHealthy,
      stabilityWindowMs: this.options.stabilityWindowMs,
      timeoutMs: this.options.timeoutMs,
    });
    // Stale status: ask Argo CD to reconcile now (the call returns once it has); the next check reads it.
    for (const name of result.refresh) await this.options.client.getApplication(name, 'normal').catch(() => undefined);
    return { decision: result.decision, healthySince: result.healthySince, wasHealthy: result.wasHealthy };
  }

  private async observe(name: string, mergeSha: string): Promise<AppObservation> {
    const app = await this.options.client.getApplication(name);
    const revision = app.status.sync?.revision ?? app.status.sync?.revisions?.[0] ?? null;
    const ancestry = revision === null || !/^[0-9a-f]{40}$/.test(revision) ? null : revision === mergeSha ? 'identical' : await this.options.compare(mergeSha, revision);
    const tree = await this.options.client.getResourceTree(name);
    return { name, app, ancestry, tree };
  }
}
