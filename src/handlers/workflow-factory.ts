import type { Context } from 'probot';
import { GitHubConfigRepo } from '../adapters/github/config-repo.js';
import type { RepoConfig } from '../config/repo-config.js';
import { evaluateManualGate } from '../core/gate.js';
import type { Templates } from '../text/templates.js';
import type { Logger } from '../workflow/logger.js';
import { UpgradeWorkflow, type HealthGate } from '../workflow/upgrade-workflow.js';

export type WorkflowFactory = (context: Context<'issue_comment.created' | 'pull_request.closed'>, log: Logger) => UpgradeWorkflow;

export interface AppOptions {
  readonly templates: Templates;
  /** The bot's own login (`<app-slug>[bot]`), to tell its commits from people's. */
  readonly botLogin: string | null;
  /** Gates by kind; `manual` is always there. */
  readonly gates?: Partial<Record<RepoConfig['gate'], HealthGate>>;
}

export const manualGate: HealthGate = { kind: 'manual', evaluate: async (question) => evaluateManualGate(question) };

export function workflowFactory(options: AppOptions): WorkflowFactory {
  return (context, log) =>
    new UpgradeWorkflow({
      repo: new GitHubConfigRepo(context.octokit, context.repo(), options.botLogin),
      templates: options.templates,
      gateFor: (config) => options.gates?.[config.gate] ?? manualGate,
      log,
    });
}
