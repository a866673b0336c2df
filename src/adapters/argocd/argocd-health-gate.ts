import { evaluateArgoGate } from '../../core/argocd-gate.js';
import {
  type Ancestry,
  bestAncestry,
  type ConfigRepoRef,
  redactDecision,
  stripUserinfo,
  trackedRevisions,
} from '../../core/argocd-revisions.js';
import type { AppObservation } from '../../core/argocd-sync-checks.js';
import type { GateOutcome, GateQuestion, HealthGate } from '../../core/gate.js';
import { statusOf } from '../github/errors.js';
import { ArgoCdApiError, type ArgoCdClient } from './client.js';

interface ArgoCdGateOptions {
  readonly client: ArgoCdClient;
  /** The config repo (the GitHub repo the upgrade runs in): a multi-source app's revision is the one of its source. */
  readonly repo: ConfigRepoRef;
  /** How the revision Argo CD reports relates to the merge commit (GitHub's compare). */
  readonly compare: (base: string, head: string) => Promise<Ancestry>;
  readonly stabilityWindowMs: number;
  readonly timeoutMs: number;
}

/** Why an application cannot be gated at all (its sources do not include the config repo). */
class UngateableApplication extends Error {}

/**
 * The Argo CD gate: reads each touched application and its resource tree, relates the revision
 * it compared for the config repo to the merge commit, and lets the pure evaluation decide. An
 * unreachable Argo CD is a reason to wait (and say so); a wrong token, a missing application or an
 * answer that is not an Argo CD object pauses the upgrade with the reason.
 */
export class ArgoCdHealthGate implements HealthGate {
  readonly name = 'argocd';
  readonly metricLabel = 'argocd' as const;

  constructor(private readonly options: ArgoCdGateOptions) {}

  async evaluate(question: GateQuestion): Promise<GateOutcome> {
    const outcome = await this.decide(question);
    return {
      ...outcome,
      decision: redactDecision(outcome.decision),
      ...(outcome.warnings ? { warnings: outcome.warnings.map(stripUserinfo) } : {}),
    };
  }

  private async decide(question: GateQuestion): Promise<GateOutcome> {
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
    let observations: AppObservation[];
    try {
      observations = await Promise.all(applications.map((name) => this.observe(name, question.mergeSha)));
    } catch (error) {
      if (error instanceof UngateableApplication) return { ...keep, decision: { status: 'fail', reason: error.message, resources: [] } };
      if (!(error instanceof ArgoCdApiError)) throw error;
      // Unreachable (DNS, CA, host, no answer) or a 5xx (an ingress in front of a restarting
      // server answers 502/503/504): wait, but no longer than the phase timeout from the merge.
      if (error.status === null || error.status >= 500) {
        const timeout = this.options.timeoutMs;
        if (question.now.getTime() - question.mergedAt.getTime() > timeout) {
          return {
            ...keep,
            decision: { status: 'fail', reason: `timed out after ${Math.round(timeout / 60_000)} min: ${error.message}`, resources: [] },
          };
        }
        return { ...keep, decision: { status: 'wait', reason: error.message } };
      }
      return { ...keep, decision: { status: 'fail', reason: error.message, resources: [] } };
    }
    const result = evaluateArgoGate({
      apps: observations,
      expectations: await question.facts.expectations(),
      now: question.now,
      mergedAt: question.mergedAt,
      healthySince: question.healthySince,
      wasHealthy: question.wasHealthy,
      stabilityWindowMs: this.options.stabilityWindowMs,
      timeoutMs: this.options.timeoutMs,
    });
    // Stale status: ask Argo CD to reconcile now (the call returns once it has); the next check reads it.
    // A refresh that fails (Argo CD's "application refresh deadline exceeded") changes nothing but the wait's wording.
    const refreshFailures: string[] = [];
    for (const name of result.refresh) {
      await this.options.client
        .getApplication(name, 'normal')
        .catch(
          (error: unknown) => void refreshFailures.push(error instanceof ArgoCdApiError ? error.message : `refreshing ${name} failed`),
        );
    }
    const decision =
      result.decision.status === 'wait' && refreshFailures.length > 0
        ? { ...result.decision, reason: `${result.decision.reason}; asked to refresh: ${refreshFailures.join('; ')}` }
        : result.decision;
    return { decision, healthySince: result.healthySince, wasHealthy: result.wasHealthy, warnings: result.warnings };
  }

  private async observe(name: string, mergeSha: string): Promise<AppObservation> {
    const app = await this.options.client.getApplication(name);
    const tracked = trackedRevisions(app, this.options.repo);
    if (tracked.kind === 'foreign') throw new UngateableApplication(`${name}: ${tracked.reason}`);
    const relations = await Promise.all(tracked.revisions.map((revision) => this.relate(name, mergeSha, revision)));
    const tree = await this.options.client.getResourceTree(name);
    return { name, app, ancestry: bestAncestry(relations), tree };
  }

  /** X and a revision Argo CD reports; null when it is not a commit (yet). */
  private async relate(name: string, mergeSha: string, revision: string): Promise<Ancestry | null> {
    if (!/^[0-9a-f]{40}$/.test(revision)) return null;
    if (revision === mergeSha) return 'identical';
    try {
      return await this.options.compare(mergeSha, revision);
    } catch (error) {
      const status = statusOf(error);
      if (status !== 404 && status !== 422) throw error;
      const { owner, repo } = this.options.repo;
      throw new UngateableApplication(
        `${name}: Argo CD reports revision ${revision}, which ${owner}/${repo} does not have (GitHub answered ${status}): the application does not track this repository`,
      );
    }
  }
}
