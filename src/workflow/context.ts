import type { ConfigRepo } from '../adapters/github/ports.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { HealthGate } from '../core/gate.js';
import type { StateKey } from '../core/state.js';
import type { Messages } from '../text/messages.js';
import type { Templates } from '../text/templates.js';
import type { Logger } from './logger.js';
import type { WorkflowServices } from './services.js';

/** Runs a gate check again later (in-process timers; restart safety comes from reconcile). */
export interface GateScheduler {
  schedule(key: string, delayMs: number, run: () => Promise<void>): void;
}

/** Everything a step of one repository's workflow acts through. */
export interface WorkflowEnv {
  readonly repo: ConfigRepo;
  readonly templates: Templates;
  readonly messages: Messages;
  /** The state key of this repository (a block signed for another repo does not verify here). */
  readonly stateKey: StateKey;
  readonly gateFor: (config: RepoConfig) => HealthGate;
  readonly log: Logger;
  readonly now: () => Date;
  readonly scheduler: GateScheduler | null;
  readonly installation: number | null;
  readonly services: WorkflowServices;
  /** Comments this event is the first to see (the bot's reaction on them was new): they have no reply yet. */
  readonly firstSighting: Set<number>;
  /** Re-evaluates one upgrade (what a scheduled check runs). */
  readonly recheck: (issue: number) => Promise<void>;
}

/** The mutex and timer key of one issue of this repo. */
export function issueKey(env: Pick<WorkflowEnv, 'repo'>, issue: number): string {
  return `${env.repo.ref.owner}/${env.repo.ref.repo}#${issue}`;
}
