import type { BranchHead } from '../adapters/github/ports.js';
import { type PlanRequest, planOptionsFor } from '../config/plan-options.js';
import { type ClusterConfig, ConfigError, parseRepoConfig, type RepoConfig } from '../config/repo-config.js';
import { planUpgrade } from '../core/plan.js';
import type { UpgradePlan } from '../core/plan-types.js';
import type { UpgradeState } from '../core/state.js';
import { MeshUpgradeError } from '../model/errors.js';
import { type RepoSnapshot, scopeSnapshot } from '../model/snapshot.js';
import { sayText } from '../text/hints.js';
import type { Messages } from '../text/messages.js';
import type { WorkflowEnv } from './context.js';

/** Everything one step reads, at one pinned commit of the base branch. */
export interface RepoView {
  readonly base: string;
  readonly head: BranchHead;
  readonly config: RepoConfig;
  /** The repo at `head`, read on first use. */
  snapshot: RepoSnapshot | null;
}

/** A plan, or why the planner refused (a user-fixable problem, said in the comment). */
type PlanResult = { readonly kind: 'planned'; readonly plan: UpgradePlan } | { readonly kind: 'refused'; readonly reason: string };

/** The base branch at its head, with the repo config there; a config that does not parse is an expected outcome. */
export async function readRepo(env: WorkflowEnv): Promise<{ kind: 'read'; view: RepoView } | { kind: 'bad-config'; reason: string }> {
  const defaultBranch = await env.repo.getDefaultBranch();
  const defaultHead = await env.repo.getBranchHead(defaultBranch);
  const configText = await env.repo.readConfigFile(defaultHead.sha);
  let config: RepoConfig;
  try {
    config = parseRepoConfig(configText);
  } catch (error) {
    if (error instanceof ConfigError) return { kind: 'bad-config', reason: error.message };
    throw error;
  }
  // The config lives on the default branch; `baseBranch` names where the manifests are read and the PRs go.
  const base = config.baseBranch || defaultBranch;
  const head = base === defaultBranch ? defaultHead : await env.repo.getBranchHead(base);
  return { kind: 'read', view: { base, head, config, snapshot: null } };
}

export async function snapshotOf(env: WorkflowEnv, view: RepoView): Promise<RepoSnapshot> {
  view.snapshot ??= (await env.repo.readSnapshot(view.head.sha)).snapshot;
  return view.snapshot;
}

/** Plans a start or a rollback from the repo as it is (never cached: it is done once per command). */
export async function planFor(env: WorkflowEnv, view: RepoView, path: string, request: PlanRequest): Promise<PlanResult> {
  return planned(env.messages, async () =>
    planUpgrade(scopeSnapshot(await snapshotOf(env, view), path || undefined), planOptionsFor(view.config, request)),
  );
}

/** The plan of a running upgrade at the view's head (shared through the app's plan cache). */
export async function replan(env: WorkflowEnv, state: UpgradeState, view: RepoView): Promise<PlanResult> {
  return planned(env.messages, async () => {
    const options = planOptionsFor(view.config, { kind: 'running', state });
    const key = `${env.repo.ref.owner}/${env.repo.ref.repo}@${view.head.sha}:${state.path}:${JSON.stringify(options)}`;
    const snapshot = env.services.plans.has(key) ? null : await snapshotOf(env, view);
    return env.services.plans.get(key, () => planUpgrade(scopeSnapshot(snapshot!, state.path || undefined), options));
  });
}

/** The plan, or the planner's refusal in the bot's words (its hints as `/upgrade …` and repo config keys). */
async function planned(messages: Messages, make: () => Promise<UpgradePlan>): Promise<PlanResult> {
  try {
    return { kind: 'planned', plan: await make() };
  } catch (error) {
    if (error instanceof MeshUpgradeError) return { kind: 'refused', reason: sayText(error.text, messages) };
    throw error;
  }
}

/** The cluster a command means: the named one, or the only one. */
export function resolveCluster(
  messages: Messages,
  config: RepoConfig,
  name: string | undefined,
): { kind: 'cluster'; cluster: ClusterConfig } | { kind: 'unknown'; reason: string } {
  const names = config.clusters.map((c) => c.name).join(', ');
  if (name === undefined) {
    if (config.clusters.length === 1) return { kind: 'cluster', cluster: config.clusters[0]! };
    return { kind: 'unknown', reason: messages.say('cluster.ambiguous', { names }) };
  }
  const cluster = config.clusters.find((c) => c.name === name);
  return cluster ? { kind: 'cluster', cluster } : { kind: 'unknown', reason: messages.say('cluster.unknown', { name, names }) };
}
