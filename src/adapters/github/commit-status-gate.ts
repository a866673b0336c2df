import { stripUserinfo } from '../../core/argocd-revisions.js';
import type { GateOutcome, GateQuestion, HealthGate } from '../../core/gate.js';
import type { CommitStatus, ConfigRepo } from './ports.js';

/** The commit status context Argo CD Notifications posts for an application (README: `label`). */
function deployedContext(application: string): string {
  return `continuous-delivery/${application}`;
}

interface CommitStatusGateOptions {
  /** How long a success status must stand, with no failure after it, before the phase passes (at least TOKEN_FREE_MIN_WINDOW_MS). */
  readonly stabilityWindowMs: number;
  /** How long, from the merge, the gate waits for a status (none yet, or the newest `pending`) before it fails. */
  readonly timeoutMs: number;
}

/**
 * The shortest window token-free mode holds a success for: the catalog's `on-deployed` fires as the
 * sync ends when the health has not changed since the sync started (the old, pre-sync Healthy),
 * and a Deployment whose new pods never become ready turns Degraded only once its
 * `progressDeadlineSeconds` (600 s by default) ran out — then `on-health-degraded` posts the
 * failure. 600 s plus a minute for Argo CD to notice and Notifications to post.
 */
const TOKEN_FREE_MIN_WINDOW_MS = 660_000;

/** At most this many commits after the merge commit are read for statuses (the newest ones). */
const MAX_COMMITS = 30;

type Status = CommitStatus;

/**
 * The token-free Argo CD gate: Argo CD Notifications posts a commit status on the revision it
 * synced (`on-deployed`: success; `on-sync-failed`/`on-health-degraded`: failure), with the context
 * `continuous-delivery/<application>`. The synced revision stays at the merge commit X when later
 * commits change nothing for the application, so the statuses of every commit from X to the base
 * branch head count, and for each touched application the newest status of exactly its context
 * decides: a success that has stood for the stability window passes (`on-deployed` can fire while
 * the new pods still roll out, health not yet re-assessed, so a success alone proves little); a
 * failure fails; none yet, or `pending`, waits up to the phase timeout, measured from the merge.
 */
export class CommitStatusGate implements HealthGate {
  /** The token-free Argo CD gate: its metrics count as Argo CD's. */
  readonly name = 'argocd-commit-status';
  readonly metricLabel = 'argocd' as const;

  constructor(
    private readonly repo: Pick<ConfigRepo, 'getBranchHead' | 'commitsSince' | 'listCommitStatuses'>,
    private readonly branch: () => Promise<string>,
    private readonly options: CommitStatusGateOptions,
  ) {}

  /** gateTiming.stabilityWindowSeconds, but at least TOKEN_FREE_MIN_WINDOW_MS. */
  get stabilityWindowMs(): number {
    return Math.max(this.options.stabilityWindowMs, TOKEN_FREE_MIN_WINDOW_MS);
  }

  async evaluate(question: GateQuestion): Promise<GateOutcome> {
    const keep = { healthySince: null, wasHealthy: question.wasHealthy };
    const applications = await question.facts.applications();
    if (applications.length === 0) {
      return {
        ...keep,
        decision: {
          status: 'fail',
          reason:
            'no Argo CD application manages the files of this phase; name them under clusters[].argocd.applications in .github/mesh-upgrade.yml',
          resources: [],
        },
      };
    }
    const wait = (reason: string, timedOut = reason): GateOutcome => {
      const timeout = this.options.timeoutMs;
      if (question.now.getTime() - question.mergedAt.getTime() > timeout) {
        return {
          ...keep,
          decision: { status: 'fail', reason: `timed out after ${Math.round(timeout / 60_000)} min: ${timedOut}`, resources: [] },
        };
      }
      return { ...keep, decision: { status: 'wait', reason } };
    };
    const head = await this.repo.getBranchHead(await this.branch());
    const { status: relation, commits } = await this.repo.commitsSince(question.mergeSha, head.sha);
    if (relation !== 'identical' && relation !== 'ahead') return wait('the base branch does not contain the merge commit yet');
    // Every status (not only the newest per context) of X and the newest commits after it: a failure after a success counts.
    const shas = [question.mergeSha, ...commits.slice(-MAX_COMMITS)];
    const statuses: Status[] = (await Promise.all(shas.map((sha) => this.repo.listCommitStatuses(sha)))).flat();
    const missing: string[] = [];
    const pending: string[] = [];
    let latestSuccess: number | null = null;
    for (const app of applications) {
      const context = deployedContext(app);
      const newest = statuses
        .filter((s) => s.context === context)
        .reduce<Status | null>((best, s) => (best === null || Date.parse(s.createdAt) > Date.parse(best.createdAt) ? s : best), null);
      if (newest && (newest.state === 'failure' || newest.state === 'error')) {
        return {
          ...keep,
          decision: {
            status: 'fail',
            reason: stripUserinfo(`Argo CD reported ${app} ${newest.state}: ${newest.description ?? ''}`.trim()),
            resources: [],
          },
        };
      }
      if (newest?.state === 'pending') pending.push(app);
      else if (newest?.state !== 'success') missing.push(app);
      else {
        const at = Date.parse(newest.createdAt);
        latestSuccess = latestSuccess === null ? at : Math.max(latestSuccess, at);
      }
    }
    if (pending.length > 0) {
      const reason = `Argo CD Notifications report ${pending.join(', ')} pending (a sync is running)`;
      return wait(reason, `${reason}, and no newer status followed`);
    }
    if (missing.length > 0 || latestSuccess === null) {
      return wait(
        `waiting for Argo CD Notifications to report ${missing.join(', ')} deployed`,
        `no ${missing.map(deployedContext).join(', ')} status on the merge commit or a later one: check that Argo CD synced it and that the notifications controller posts commit statuses for the application (README, "Token-free signal")`,
      );
    }
    // Every application reported success; the latest of those reports starts the window.
    const since = new Date(latestSuccess);
    const held = question.now.getTime() - since.getTime();
    const window = this.stabilityWindowMs;
    if (held < window) {
      const left = Math.ceil((window - held) / 1000);
      return {
        decision: {
          status: 'wait',
          reason: `Argo CD Notifications reported ${applications.join(', ')} deployed; holding for another ${left} s (no failure may follow)`,
        },
        healthySince: since,
        wasHealthy: question.wasHealthy,
      };
    }
    return {
      decision: {
        status: 'pass',
        summary: `Argo CD Notifications reported ${applications.join(', ')} deployed at or after the merge commit, with no failure for ${Math.round(held / 1000)} s`,
      },
      healthySince: since,
      wasHealthy: true,
    };
  }
}
