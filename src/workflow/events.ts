import type { ConfigRepo } from '../adapters/github/ports.js';
import { type PhaseMarker, parsePhaseMarker, UPGRADE_LABEL } from '../core/markers.js';
import type { UpgradeState } from '../core/state.js';
import { advance } from './advance.js';
import { issueKey, type WorkflowEnv } from './context.js';
import { readRepo } from './repo-view.js';
import { findTracking } from './tracking.js';
import { currentPhase, isActive } from './upgrade-state.js';

/** The events besides commands: a phase PR closed, a commit status, a timer (or the reconcile). */

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

/**
 * The phase a closed PR belongs to, when it is one of the bot's own phase PRs from this repository:
 * anyone can open (and close) a PR from a fork with a copied marker.
 */
export function phaseOfClosedPullRequest(
  repo: Pick<ConfigRepo, 'ref' | 'botLogin'>,
  event: PullRequestClosedEvent,
): { kind: 'phase'; marker: PhaseMarker } | { kind: 'not-a-phase' } | { kind: 'not-ours' } {
  const marker = parsePhaseMarker(event.body);
  if (!marker) return { kind: 'not-a-phase' };
  const ours = event.headRepo === `${repo.ref.owner}/${repo.ref.repo}` && (repo.botLogin === null || event.author === repo.botLogin);
  return ours ? { kind: 'phase', marker } : { kind: 'not-ours' };
}

/** Whether a closed PR moves the issue's upgrade: it must be one of its phases, and the upgrade running or paused. */
export function closedPullRequestMoves(state: UpgradeState | null, pr: number): boolean {
  return state !== null && isActive(state) && state.phases.some((p) => p.pr === pr);
}

/** A phase PR was closed: merged → ask the gate; closed unmerged → pause. */
export async function onPullRequestClosed(env: WorkflowEnv, event: PullRequestClosedEvent): Promise<void> {
  const phase = phaseOfClosedPullRequest(env.repo, event);
  if (phase.kind === 'not-a-phase') return;
  if (phase.kind === 'not-ours') {
    env.log.warn(
      { pr: event.number, author: event.author, headRepo: event.headRepo },
      'ignored: a closed PR with a phase marker that the bot did not open',
    );
    return;
  }
  const { marker } = phase;
  await env.services.locks.run(issueKey(env, marker.issue), async () => {
    const tracking = await findTracking(env, marker.issue);
    if (!tracking || !closedPullRequestMoves(tracking.state, event.number)) return;
    const read = await readRepo(env);
    if (read.kind !== 'read') return;
    env.log.info({ issue: marker.issue, pr: event.number, merged: event.merged, phase: marker.phase }, 'phase pull request closed');
    await advance(env, tracking, read.view, { continued: false });
  });
}

/** A timer (or the reconcile) moves only a running upgrade: a paused one waits for a person. */
export function recheckMoves(state: UpgradeState): boolean {
  return state.status === 'running';
}

/** Re-evaluates one upgrade (a timer, a commit status, or the startup reconcile): only a running one moves. */
export async function recheck(env: WorkflowEnv, issue: number): Promise<void> {
  await env.services.locks.run(issueKey(env, issue), async () => {
    const tracking = await findTracking(env, issue);
    if (!tracking || !recheckMoves(tracking.state)) return;
    const read = await readRepo(env);
    if (read.kind !== 'read') return;
    await advance(env, tracking, read.view, { continued: false });
  });
}

/** The merge commit a success status may complete the gate of: the running upgrade's merged phase's, or null. */
export function commitStatusConcerns(state: UpgradeState | null): string | null {
  const phase = state ? currentPhase(state) : undefined;
  if (state?.status !== 'running' || phase?.status !== 'merged' || !phase.mergeSha) return null;
  return phase.mergeSha;
}

/**
 * A commit status arrived (Argo CD Notifications post one on the synced revision): re-check the
 * upgrades whose merged phase it may concern. Polling stays the source of truth.
 */
export async function onCommitStatus(env: WorkflowEnv, sha: string, state: string): Promise<void> {
  if (state !== 'success') return;
  for (const issue of await env.repo.listOpenIssues(UPGRADE_LABEL)) {
    const tracking = await findTracking(env, issue);
    const mergeSha = commitStatusConcerns(tracking?.state ?? null);
    if (mergeSha === null) continue;
    const relation = mergeSha === sha ? 'identical' : await env.repo.compare(mergeSha, sha);
    if (relation === 'identical' || relation === 'ahead') await recheck(env, issue);
  }
}
