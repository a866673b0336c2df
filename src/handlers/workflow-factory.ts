import type { Context } from 'probot';
import { ArgoCdHealthGate } from '../adapters/argocd/argocd-health-gate.js';
import type { ArgoCdClient } from '../adapters/argocd/client.js';
import { CommitStatusGate } from '../adapters/github/commit-status-gate.js';
import { GitHubConfigRepo, type RepoRef } from '../adapters/github/config-repo.js';
import type { GitHubClient } from '../adapters/github/ref-store.js';
import type { RepoConfig } from '../config/repo-config.js';
import { type HealthGate, manualGate, polling } from '../core/gate.js';
import type { StateKey } from '../core/state.js';
import type { Templates } from '../text/templates.js';
import type { Logger } from '../workflow/logger.js';
import { createWorkflowServices, type WorkflowServices } from '../workflow/services.js';
import { type GateScheduler, UpgradeWorkflow } from '../workflow/upgrade-workflow.js';

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
  /** The per-issue mutex and plan cache; pass the same to createApp and reconcileInstallations (default: new ones). */
  readonly services?: WorkflowServices;
}

export type WorkflowFactory = (octokit: GitHubClient, ref: RepoRef, installation: number | null, log: Logger) => UpgradeWorkflow;

/** The gate a repo config asks for: manual, Argo CD's API, or (without an Argo CD token) Argo CD Notifications' commit statuses. */
export function gateFor(options: Pick<AppOptions, 'argocd'>, repo: GitHubConfigRepo, config: RepoConfig): HealthGate {
  if (config.gate !== 'argocd') return manualGate;
  const { stabilityWindowSeconds, phaseTimeoutMinutes, pollSeconds, maxPollSeconds } = config.gateTiming;
  const timing = { stabilityWindowMs: stabilityWindowSeconds * 1000, timeoutMs: phaseTimeoutMinutes * 60_000 };
  const poll = { pollMs: pollSeconds * 1000, maxPollMs: maxPollSeconds * 1000 };
  if (!options.argocd) {
    const gate = new CommitStatusGate(repo, async () => config.baseBranch || repo.getDefaultBranch(), timing);
    return polling(gate, { ...poll, stabilityWindowMs: gate.stabilityWindowMs });
  }
  const gate = new ArgoCdHealthGate({
    client: options.argocd,
    repo: repo.ref,
    compare: (base, head) => repo.compare(base, head),
    ...timing,
  });
  return polling(gate, { ...poll, stabilityWindowMs: timing.stabilityWindowMs });
}

export function workflowFactory(options: AppOptions): WorkflowFactory {
  const services = options.services ?? createWorkflowServices();
  const now = options.now ?? (() => new Date());
  return (octokit, ref, installation, log) => {
    const repo = new GitHubConfigRepo(octokit, ref, options.botLogin);
    return new UpgradeWorkflow({
      repo,
      templates: options.templates,
      stateKey: options.stateKey,
      gateFor: (config) => gateFor(options, repo, config),
      log,
      installation,
      now,
      scheduler: options.scheduler ?? null,
      services,
    });
  };
}

/** The workflow for the repository a webhook event came from. */
export function workflowForEvent(factory: WorkflowFactory, context: Context, log: Logger): UpgradeWorkflow {
  const installation = (context.payload as { installation?: { id?: number } }).installation?.id ?? null;
  return factory(context.octokit, context.repo(), installation, log);
}
