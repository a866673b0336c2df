import type { GitHubConfigRepo, BranchHead, IssueComment, PullRequestInfo } from '../adapters/github/config-repo.js';
import { ForeignCommitsError } from '../adapters/github/errors.js';
import { ConfigError, kubernetesVersionFor, meetsPermission, parseRepoConfig, platformFor, type ClusterConfig, type RepoConfig } from '../config/repo-config.js';
import type { Platform } from '../core/platform.js';
import { parseCommand, type Command, type CommandParse } from '../core/command.js';
import { MeshUpgradeError } from '../model/errors.js';
import { phaseKindOf } from '../core/phase-ids.js';
import type { GateOutcome, HealthGate } from '../core/gate.js';
import { planUpgrade } from '../core/plan.js';
import { type PlannedPhase, type UpgradePlan } from '../core/plan-types.js';
import { scopeSnapshot, type RepoSnapshot } from '../model/snapshot.js';
import { isStateComment, lockRef, newPhaseRecord, parsePhaseMarker, parseStateBlock, phaseBranch, replyMarker, stateKeyForRepo, type PhaseRecord, type StateKey, type UpgradeState } from '../core/state.js';
import { describeGate, fitComment, renderHelp, renderPlanComment, renderPullRequest, renderReply, renderResourceTable, toPlanView, withDryRunBodies, type PlanView } from '../text/render.js';
import type { Templates } from '../text/templates.js';
import { metrics } from '../observability/metrics.js';
import { KeyedMutex } from './keyed-mutex.js';
import { acquireClusterLock, givingLockBackOnFailure, orphanLocksNote, releaseOrphanLocks, tookOverNote } from './cluster-lock.js';
import { gateQuestion, phaseExpectations, touchedApplications } from './gate-question.js';
import type { Logger } from './logger.js';

export type { HealthGate };

/** Runs a gate check again later (in-process timers; restart safety comes from reconcile). */
export interface GateScheduler {
  schedule(key: string, delayMs: number, run: () => Promise<void>): void;
}

export interface WorkflowDeps {
  readonly repo: GitHubConfigRepo;
  readonly templates: Templates;
  /** Authenticates the state block of the sticky comment (derived from the App's secret). */
  readonly stateKey: StateKey;
  readonly gateFor: (config: RepoConfig) => HealthGate;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly scheduler?: GateScheduler;
  /** The installation this repo belongs to (kept in the state for reconciling after a restart). */
  readonly installation?: number | null;
}

export interface CommentEvent {
  readonly issue: number;
  readonly commentId: number;
  readonly body: string;
  readonly author: string;
  readonly authorIsBot: boolean;
}

export interface PullRequestClosedEvent {
  readonly number: number;
  readonly merged: boolean;
  readonly mergeSha: string | null;
  readonly body: string | null;
  readonly headRef: string;
  /** Who opened the PR, and the repository (`owner/name`) its head branch lives in. */
  readonly author: string;
  readonly headRepo: string | null;
}

/** Everything one step reads, at one pinned commit of the base branch. */
interface RepoView {
  readonly base: string;
  readonly head: BranchHead;
  readonly config: RepoConfig;
  snapshot: RepoSnapshot | null;
}

interface Tracking {
  state: UpgradeState;
  comment: IssueComment;
  comments: readonly IssueComment[];
}

const mutex = new KeyedMutex();

/**
 * Plans of recent commits: a plan depends only on the repo at a commit and the options, so several
 * events at the same head (status commands, gate polls) share one. A cache, never needed for
 * correctness; small, because a plan holds the repo's YAML.
 */
const plans = new Map<string, UpgradePlan>();
const PLAN_CACHE_SIZE = 4;

/** Forgets cached plans (tests that inject faults into the repo download). */
export function clearPlanCache(): void {
  plans.clear();
}

function cachedPlan(key: string, make: () => UpgradePlan): UpgradePlan {
  const hit = plans.get(key);
  if (hit) {
    plans.delete(key);
    plans.set(key, hit);
    return hit;
  }
  const plan = make();
  plans.set(key, plan);
  if (plans.size > PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value!);
  return plan;
}

/**
 * One step of one upgrade at a time: read the repo at a pinned commit, plan, ask the gate, and make
 * sure the branch, commit, PR and sticky comment are what they should be. Every step is derived
 * from GitHub as it is, so a replayed event or a restarted bot does the same thing again, or nothing.
 */
export class UpgradeWorkflow {
  /** Comments this event is the first to see (the bot's reaction on them was new). */
  private readonly firstSighting = new Set<number>();

  /** The state key of this repository (a block signed for another repo does not verify here). */
  private readonly stateKey: StateKey;

  constructor(private readonly deps: WorkflowDeps) {
    this.stateKey = stateKeyForRepo(deps.stateKey, `${deps.repo.ref.owner}/${deps.repo.ref.repo}`);
  }

  private get repo() {
    return this.deps.repo;
  }

  private key(issue: number): string {
    return `${this.repo.ref.owner}/${this.repo.ref.repo}#${issue}`;
  }

  /** An `issue_comment.created` event. */
  async onComment(event: CommentEvent): Promise<void> {
    if (event.authorIsBot) return;
    const parsed = parseCommand(event.body);
    if (parsed.kind === 'none') return;
    const log = this.deps.log;
    // Acknowledge at once; the reaction also tells a redelivery from a new comment.
    const reaction = await this.repo.react(event.commentId, 'eyes');
    if (reaction === 'new') this.firstSighting.add(event.commentId);
    log.info({ issue: event.issue, comment: event.commentId, redelivery: reaction === 'existing' }, 'upgrade command received');
    await mutex.run(this.key(event.issue), () => this.handleCommand(event, parsed));
  }

  /** Permission first: nobody without it learns more than that, malformed command or not. */
  private async handleCommand(event: CommentEvent, parsed: Exclude<CommandParse, { kind: 'none' }>): Promise<void> {
    // No role at all is refused before the repo is read: an outsider's comment costs one request.
    const permission = await this.repo.getPermission(event.author);
    const view = permission === 'none' ? null : await this.readRepo();
    const required = view === null || 'error' in view ? DEFAULT_PERMISSION : view.config.permission;
    if (view === null || !meetsPermission(permission, required)) {
      this.deps.log.warn({ issue: event.issue, user: event.author, permission, required }, 'command refused: permission');
      await this.refuseOutsider(event, required);
      return;
    }
    if ('error' in view) {
      await this.replyOnce(event, `❌ ${view.error}`);
      return;
    }
    if (parsed.kind === 'invalid') {
      await this.replyOnce(event, `❌ ${parsed.message}\n\n${renderHelp()}`);
      return;
    }
    const { command } = parsed;
    switch (command.kind) {
      case 'help':
        return this.replyOnce(event, renderHelp());
      case 'start':
        return this.start(event, command, view);
      case 'status':
        return this.status(event, view);
      case 'continue':
        return this.continue(event, view);
      case 'abort':
        return this.abort(event, view);
      case 'rollback':
        return this.rollback(event, view);
    }
  }

  /** A phase PR was closed: merged → ask the gate; closed unmerged → pause. */
  async onPullRequestClosed(event: PullRequestClosedEvent): Promise<void> {
    const marker = parsePhaseMarker(event.body);
    if (!marker) return;
    // Only the bot's own phase PRs, from this repository, move an upgrade: anyone can open (and
    // close) a PR from a fork with a copied marker.
    const ours = event.headRepo === `${this.repo.ref.owner}/${this.repo.ref.repo}` && (this.repo.botLogin === null || event.author === this.repo.botLogin);
    if (!ours) {
      this.deps.log.warn({ pr: event.number, author: event.author, headRepo: event.headRepo }, 'ignored: a closed PR with a phase marker that the bot did not open');
      return;
    }
    await mutex.run(this.key(marker.issue), async () => {
      const tracking = await this.findTracking(marker.issue);
      if (!tracking || !isActive(tracking.state) || !tracking.state.phases.some((p) => p.pr === event.number)) return;
      const view = await this.readRepo();
      if ('error' in view) return;
      this.deps.log.info({ issue: marker.issue, pr: event.number, merged: event.merged, phase: marker.phase }, 'phase pull request closed');
      await this.advance(tracking, view, { continued: false });
    });
  }

  // ---------------------------------------------------------------------------------------------

  private async start(event: CommentEvent, command: Extract<Command, { kind: 'start' }>, view: RepoView): Promise<void> {
    const cluster = this.resolveCluster(view.config, command.cluster);
    if (typeof cluster === 'string') return this.replyOnce(event, `❌ ${cluster}`);
    const comments = await this.repo.listIssueComments(event.issue);
    const existing = this.trackingFrom(event.issue, comments);
    if (existing && isActive(existing.state)) {
      if (existing.state.target === command.revision && existing.state.cluster === cluster.name) {
        // The same command again (a double comment): the upgrade is already under way.
        await this.advance({ ...existing, comments }, view, { continued: false });
        return;
      }
      return this.replyOnce(event, `❌ An upgrade of \`${existing.state.cluster}\` to \`${existing.state.target}\` is already in progress on this issue. Say \`/upgrade abort\` first to replace it.`);
    }

    let plan: UpgradePlan;
    try {
      plan = planUpgrade(scopeSnapshot(await this.snapshotOf(view), cluster.path || undefined), {
        to: command.revision,
        ...(command.version ? { version: command.version } : {}),
        ...(command.downgrade ? { downgrade: true } : {}),
        canary: command.canary ?? cluster.canary ?? view.config.canary,
        podBudget: view.config.podBudget,
        strategy: view.config.strategy,
        cleanupMode: view.config.cleanupMode,
        ...clusterPlanOptions(view.config, cluster.name),
      });
    } catch (error) {
      if (error instanceof MeshUpgradeError) return this.replyOnce(event, `❌ Refused: ${error.message}`);
      throw error;
    }
    if (plan.phases.every((p) => p.status === 'done')) {
      return this.replyOnce(event, `✅ \`${cluster.name}\` already runs \`${command.revision}\` only: every phase is done, nothing to change.`);
    }

    const state = initialState(event, { ...command, canary: command.canary ?? cluster.canary ?? view.config.canary, cleanupMode: view.config.cleanupMode }, cluster, plan);
    if (command.dryRun) {
      const body = renderPlanComment(this.deps.templates, { ...state, status: 'paused', reason: 'dry run: nothing was created' }, toPlanView(plan), `comment \`/upgrade ${command.revision}\` without \`--dry-run\` to start.`, this.stateKey);
      await this.ensureSticky(event.issue, existing?.comment ?? null, withDryRunBodies(body, this.dryRunBodies(state, plan, view.config)));
      return;
    }

    const runsUpgrade = async (issue: number) => {
      const holder = await this.findTracking(issue);
      return holder !== null && isActive(holder.state) && holder.state.cluster === cluster.name;
    };
    const lockRequest = { cluster: cluster.name, issue: event.issue, base: view.head, now: this.now(), runsUpgrade };
    const lock = await acquireClusterLock(this.repo, lockRequest, this.deps.log);
    if (lock.kind === 'refused') {
      this.deps.log.warn({ issue: event.issue, cluster: cluster.name }, 'upgrade refused: GitHub refused the lock ref');
      return this.replyOnce(event, `❌ ${lock.reason}`);
    }
    if (lock.kind === 'held') {
      this.deps.log.warn({ issue: event.issue, cluster: cluster.name, holder: lock.issue }, 'upgrade refused: cluster locked');
      const link = lock.issue ? `#${lock.issue}` : 'another issue';
      return this.replyOnce(event, `❌ An upgrade of cluster \`${cluster.name}\` is already in progress in ${link}. Finish or \`/upgrade abort\` it there first.`, lock.issue ? `#${lock.issue}` : null);
    }
    state.installation = this.deps.installation ?? null;
    const sticky = await givingLockBackOnFailure(this.repo, lockRequest, this.deps.log, async () => {
      await this.repo.addLabels(event.issue, ['mesh-upgrade']);
      return this.ensureSticky(event.issue, existing?.comment ?? null, renderPlanComment(this.deps.templates, state, toPlanView(plan), null, this.stateKey));
    }, (text) => this.replyOnce(event, text));
    if (lock.tookOverFrom) await this.replyOnce(event, tookOverNote(cluster.name, lock.tookOverFrom));
    await this.advance({ state, comment: sticky, comments }, view, { continued: false, plan });
  }

  private async status(event: CommentEvent, view: RepoView): Promise<void> {
    const tracking = await this.findTracking(event.issue);
    if (!tracking) return this.replyOnce(event, 'No upgrade on this issue. Start one with `/upgrade <revision>`.');
    if (isActive(tracking.state)) await this.advance(tracking, view, { continued: false });
    const fresh = (await this.findTracking(event.issue)) ?? tracking;
    await this.replyOnce(event, `Upgrade of \`${fresh.state.cluster}\` to \`${fresh.state.target}\`: **${fresh.state.status}**${fresh.state.reason ? ` (${fresh.state.reason})` : ''}. Current phase: ${currentPhase(fresh.state)?.title ?? 'none'}. Details: ${fresh.comment.htmlUrl}`);
  }

  private async continue(event: CommentEvent, view: RepoView): Promise<void> {
    const tracking = await this.findTracking(event.issue);
    if (!tracking || !isActive(tracking.state)) return this.replyOnce(event, 'There is no running or paused upgrade on this issue to continue.');
    const phase = currentPhase(tracking.state);
    if (phase?.status === 'open' && phase.pr !== null) {
      const pr = await this.repo.getPullRequest(phase.pr);
      if (pr.state === 'open') return this.replyOnce(event, `Phase *${phase.title}* is waiting for its pull request #${phase.pr} to be reviewed and merged.`);
    }
    if (phase?.status === 'closed' || phase?.status === 'failed') {
      phase.status = phase.status === 'closed' ? 'pending' : 'merged';
      phase.note = null;
    }
    tracking.state.status = 'running';
    tracking.state.reason = null;
    const refusal = await this.advance(tracking, view, { continued: true });
    if (refusal) await this.replyOnce(event, refusal);
  }

  private async abort(event: CommentEvent, view: RepoView): Promise<void> {
    const tracking = await this.findTracking(event.issue);
    if (!tracking || !isActive(tracking.state)) {
      // A start that died before its sticky comment may have left the lock naming this issue.
      const freed = await releaseOrphanLocks(this.repo, event.issue, this.deps.log);
      return this.replyOnce(event, freed.length > 0 ? orphanLocksNote(freed) : 'There is no running or paused upgrade on this issue to abort.');
    }
    const { state } = tracking;
    await this.closeOpenPhases(state, 'closed by /upgrade abort');
    state.status = 'aborted';
    state.reason = `aborted by @${event.author}`;
    await this.repo.releaseLockOf(lockRef(state.cluster), state.issue);
    await this.writeSticky(tracking, null, null, view);
    await this.replyOnce(event, `Upgrade to \`${state.target}\` aborted. Phases already merged stay in the repo; open phase pull requests were closed.`);
  }

  private async closeOpenPhases(state: UpgradeState, note: string): Promise<void> {
    for (const phase of state.phases) {
      if (phase.status !== 'open' || phase.pr === null) continue;
      const pr = await this.repo.getPullRequest(phase.pr);
      if (pr.state === 'open') {
        await this.repo.closePullRequest(pr.number);
        await this.repo.deleteBranch(pr.headRef);
      }
      phase.status = 'closed';
      phase.note = note;
    }
  }

  /**
   * `/upgrade rollback`: the merged phases are undone as reviewed PRs, derived from the repo as it is
   * (applications, gateways, then tags and Service back, then the new control plane removed).
   * Refused once the old control plane is gone.
   */
  private async rollback(event: CommentEvent, view: RepoView): Promise<void> {
    const tracking = await this.findTracking(event.issue);
    if (!tracking) return this.replyOnce(event, 'There is no upgrade on this issue to roll back.');
    const { state } = tracking;
    if (state.mode === 'rollback') {
      return this.replyOnce(event, isActive(state) ? 'A rollback is already under way on this issue.' : `This issue was already rolled back to \`${state.target}\`.`);
    }
    const cleanedUp = state.status === 'completed' || state.phases.some((p) => p.id === 'cleanup' && ['merged', 'passed', 'done'].includes(p.status));
    if (cleanedUp) {
      return this.replyOnce(
        event,
        `❌ Rollback refused: the cleanup phase removed \`${state.from}\`, so there is no control plane to go back to. Go back with a new canary: \`/upgrade ${state.from} --downgrade\`.`,
      );
    }
    let plan: UpgradePlan;
    try {
      plan = planUpgrade(scopeSnapshot(await this.snapshotOf(view), state.path || undefined), {
        to: state.target,
        rollback: true,
        ...(state.options.canary ? { canary: state.options.canary } : {}),
        ...(state.options.strategy ? { strategy: state.options.strategy } : {}),
        podBudget: view.config.podBudget,
        ...clusterPlanOptions(view.config, state.cluster),
      });
    } catch (error) {
      if (error instanceof MeshUpgradeError) return this.replyOnce(event, `❌ Rollback refused: ${error.message}`);
      throw error;
    }
    await this.closeOpenPhases(state, 'closed by /upgrade rollback');
    const lock = await this.repo.acquireLock(lockRef(state.cluster), state.issue, view.head);
    if (lock.kind === 'refused') return this.replyOnce(event, `❌ ${lock.reason}`);
    if (lock.kind === 'held') return this.replyOnce(event, `❌ Cluster \`${state.cluster}\` is now held by #${lock.issue}; roll back there or abort it first.`);
    const back: UpgradeState = {
      ...state,
      mode: 'rollback',
      target: plan.to.revision,
      targetVersion: plan.to.version,
      from: plan.from.revision,
      fromVersion: plan.from.version,
      status: 'running',
      reason: `rollback requested by @${event.author}`,
      phases: plan.phases.map((p) => newPhaseRecord(p.id, p.title, p.status === 'done' ? 'done' : 'pending')),
    };
    this.deps.log.info({ issue: state.issue, cluster: state.cluster, back: back.target, phases: back.phases.length }, 'rollback planned');
    await this.advance({ ...tracking, state: back }, view, { continued: false, plan });
    await this.replyOnce(event, `↩️ Rolling back \`${state.cluster}\` from \`${state.target}\` to \`${back.target}\` in ${back.phases.filter((p) => p.status !== 'done').length} reviewed phase(s); see the plan comment.`);
  }

  /**
   * Walks the phases in order from the repo as it is now: adopts merged PRs, asks the gate about
   * merged phases, and opens the next phase's PR, then rewrites the sticky comment. Returns why a
   * `/upgrade continue` could not pass the current phase, if it could not.
   */
  private async advance(tracking: Tracking, view: RepoView, options: { continued: boolean; plan?: UpgradePlan }): Promise<string | null> {
    const { state } = tracking;
    const gate = this.deps.gateFor(view.config);
    let plan: UpgradePlan | null = options.plan ?? null;
    let nextStep: string | null = null;
    let continued = options.continued;
    let refusal: string | null = null;

    for (let index = 0; index < state.phases.length; index++) {
      const phase = state.phases[index]!;
      if (phase.status === 'passed' || phase.status === 'done') continue;
      if (phase.status === 'closed') {
        state.status = 'paused';
        state.reason = `the pull request of phase ${index + 1} (${phase.id}) was closed without merging`;
        nextStep = `reopen and merge #${phase.pr}, or say \`/upgrade continue\` to open it again, or \`/upgrade abort\`.`;
        break;
      }
      if (phase.status === 'open' && phase.pr !== null) {
        const pr = await this.repo.getPullRequest(phase.pr);
        if (pr.state === 'open') {
          nextStep = `review and merge #${pr.number}.`;
          break;
        }
        if (!pr.merged) {
          phase.status = 'closed';
          phase.note = 'closed without merging';
          state.status = 'paused';
          state.reason = `the pull request of phase ${index + 1} (${phase.id}) was closed without merging`;
          nextStep = `reopen and merge #${pr.number}, or say \`/upgrade continue\` to open it again, or \`/upgrade abort\`.`;
          break;
        }
        phase.status = 'merged';
        phase.mergeSha = pr.mergeSha;
        phase.gate = { mergedAt: pr.mergedAt, healthySince: null, wasHealthy: false };
      }
      // A manual-only phase (open, without a PR) is looked at again from the repo below, like a
      // pending one: what it must commit may have landed since.
      if (phase.status === 'merged') {
        const now = this.now();
        phase.gate.mergedAt ??= now.toISOString();
        let applications: string[] = [];
        let expectations = phaseExpectations(state, phase, null);
        if (gate.kind === 'argocd') {
          plan ??= await this.replan(state, view);
          expectations = phaseExpectations(state, phase, plan);
          const files = phase.pr !== null ? await this.repo.listPullRequestFiles(phase.pr) : [];
          applications = touchedApplications(view.config, state, plan, files);
        }
        const outcome = await gate.evaluate(gateQuestion(state, phase, { continued, now, applications, expectations }));
        const { decision } = outcome;
        metrics.gateDecisions.inc({ gate: gate.kind, decision: decision.status });
        if (decision.status === 'pass' && phase.gate.mergedAt) {
          metrics.phaseSeconds.observe({ phase: phase.id.replace(/-\d+$/, ''), gate: gate.kind }, (now.getTime() - Date.parse(phase.gate.mergedAt)) / 1000);
        }
        phase.gate.healthySince = outcome.healthySince?.toISOString() ?? null;
        phase.gate.wasHealthy = outcome.wasHealthy;
        this.deps.log.info({ issue: state.issue, phase: phase.id, gate: gate.kind, decision: decision.status, reason: describeGate(decision) }, 'gate decision');
        phase.note = describeGate(decision, outcome.warnings);
        if (decision.status === 'wait') {
          nextStep =
            gate.kind === 'manual'
              ? `check phase ${index + 1} with the commands in #${phase.pr}, then say \`/upgrade continue\`.`
              : `waiting for Argo CD to report the merge commit of #${phase.pr} Synced and Healthy.`;
          if (gate.kind === 'argocd') this.scheduleRecheck(state, view.config);
          break;
        }
        if (decision.status === 'fail') {
          phase.status = 'failed';
          state.status = 'paused';
          state.reason = decision.reason;
          nextStep = 'fix the cluster and say `/upgrade continue` to check again, or `/upgrade abort`.';
          await this.reportGateFailure(state, phase, decision);
          break;
        }
        continued = false;
        phase.status = 'passed';
        continue;
      }
      // pending (or manual): generate it from the repo as it is now.
      if (plan === null) {
        plan = await this.replan(state, view);
        if (plan === null) break;
      }
      if (adoptPlanShape(state, index, plan)) {
        index--;
        continue;
      }
      const planned = plan.phases.find((p) => p.id === phase.id);
      if (!planned || planned.status === 'done') {
        const wasManual = phase.status === 'open' && phase.pr === null;
        phase.status = wasManual ? 'passed' : 'done';
        phase.note = wasManual ? 'the repo shows the result of its manual steps' : planned ? 'already in the repo' : 'no longer needed';
        if (wasManual) continued = false;
        continue;
      }
      const missingTarget = this.missingTarget(state, plan, planned);
      if (missingTarget) {
        // Pointing the default, the validator or the istiod Service at a control plane that does
        // not exist, or deleting the only one, breaks the mesh: never proposed.
        state.status = 'paused';
        state.reason = missingTarget;
        phase.note = 'blocked: the new control plane is not installed';
        nextStep = `install ${state.target} (phase 1), then say \`/upgrade continue\`.`;
        if (options.continued) refusal = `❌ Phase ${index + 1} (*${phase.title}*) was not opened: ${missingTarget}`;
        break;
      }
      const previous = state.phases[index - 1];
      if (phase.id === 'cleanup' && previous?.id === 'scale-down' && previous.gate.mergedAt) {
        // The old istiod stays scaled down, and recoverable, for the grace period before it is deleted.
        const graceEnds = Date.parse(previous.gate.mergedAt) + view.config.scaleDownGraceHours * 3_600_000;
        if (this.now().getTime() < graceEnds) {
          phase.note = `waiting for the grace period after scale-down (until ${new Date(graceEnds).toISOString()})`;
          nextStep = `the cleanup PR opens after ${new Date(graceEnds).toISOString()}; say \`/upgrade rollback\` before then to bring ${state.from} back.`;
          this.deps.scheduler?.schedule(this.key(state.issue), graceEnds - this.now().getTime(), () => this.recheck(state.issue));
          break;
        }
      }
      if (planned.blockedBy.length > 0) {
        // Cleanup waits until nothing in the repo uses the old revision any more.
        state.status = 'paused';
        state.reason = `${state.from} is still in use: ${planned.blockedBy.slice(0, 10).join(', ')}${planned.blockedBy.length > 10 ? ', …' : ''}`;
        phase.note = 'blocked: the old revision is still referenced';
        nextStep = 'move what still uses the old revision (or relabel it by hand), then say `/upgrade continue`.';
        break;
      }
      if (planned.files.length === 0) {
        phase.status = 'open';
        phase.note = 'manual steps';
        if (planned.manualResult === 'repo') {
          // Its result is files: it passes when the repo shows them (above), not on a word.
          const missing = phase.id === 'control-plane' ? `the repo at ${view.head.sha.slice(0, 7)} has no control plane ${state.target} (istiod-${state.target})` : `the repo at ${view.head.sha.slice(0, 7)} does not show the result of its manual steps yet`;
          phase.note = `manual steps: waiting for their result in the repo (${missing})`;
          nextStep = `do the manual steps of phase ${index + 1}, commit their result to \`${view.base}\`; the phase passes once the repo shows it.`;
          if (continued) refusal = `❌ Phase ${index + 1} (*${phase.title}*) is not done: ${missing}. Do its manual steps and commit the result to \`${view.base}\`, then say \`/upgrade continue\`.`;
          break;
        }
        if (continued) {
          continued = false;
          phase.status = 'passed';
          phase.note = 'confirmed with /upgrade continue';
          continue;
        }
        nextStep = `do the manual steps of phase ${index + 1}, then say \`/upgrade continue\`.`;
        break;
      }
      const opened = await this.openPhase(state, index, planned, view);
      if (opened === null) break;
      phase.status = 'open';
      phase.pr = opened.number;
      phase.branch = opened.headRef;
      phase.note = null;
      nextStep = `review and merge #${opened.number}.`;
      break;
    }

    if (state.phases.every((p) => p.status === 'passed' || p.status === 'done') && isActive(state)) {
      state.status = state.mode === 'rollback' ? 'rolled-back' : 'completed';
      state.reason = null;
      await this.repo.releaseLockOf(lockRef(state.cluster), state.issue);
      this.deps.log.info({ issue: state.issue, cluster: state.cluster, target: state.target }, 'upgrade completed');
    }
    await this.writeSticky(tracking, plan, nextStep, view);
    return refusal;
  }

  /**
   * Why a phase that needs the new control plane cannot be opened yet, or null: the default,
   * cleanup and what follows need istiod-<target> in the repo, or, where the control plane is
   * installed outside git, a passed control-plane phase (a maintainer's confirmation or the gate).
   */
  private missingTarget(state: UpgradeState, plan: UpgradePlan, planned: PlannedPhase): string | null {
    if (state.mode === 'rollback') return null;
    const kind = phaseKindOf(planned.id);
    if (!kind || !NEEDS_TARGET.has(kind)) return null;
    if (plan.inventory.revisions.some((r) => r.name === state.target)) return null;
    const controlPlane = state.phases.find((p) => p.id === 'control-plane');
    const confirmed = controlPlane?.status === 'passed' || controlPlane?.status === 'done';
    if (plan.install === 'external' && confirmed) return null;
    return `control plane ${state.target} (istiod-${state.target}) is not in the repo${plan.install === 'external' ? ' and its installation was not confirmed' : ''}; ${planned.title.charAt(0).toLowerCase()}${planned.title.slice(1)} would leave the mesh without a working control plane.`;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Polls a waiting Argo CD gate again, backing off from pollSeconds to maxPollSeconds. */
  private scheduleRecheck(state: UpgradeState, config: RepoConfig): void {
    const scheduler = this.deps.scheduler;
    if (!scheduler) return;
    const phase = currentPhase(state);
    const waited = phase?.gate.mergedAt ? this.now().getTime() - Date.parse(phase.gate.mergedAt) : 0;
    const { pollSeconds, maxPollSeconds, stabilityWindowSeconds } = config.gateTiming;
    let delay = Math.min(maxPollSeconds, pollSeconds * 2 ** Math.floor(waited / (5 * 60_000))) * 1000;
    // Healthy and holding: look again exactly when the stability window ends, not a poll later.
    if (phase?.gate.healthySince) {
      const windowMs = this.deps.gateFor(config).stabilityWindowMs ?? stabilityWindowSeconds * 1000;
      const windowEnds = Date.parse(phase.gate.healthySince) + windowMs - this.now().getTime();
      delay = Math.max(0, Math.min(delay, windowEnds));
    }
    scheduler.schedule(this.key(state.issue), delay, () => this.recheck(state.issue));
  }

  /** Re-evaluates the gate of one upgrade (a timer, a commit status, or the startup reconcile). */
  async recheck(issue: number): Promise<void> {
    await mutex.run(this.key(issue), async () => {
      const tracking = await this.findTracking(issue);
      if (!tracking || tracking.state.status !== 'running') return;
      const view = await this.readRepo();
      if ('error' in view) return;
      await this.advance(tracking, view, { continued: false });
    });
  }

  /**
   * A commit status arrived (Argo CD Notifications post one on the synced revision): re-check the
   * upgrades whose merged phase it may concern. Polling stays the source of truth.
   */
  async onCommitStatus(sha: string, state: string): Promise<void> {
    if (state !== 'success') return;
    for (const issue of await this.repo.listOpenIssues('mesh-upgrade')) {
      const tracking = await this.findTracking(issue);
      const phase = tracking ? currentPhase(tracking.state) : undefined;
      if (!tracking || tracking.state.status !== 'running' || phase?.status !== 'merged' || !phase.mergeSha) continue;
      const relation = phase.mergeSha === sha ? 'identical' : await this.repo.compare(phase.mergeSha, sha);
      if (relation === 'identical' || relation === 'ahead') await this.recheck(issue);
    }
  }

  /** Every running upgrade of this repo, re-checked (on startup and periodically). */
  async reconcileAll(): Promise<number> {
    const issues = await this.repo.listOpenIssues('mesh-upgrade');
    for (const issue of issues) await this.recheck(issue);
    return issues.length;
  }

  /** One comment per failure (the sticky comment holds the details), naming what is unhealthy. */
  private async reportGateFailure(state: UpgradeState, phase: PhaseRecord, decision: Extract<GateOutcome['decision'], { status: 'fail' }>): Promise<void> {
    const marker = `<!-- mesh-upgrade-gate-failed:${phase.id}:${phase.mergeSha} -->`;
    const comments = await this.repo.listIssueComments(state.issue);
    if (comments.some((c) => c.byThisApp && c.body.includes(marker))) return;
    const table = renderResourceTable(decision.resources);
    await this.repo.createComment(
      state.issue,
      fitComment(`⛔ Phase *${phase.title}* (#${phase.pr}) did not become healthy: ${decision.reason}${table}\n\nThe upgrade is paused; no further phase is opened. Fix the cluster and say \`/upgrade continue\` to check again, or revert #${phase.pr} and say \`/upgrade abort\`.\n${marker}`, marker),
    );
  }

  private async openPhase(state: UpgradeState, index: number, planned: PlannedPhase, view: RepoView): Promise<PullRequestInfo | null> {
    const branch = phaseBranch(state.cluster, state.target, index, planned.id);
    // Only the issue that holds the cluster opens its phases, whatever its stored state says.
    const ref = lockRef(state.cluster);
    let holder = await this.repo.readLock(ref);
    if (holder === undefined && (await this.repo.acquireLock(ref, state.issue, view.head)).kind === 'acquired') holder = state.issue;
    if (holder !== state.issue) {
      state.status = 'paused';
      state.reason = `cluster ${state.cluster} is held by ${holder ? `#${holder}` : 'another upgrade'}; this issue opens no phase until it is free (then say /upgrade continue)`;
      this.deps.log.warn({ issue: state.issue, cluster: state.cluster, holder }, 'phase not opened: the cluster lock is held elsewhere');
      return null;
    }
    const text = renderPullRequest(this.deps.templates, state, planned, index, view.config.gate);
    const result = await this.repo.ensureBranchCommit(branch, view.head, planned.files, `mesh-upgrade(${state.cluster}): ${planned.title}`);
    if (result.kind === 'refused') {
      // A ruleset (or retries given up): asking again at once would get the same answer.
      state.status = 'paused';
      state.reason = result.reason;
      this.deps.log.warn({ issue: state.issue, branch }, 'phase branch refused by GitHub');
      return null;
    }
    if (result.kind === 'foreign-commits') {
      const error = new ForeignCommitsError(branch);
      state.status = 'paused';
      state.reason = error.message;
      this.deps.log.warn({ issue: state.issue, branch }, 'phase branch has foreign commits');
      const pr = await this.repo.findPullRequest(branch);
      return pr && pr.state === 'open' ? pr : null;
    }
    const { pr, created } = await this.repo.ensurePullRequest(branch, view.base, text.title, text.body, ['mesh-upgrade', `mesh-upgrade:${planned.id.replace(/-\d+$/, '')}`]);
    this.deps.log.info({ issue: state.issue, phase: planned.id, pr: pr.number, created, branch: result.kind }, 'phase pull request ensured');
    return pr;
  }

  private async replan(state: UpgradeState, view: RepoView): Promise<UpgradePlan | null> {
    try {
      const rollback = state.mode === 'rollback' && state.from !== null;
      const options = {
        to: rollback ? state.from! : state.target,
        ...(rollback ? { rollback: true } : {}),
        ...(state.options.version && !rollback ? { version: state.options.version } : {}),
        ...(!rollback ? { from: state.from } : {}),
        ...(state.options.downgrade ? { downgrade: true } : {}),
        ...(state.options.canary ? { canary: state.options.canary } : {}),
        ...(state.options.strategy ? { strategy: state.options.strategy } : {}),
        ...(state.options.cleanupMode && !rollback ? { cleanupMode: state.options.cleanupMode } : {}),
        podBudget: view.config.podBudget,
        ...clusterPlanOptions(view.config, state.cluster),
      };
      const key = `${this.repo.ref.owner}/${this.repo.ref.repo}@${view.head.sha}:${state.path}:${JSON.stringify(options)}`;
      const snapshot = plans.has(key) ? null : await this.snapshotOf(view);
      return cachedPlan(key, () => planUpgrade(scopeSnapshot(snapshot!, state.path || undefined), options));
    } catch (error) {
      if (!(error instanceof MeshUpgradeError)) throw error;
      state.status = 'paused';
      state.reason = error.message;
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------

  private async readRepo(): Promise<RepoView | { error: string }> {
    const base = await this.repo.getDefaultBranch();
    const head = await this.repo.getBranchHead(base);
    const configText = await this.repo.readConfigFile(head.sha);
    try {
      return { base, head, config: parseRepoConfig(configText), snapshot: null };
    } catch (error) {
      if (error instanceof ConfigError) return { error: error.message };
      throw error;
    }
  }

  private async snapshotOf(view: RepoView): Promise<RepoSnapshot> {
    view.snapshot ??= (await this.repo.readSnapshot(view.head.sha)).snapshot;
    return view.snapshot;
  }

  private resolveCluster(config: RepoConfig, name: string | undefined): ClusterConfig | string {
    const names = config.clusters.map((c) => c.name);
    if (name === undefined) {
      if (config.clusters.length === 1) return config.clusters[0]!;
      return `this repo configures several clusters (${names.join(', ')}); say which with \`--cluster NAME\`.`;
    }
    return config.clusters.find((c) => c.name === name) ?? `unknown cluster \`${name}\`; configured clusters: ${names.join(', ')}.`;
  }

  private trackingFrom(issue: number, comments: readonly IssueComment[]): Tracking | null {
    // The oldest state comment wins, should two replicas ever have written one each.
    for (const comment of comments) {
      if (!comment.byThisApp || !isStateComment(comment.body)) continue;
      const parsed = parseStateBlock(comment.body, this.stateKey, issue);
      if (parsed.kind === 'state') return { state: parsed.state, comment, comments };
      const reason = parsed.kind === 'invalid' || parsed.kind === 'unauthenticated' ? parsed.reason : 'none';
      this.deps.log.warn({ comment: comment.id, reason }, parsed.kind === 'unauthenticated' ? 'state block ignored: not authenticated' : 'unreadable state block');
    }
    return null;
  }

  private async findTracking(issue: number): Promise<Tracking | null> {
    // The sticky comment is among the first on its issue: stop reading pages once it is found.
    const comment = await this.repo.findComment(issue, (c) => c.byThisApp && isStateComment(c.body) && parseStateBlock(c.body, this.stateKey, issue).kind === 'state');
    return comment ? this.trackingFrom(issue, [comment]) : null;
  }

  private async ensureSticky(issue: number, existing: IssueComment | null, body: string): Promise<IssueComment> {
    if (existing) {
      if (existing.body !== body) await this.repo.updateComment(existing.id, body);
      return { ...existing, body };
    }
    const created = await this.repo.createComment(issue, body);
    // Two deliveries racing on two replicas could each create one: keep the oldest.
    const others = (await this.repo.listIssueComments(issue)).filter((c) => c.byThisApp && isStateComment(c.body) && c.id !== created.id);
    const older = others.find((c) => c.id < created.id);
    if (older) {
      await this.repo.deleteComment(created.id);
      return older;
    }
    return created;
  }

  private async writeSticky(tracking: Tracking, plan: UpgradePlan | null, nextStep: string | null, view: RepoView): Promise<void> {
    const previous = parseStateBlock(tracking.comment.body, this.stateKey, tracking.state.issue);
    if (previous.kind !== 'state' || previous.state.status !== tracking.state.status) metrics.upgrades.inc({ state: tracking.state.status });
    let planView: PlanView | null = plan ? toPlanView(plan) : null;
    if (!planView && isActive(tracking.state)) {
      const fresh = await this.replan(tracking.state, view);
      planView = fresh ? toPlanView(fresh) : null;
    }
    if (planView && tracking.state.phases.some((p) => p.id === 'control-plane' && (p.status === 'passed' || p.status === 'done'))) {
      // Once our own control-plane phase is in, "already installed" is news to nobody.
      planView = { ...planView, warnings: planView.warnings.filter((w) => w.code !== 'target-already-installed') };
    }
    const body = renderPlanComment(this.deps.templates, tracking.state, planView, nextStep, this.stateKey);
    if (body !== tracking.comment.body) {
      await this.repo.updateComment(tracking.comment.id, body);
      tracking.comment = { ...tracking.comment, body };
    }
  }

  /**
   * A command from someone without the permission: one short reply per issue and hour, naming the
   * permission and nobody (no mention, nothing of what was typed); within the hour only a reaction,
   * so a flood of comments does not become a flood of replies or notifications.
   */
  private async refuseOutsider(event: CommentEvent, required: string): Promise<void> {
    const comments = await this.repo.listIssueComments(event.issue);
    const since = this.now().getTime() - OUTSIDER_REPLY_INTERVAL_MS;
    const recent = comments.some((c) => c.byThisApp && c.body.includes(OUTSIDER_MARKER) && Date.parse(c.createdAt) >= since);
    if (recent || comments.some((c) => c.byThisApp && c.body.includes(replyMarker(event.commentId)))) {
      await this.repo.react(event.commentId, 'confused');
      return;
    }
    await this.repo.createComment(
      event.issue,
      `${renderReply(this.deps.templates, event.commentId, `❌ \`/upgrade\` needs **${required}** permission on this repository. Nothing was changed.`, null)}${OUTSIDER_MARKER}\n`,
    );
  }

  /** Answers a command comment once: a redelivered event finds the marked reply and says nothing. */
  private async replyOnce(event: CommentEvent, text: string, issueLink: string | null = null): Promise<void> {
    // A comment seen for the first time (our 👀 was new) cannot have a reply yet; a redelivery checks.
    if (!this.firstSighting.has(event.commentId)) {
      const comments = await this.repo.listIssueComments(event.issue);
      if (comments.some((c) => c.byThisApp && c.body.includes(replyMarker(event.commentId)))) return;
    }
    await this.repo.createComment(event.issue, renderReply(this.deps.templates, event.commentId, text, issueLink));
  }

  private dryRunBodies(state: UpgradeState, plan: UpgradePlan, config: RepoConfig): string {
    return plan.phases
      .map((phase, index) => {
        if (phase.status === 'done') return '';
        const text = renderPullRequest(this.deps.templates, state, phase, index, config.gate);
        return `<details><summary>Would open: ${text.title}</summary>\n\n${text.body.replace(/<!-- mesh-upgrade-phase:[^>]*-->/, '')}\n</details>`;
      })
      .filter(Boolean)
      .join('\n\n');
  }
}

/**
 * When the repo changed under a running upgrade (new workloads, other waves), the remaining phases
 * follow the new plan rather than the old list, so no wave is ever skipped. Returns true when the
 * list changed.
 */
function adoptPlanShape(state: UpgradeState, from: number, plan: UpgradePlan): boolean {
  const remaining = state.phases.slice(from).map((p) => p.id);
  const settled = new Set(state.phases.slice(0, from).map((p) => p.id));
  const planned = plan.phases.filter((p) => !settled.has(p.id));
  if (planned.length === remaining.length && planned.every((p, i) => p.id === remaining[i])) return false;
  state.phases = [
    ...state.phases.slice(0, from),
    ...planned.map((p) => newPhaseRecord(p.id, p.title, 'pending', 'added: the repo changed since the plan')),
  ];
  return true;
}

/** What the repo config says about a cluster for planning: its platform (asmcli flags) and Kubernetes version. */
function clusterPlanOptions(config: RepoConfig, clusterName: string): { platform?: Platform; kubernetesVersion?: string } {
  const cluster = config.clusters.find((c) => c.name === clusterName);
  const platform = cluster ? platformFor(config, cluster) : config.platform;
  const kubernetesVersion = cluster ? kubernetesVersionFor(config, cluster) : config.kubernetesVersion;
  return { ...(platform ? { platform } : {}), ...(kubernetesVersion ? { kubernetesVersion } : {}) };
}

/** Permission asked for when the repo config cannot be read (the config's own default). */
const DEFAULT_PERMISSION = 'write';
const OUTSIDER_MARKER = '<!-- mesh-upgrade-permission-refusal -->';
const OUTSIDER_REPLY_INTERVAL_MS = 3_600_000;

/** Phases that point at, or depend on, the new control plane being there. */
const NEEDS_TARGET = new Set(['default-revision', 'scale-down', 'cleanup', 'operator-cleanup']);

/** An upgrade this issue drives (a dry run only shows a plan: it holds no lock and opens nothing). */
function isActive(state: UpgradeState): boolean {
  return (state.status === 'running' || state.status === 'paused') && !state.options.dryRun;
}

function currentPhase(state: UpgradeState): PhaseRecord | undefined {
  return state.phases.find((p) => p.status !== 'passed' && p.status !== 'done');
}

function initialState(event: CommentEvent, command: Extract<Command, { kind: 'start' }> & { cleanupMode: RepoConfig['cleanupMode'] }, cluster: ClusterConfig, plan: UpgradePlan): UpgradeState {
  return {
    version: 1,
    issue: event.issue,
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
      ...(command.canary ? { canary: command.canary } : {}),
      downgrade: command.downgrade,
      dryRun: command.dryRun,
      strategy: plan.strategy,
      cleanupMode: command.cleanupMode,
    },
    status: 'running',
    reason: null,
    requestedBy: event.author,
    installation: null,
    phases: plan.phases.map((p) => newPhaseRecord(p.id, p.title, p.status === 'done' ? 'done' : 'pending')),
  };
}
