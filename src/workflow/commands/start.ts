import { startCanary } from '../../config/plan-options.js';
import type { ClusterConfig, RepoConfig } from '../../config/repo-config.js';
import type { Command } from '../../core/command.js';
import { issueLabels, withoutPhaseMarker } from '../../core/markers.js';
import type { UpgradePlan } from '../../core/plan-types.js';
import type { UpgradeState } from '../../core/state.js';
import type { Messages } from '../../text/messages.js';
import { renderPlanComment, renderPullRequest, toPlanView, withDryRunBodies } from '../../text/render.js';
import type { Templates } from '../../text/templates.js';
import { advance } from '../advance.js';
import { acquireClusterLock, givingLockBackOnFailure, tookOverNote } from '../cluster-lock.js';
import type { WorkflowEnv } from '../context.js';
import { type CommandComment, replyOnce } from '../replies.js';
import { planFor, type RepoView, resolveCluster } from '../repo-view.js';
import { ensureSticky, findTracking, trackingFrom } from '../tracking.js';
import { isActive, phaseRecordsOf } from '../upgrade-state.js';

export type StartCommand = Extract<Command, { kind: 'start' }>;

/** What a start does about an upgrade the issue already shows. */
type StartDecision =
  /** The same command again (a double comment): the upgrade is already under way, advance it. */
  | { readonly kind: 'resume' }
  /** Another upgrade is under way here: refused. */
  | { readonly kind: 'refuse'; readonly text: string }
  /** Plan a new one. */
  | { readonly kind: 'plan' };

export function decideStart(
  messages: Messages,
  existing: UpgradeState | null,
  command: StartCommand,
  cluster: ClusterConfig,
): StartDecision {
  if (!existing || !isActive(existing)) return { kind: 'plan' };
  if (existing.target === command.revision && existing.cluster === cluster.name) return { kind: 'resume' };
  return { kind: 'refuse', text: messages.say('reply.already-in-progress-here', { cluster: existing.cluster, target: existing.target }) };
}

/** The state of a new upgrade, from the command and its plan. */
export function initialState(
  request: { issue: number; author: string; installation: number | null; head: string; now: Date },
  command: StartCommand,
  cluster: ClusterConfig,
  config: RepoConfig,
  plan: UpgradePlan,
): UpgradeState {
  const canary = startCanary(config, command, cluster);
  return {
    version: 1,
    issue: request.issue,
    cluster: cluster.name,
    path: cluster.path,
    target: plan.to.revision,
    targetVersion: plan.to.version,
    from: plan.from.revision,
    fromVersion: plan.from.version,
    install: plan.install,
    mode: 'upgrade',
    options: {
      ...(command.version ? { version: command.version } : {}),
      ...(canary ? { canary: [...canary] } : {}),
      downgrade: command.downgrade,
      dryRun: command.dryRun,
      strategy: plan.strategy,
      cleanupMode: config.cleanupMode,
    },
    status: 'running',
    reason: null,
    requestedBy: request.author,
    installation: request.installation,
    phases: phaseRecordsOf(plan),
    handover: null,
    labels: { issue: null, pr: null },
    plannedAt: request.head,
    startedAt: request.now.toISOString(),
  };
}

/** `/upgrade <revision>`: plan, take the cluster's lock, write the sticky comment, open the first phase. */
export async function start(env: WorkflowEnv, event: CommandComment, command: StartCommand, view: RepoView): Promise<void> {
  const { messages } = env;
  const resolved = resolveCluster(messages, view.config, command.cluster);
  if (resolved.kind === 'unknown') return replyOnce(env, event, messages.say('reply.error', { reason: resolved.reason }));
  const { cluster } = resolved;
  const comments = await env.repo.listIssueComments(event.issue);
  const existing = trackingFrom(env, event.issue, comments);
  const decision = decideStart(messages, existing?.state ?? null, command, cluster);
  if (decision.kind === 'refuse') return replyOnce(env, event, decision.text);
  if (decision.kind === 'resume') {
    // Silent but for the 👀 already given: a flood of the same command must not become a flood of replies.
    await advance(env, { ...existing!, comments }, view, { continued: false });
    return;
  }

  const planned = await planFor(env, view, cluster.path, { kind: 'start', command, cluster });
  if (planned.kind === 'refused') return replyOnce(env, event, messages.say('reply.plan-refused', { reason: planned.reason }));
  const { plan } = planned;
  if (plan.phases.every((p) => p.status === 'done')) {
    return replyOnce(env, event, messages.say('reply.nothing-to-change', { cluster: cluster.name, revision: command.revision }));
  }

  const draft = initialState(
    { issue: event.issue, author: event.author, installation: null, head: view.head.sha, now: env.now() },
    command,
    cluster,
    view.config,
    plan,
  );
  if (command.dryRun) {
    const shown: UpgradeState = { ...draft, status: 'paused', reason: messages.say('reason.dry-run') };
    const body = renderPlanComment(
      env.templates,
      shown,
      toPlanView(plan, view.head.sha, view.base),
      { actor: 'person', text: messages.say('next.dry-run', { revision: command.revision }), handover: 'dry-run' },
      env.stateKey,
      { mentions: false },
    );
    await ensureSticky(
      env,
      event.issue,
      existing?.comment ?? null,
      withDryRunBodies(body, dryRunBodies(env.templates, messages, draft, plan, view.config)),
    );
    return;
  }

  const runsUpgrade = async (issue: number) => {
    const holder = await findTracking(env, issue);
    return holder !== null && isActive(holder.state) && holder.state.cluster === cluster.name;
  };
  const lockRequest = { cluster: cluster.name, issue: event.issue, base: view.head, now: env.now(), runsUpgrade };
  const lock = await acquireClusterLock(env.repo, lockRequest, env.log);
  if (lock.kind === 'refused') {
    env.log.warn({ issue: event.issue, cluster: cluster.name }, 'upgrade refused: GitHub refused the lock ref');
    return replyOnce(env, event, messages.say('reply.error', { reason: lock.reason }));
  }
  if (lock.kind === 'held') {
    env.log.warn({ issue: event.issue, cluster: cluster.name, holder: lock.issue }, 'upgrade refused: cluster locked');
    const holder = lock.issue ? `#${lock.issue}` : messages.say('lock.another-issue');
    return replyOnce(
      env,
      event,
      messages.say('reply.cluster-locked', { cluster: cluster.name, holder }),
      lock.issue ? `#${lock.issue}` : null,
    );
  }
  const state: UpgradeState = { ...draft, installation: env.installation };
  const sticky = await givingLockBackOnFailure(
    env.repo,
    lockRequest,
    env.log,
    messages,
    async () => {
      await env.repo.addLabels(event.issue, issueLabels(view.config.labels));
      return ensureSticky(
        env,
        event.issue,
        existing?.comment ?? null,
        renderPlanComment(env.templates, state, toPlanView(plan, view.head.sha, view.base), null, env.stateKey, { mentions: false }),
      );
    },
    (text) => replyOnce(env, event, text),
  );
  if (lock.tookOverFrom) await replyOnce(env, event, tookOverNote(messages, cluster.name, lock.tookOverFrom));
  await advance(env, { state, comment: sticky, comments }, view, { continued: false, plan });
}

/** The would-be PR bodies of a dry run (without their phase markers: no event may act on them). */
function dryRunBodies(templates: Templates, messages: Messages, state: UpgradeState, plan: UpgradePlan, config: RepoConfig): string {
  return plan.phases
    .map((phase, index) => {
      if (phase.status === 'done') return '';
      const text = renderPullRequest(templates, state, phase, index, config.gate);
      return messages.say('dry-run.would-open', { title: text.title, body: withoutPhaseMarker(text.body) });
    })
    .filter(Boolean)
    .join('\n\n');
}
