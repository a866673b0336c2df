import type { GateOutcome, GateQuestion, HealthGate } from '../../core/gate.js';
import type { GitHubConfigRepo } from './config-repo.js';

/** The commit status context Argo CD Notifications posts for an application (README: `label`). */
export function deployedContext(application: string): string {
  return `continuous-delivery/${application}`;
}

export interface CommitStatusGateOptions {
  /** How long a success status must stand, with no failure after it, before the phase passes. */
  readonly stabilityWindowMs: number;
}

/**
 * The token-free Argo CD gate: Argo CD Notifications posts a commit status on the revision it
 * synced (`on-deployed`: success; `on-sync-failed`/`on-health-degraded`: failure), with the context
 * `continuous-delivery/<application>`. The phase passes when, on a base branch head that contains
 * the merge commit, every touched application's newest status of exactly its context is a success
 * that has stood for the stability window: `on-deployed` can fire while the new pods still roll
 * out (health not yet re-assessed), so a success alone proves little.
 */
export class CommitStatusGate implements HealthGate {
  readonly kind = 'argocd' as const;

  constructor(
    private readonly repo: Pick<GitHubConfigRepo, 'getBranchHead' | 'compare' | 'listCommitStatuses'>,
    private readonly branch: () => Promise<string>,
    private readonly options: CommitStatusGateOptions,
  ) {}

  async evaluate(question: GateQuestion): Promise<GateOutcome> {
    const keep = { healthySince: null, wasHealthy: question.wasHealthy };
    if (question.applications.length === 0) {
      return { ...keep, decision: { status: 'fail', reason: 'no Argo CD application manages the files of this phase; name them under clusters[].argocd.applications in .github/mesh-upgrade.yml', resources: [] } };
    }
    const head = await this.repo.getBranchHead(await this.branch());
    const relation = head.sha === question.mergeSha ? 'identical' : await this.repo.compare(question.mergeSha, head.sha);
    if (relation !== 'identical' && relation !== 'ahead') return { ...keep, decision: { status: 'wait', reason: 'the base branch does not contain the merge commit yet' } };
    // Newest first, every status (not only the newest per context): a failure after a success counts.
    const statuses = await this.repo.listCommitStatuses(head.sha);
    const missing: string[] = [];
    const pending: string[] = [];
    let latestSuccess: number | null = null;
    for (const app of question.applications) {
      const context = deployedContext(app);
      const mine = statuses.filter((s) => s.context === context);
      const newest = mine[0];
      if (newest && (newest.state === 'failure' || newest.state === 'error')) {
        return { ...keep, decision: { status: 'fail', reason: `Argo CD reported ${app} ${newest.state}: ${newest.description ?? ''}`.trim(), resources: [] } };
      }
      if (newest?.state === 'pending') pending.push(app);
      else if (newest?.state !== 'success') missing.push(app);
      else {
        const at = Date.parse(newest.createdAt);
        latestSuccess = latestSuccess === null ? at : Math.max(latestSuccess, at);
      }
    }
    if (pending.length > 0) return { ...keep, decision: { status: 'wait', reason: `Argo CD Notifications report ${pending.join(', ')} pending (a sync is running)` } };
    if (missing.length > 0 || latestSuccess === null) return { ...keep, decision: { status: 'wait', reason: `waiting for Argo CD Notifications to report ${missing.join(', ')} deployed` } };
    // Every application reported success; the latest of those reports starts the window.
    const since = new Date(latestSuccess);
    const held = question.now.getTime() - since.getTime();
    if (held < this.options.stabilityWindowMs) {
      const left = Math.ceil((this.options.stabilityWindowMs - held) / 1000);
      return { decision: { status: 'wait', reason: `Argo CD Notifications reported ${question.applications.join(', ')} deployed; holding for another ${left} s (no failure may follow)` }, healthySince: since, wasHealthy: question.wasHealthy };
    }
    return {
      decision: { status: 'pass', summary: `Argo CD Notifications reported ${question.applications.join(', ')} deployed at or after the merge commit, with no failure for ${Math.round(held / 1000)} s` },
      healthySince: since,
      wasHealthy: true,
    };
  }
}
