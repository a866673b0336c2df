import type { Context } from 'probot';
import { ArgoCdHealthGate } from '../adapters/argocd/argocd-health-gate.js';
import type { ArgoCdClient } from '../adapters/argocd/client.js';
import { CommitStatusGate } from '../adapters/github/commit-status-gate.js';
import { GitHubConfigRepo, type GitHubClient, type RepoRef } from '../adapters/github/config-repo.js';
import type { RepoConfig } from '../config/repo-config.js';
import { evaluateManualGate, type HealthGate } from '../core/gate.js';
import type { StateKey } from '../core/state.js';
import type { Templates } from '../text/templates.js';
import type { Logger } from '../workflow/logger.js';
import { UpgradeWorkflow, type GateScheduler } from '../workflow/upgrade-workflow.js';

export interface AppOptions {
  readonly templates: Templates;
  /** The bot's own login (`<app-slug>[bot]`), to tell its commits from people's. */
  readonly botLogin: string | null;
  /** Key of the sticky comment's state block: only blocks it authenticates are acted on. */
  readonly stateKey: StateKey;
  /** Argo CD API access (ARGOCD_SERVER + ARGOCD_AUTH_TOKEN); without it the Argo CD gate reads Argo CD Notifications' commit statuses. */
  readonly argocd?: ArgoCdClient | null;
  readonly now?: () => Date;
  readonly scheduler?: GateScheduler;
}

export type WorkflowFactory = (octokit: GitHubClient, ref: RepoRef, installation: number | null, log: Logger) => UpgradeWorkflow;

export const manualGate: HealthGate = { kind: 'manual', evaluate: async (question) => evaluateManualGate(question) };

export function workflowFactory(options: AppOptions): WorkflowFactory {
  return (octokit, ref, installation, log) => {
    const repo = new GitHubConfigRepo(octokit, ref, options.botLogin);
    const gateFor = (config: RepoConfig): HealthGate => {
      if (config.gate !== 'argocd') return manualGate;
      if (!options.argocd) return new CommitStatusGate(repo, () => repo.getDefaultBranch(), {
          stabilityWindowMs: config.gateTiming.stabilityWindowSeconds * 1000,
          timeoutMs: config.gateTiming.phaseTimeoutMinutes * 60_000,
        });
      return new ArgoCdHealthGate({
        client: options.argocd,
        repo: ref,
        compare: (base, head) => repo.compare(base, head),
        stabilityWindowMs: config.gateTiming.stabilityWindowSeconds * 1000,
        timeoutMs: config.gateTiming.phaseTimeoutMinutes * 60_000,
      });
    };
    return new UpgradeWorkflow({
      repo,
      templates: options.templates,
      stateKey: options.stateKey,
      gateFor,
      log,
      installation,
      ...(options.now ? { now: options.now } : {}),
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    });
  };
}

/** The workflow for the repository a webhook event came from. */
export function workflowForEvent(factory: WorkflowFactory, context: Context, log: Logger): UpgradeWorkflow {
  const installation = (context.payload as { installation?: { id?: number } }).installation?.id ?? null;
  return factory(context.octokit, context.repo(), installation, log);
}
