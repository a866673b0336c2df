import type { Command } from '../core/command.js';
import type { PlanOptions } from '../core/plan-types.js';
import type { UpgradeState } from '../core/state.js';
import { type ClusterConfig, kubernetesVersionFor, platformFor, type RepoConfig } from './repo-config.js';

/** What a plan is made for: a start command, a running upgrade (upgrade or rollback), or the way back. */
export type PlanRequest =
  | { readonly kind: 'start'; readonly command: Extract<Command, { kind: 'start' }>; readonly cluster: ClusterConfig }
  | { readonly kind: 'running'; readonly state: UpgradeState }
  | { readonly kind: 'rollback'; readonly state: UpgradeState }
  | { readonly kind: 'cli'; readonly flags: CliPlanFlags; readonly cluster?: ClusterConfig };

/** What the CLI's flags say; each one given wins over the repo config. */
export interface CliPlanFlags extends Partial<Omit<PlanOptions, 'to' | 'from'>> {
  readonly to: string;
}

/** The one place PlanOptions are put together, from the repo config and what the plan is for. */
export function planOptionsFor(config: RepoConfig, request: PlanRequest): PlanOptions {
  switch (request.kind) {
    case 'start': {
      const { command, cluster } = request;
      return {
        to: command.revision,
        ...(command.version ? { version: command.version } : {}),
        ...(command.downgrade ? { downgrade: true } : {}),
        canary: startCanary(config, command, cluster),
        podBudget: config.podBudget,
        strategy: config.strategy,
        cleanupMode: config.cleanupMode,
        ...clusterPlanOptions(config, cluster.name),
      };
    }
    case 'rollback': {
      const { state } = request;
      return {
        to: state.target,
        rollback: true,
        ...(state.options.canary ? { canary: state.options.canary } : {}),
        ...(state.options.strategy ? { strategy: state.options.strategy } : {}),
        podBudget: config.podBudget,
        ...clusterPlanOptions(config, state.cluster),
      };
    }
    case 'cli': {
      // As a start plans it (the cluster's settings, else the repo's), each flag given winning.
      const { flags, cluster } = request;
      const platform = flags.platform ?? (cluster ? platformFor(config, cluster) : config.platform);
      const kubernetesVersion = flags.kubernetesVersion ?? (cluster ? kubernetesVersionFor(config, cluster) : config.kubernetesVersion);
      return {
        to: flags.to,
        ...(flags.version ? { version: flags.version } : {}),
        ...(flags.downgrade ? { downgrade: true } : {}),
        // The CLI plans any repo: a rollback of a revision it does not run is refused, not planned.
        ...(flags.rollback ? { rollback: true, rollbackNeedsTarget: true } : {}),
        canary: flags.canary ?? cluster?.canary ?? config.canary,
        podBudget: flags.podBudget ?? config.podBudget,
        strategy: flags.strategy ?? config.strategy,
        cleanupMode: flags.cleanupMode ?? config.cleanupMode,
        ...(platform ? { platform } : {}),
        ...(kubernetesVersion ? { kubernetesVersion } : {}),
      };
    }
    case 'running': {
      const { state } = request;
      // A running rollback plans the way back to the revision it returns to.
      const rollback = state.mode === 'rollback' && state.from !== null;
      return {
        to: rollback ? state.from! : state.target,
        ...(rollback ? { rollback: true } : {}),
        ...(state.options.version && !rollback ? { version: state.options.version } : {}),
        ...(!rollback ? { from: state.from } : {}),
        ...(state.options.downgrade ? { downgrade: true } : {}),
        ...(state.options.canary ? { canary: state.options.canary } : {}),
        ...(state.options.strategy ? { strategy: state.options.strategy } : {}),
        ...(state.options.cleanupMode && !rollback ? { cleanupMode: state.options.cleanupMode } : {}),
        podBudget: config.podBudget,
        ...clusterPlanOptions(config, state.cluster),
      };
    }
  }
}

/** The canary of a start: the command's, else the cluster's, else the repo's. */
export function startCanary(config: RepoConfig, command: Extract<Command, { kind: 'start' }>, cluster: ClusterConfig): readonly string[] {
  return command.canary ?? cluster.canary ?? config.canary;
}

/** What the repo config says about a cluster for planning: its platform (asmcli flags) and Kubernetes version. */
function clusterPlanOptions(config: RepoConfig, clusterName: string): Pick<PlanOptions, 'platform' | 'kubernetesVersion'> {
  const cluster = config.clusters.find((c) => c.name === clusterName);
  const platform = cluster ? platformFor(config, cluster) : config.platform;
  const kubernetesVersion = cluster ? kubernetesVersionFor(config, cluster) : config.kubernetesVersion;
  return { ...(platform ? { platform } : {}), ...(kubernetesVersion ? { kubernetesVersion } : {}) };
}
