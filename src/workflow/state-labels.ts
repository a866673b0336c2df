import { isStateLabelName, type StateLabel, stateLabelName } from '../core/markers.js';
import type { NextMove } from '../core/next-move.js';
import type { UpgradeState } from '../core/state.js';
import type { WorkflowEnv } from './context.js';
import { currentPhase } from './upgrade-state.js';

/**
 * The labels that show an upgrade's state at a glance in issue and PR lists (as release-please's
 * do): `mesh-upgrade: running | waiting-for-you | paused | completed | rolled-back | aborted`, on
 * the tracking issue and on the PR of the current phase. A PR whose phase is over loses it.
 */

/** The state label an upgrade shows, given who moves next. */
export function stateLabelOf(state: UpgradeState, next: NextMove | null): StateLabel {
  switch (state.status) {
    case 'running':
      return next?.actor === 'person' ? 'waiting-for-you' : 'running';
    default:
      return state.status;
  }
}

/** The PR that carries the state label: the current phase's, while the upgrade is under way. */
export function labelledPullRequest(state: UpgradeState): number | null {
  if (state.status !== 'running' && state.status !== 'paused') return null;
  return currentPhase(state)?.pr ?? null;
}

interface LabelChange {
  readonly target: number;
  readonly label: StateLabel | null;
}

/**
 * What to change so the labels show `state`, from what the state says was set last; `opened`:
 * PRs opened with the `waiting-for-you` label just now (nothing to change on them).
 */
export function stateLabelChanges(state: UpgradeState, next: NextMove | null, opened: ReadonlySet<number>): LabelChange[] {
  const label = stateLabelOf(state, next);
  const pr = labelledPullRequest(state);
  const shown = state.labels;
  const changes: LabelChange[] = [];
  if (shown.issue !== label) changes.push({ target: state.issue, label });
  if (shown.pr !== null && shown.pr !== pr) changes.push({ target: shown.pr, label: null });
  const prShows = shown.pr === pr ? shown.issue : opened.has(pr ?? -1) ? 'waiting-for-you' : null;
  if (pr !== null && prShows !== label) changes.push({ target: pr, label });
  return changes;
}

/** Sets the state labels (each a read and, when it differs, one write); returns the state that records them. */
export async function syncStateLabels(
  env: WorkflowEnv,
  state: UpgradeState,
  next: NextMove | null,
  opened: ReadonlySet<number> = new Set(),
): Promise<UpgradeState> {
  if (state.options.dryRun) return state;
  for (const change of stateLabelChanges(state, next, opened)) {
    const labels = await env.repo.listLabels(change.target);
    const kept = labels.filter((name) => !isStateLabelName(name));
    const wanted = change.label === null ? null : stateLabelName(change.label);
    if (kept.length < labels.length - (wanted !== null && labels.includes(wanted) ? 1 : 0)) {
      // Another state label to take off: the whole list is written (the GitHub API contract this app keeps to has no remove-one call).
      await env.repo.setLabels(change.target, wanted === null ? kept : [...kept, wanted]);
    } else if (wanted !== null && !labels.includes(wanted)) {
      // Only adding: labels someone sets meanwhile are not overwritten.
      await env.repo.addLabels(change.target, [wanted]);
    }
  }
  return { ...state, labels: { issue: stateLabelOf(state, next), pr: labelledPullRequest(state) } };
}
