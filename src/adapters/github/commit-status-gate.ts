import type { GateOutcome, GateQuestion, HealthGate } from '../../core/gate.js';
import type { GitHubConfigRepo } from './config-repo.js';

/**
 * The token-free Argo CD gate: Argo CD Notifications posts a commit status on the revision it
 * synced (`on-deployed`: Synced and Healthy). The phase passes when every touched application has
 * a success status on the base branch head, and that head contains the merge commit.
 */
export class CommitStatusGate implements HealthGate {
  readonly kind = 'argocd' as const;

  constructor(
    private readonly repo: GitHubConfigRepo,
    private readonly branch: () => Promise<string>,
  ) {}

  async evaluate(question: GateQuestion): Promise<GateOutcome> {
    const keep = { healthySince: null, wasHealthy: question.wasHealthy };
    const head = await this.repo.getBranchHead(await this.branch());
    const relation = head.sha === question.mergeSha ? 'identical' : await this.repo.compare(question.mergeSha, head.sha);
    if (relation !== 'identical' && relation !== 'ahead') return { ...keep, decision: { status: 'wait', reason: 'the base branch does not contain the merge commit yet' } };
    const statuses = await this.repo.listCommitStatuses(head.sha);
    const missing: string[] = [];
    for (const app of question.applications) {
      const status = statuses.find((s) => s.context.includes(app));
      if (status?.state === 'failure' || status?.state === 'error') {
        return { ...keep, decision: { status: 'fail', reason: `Argo CD reported ${app} ${status.state}: ${status.description ?? ''}`.trim(), resources: [] } };
      }
      if (status?.state !== 'success') missing.push(app);
    }
    if (missing.length > 0) return { ...keep, decision: { status: 'wait', reason: `waiting for Argo CD Notifications to report ${missing.join(', ')} deployed` } };
    return { decision: { status: 'pass', summary: `Argo CD Notifications reported ${question.applications.join(', ')} deployed at or after the merge commit` }, healthySince: question.now, wasHealthy: true };
  }
}
