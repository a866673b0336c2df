import Mustache from 'mustache';
import { commandHelp } from '../core/command.js';
import type { GateDecision } from '../core/gate.js';
import type { PlannedPhase, UpgradePlan } from '../core/plan.js';
import { renderPhaseMarker, renderStateBlock, replyMarker, type PhaseRecord, type UpgradeState } from '../core/state.js';
import type { Templates } from './templates.js';

/** GitHub refuses bodies over 65,536 characters; stay well below. */
export const BODY_LIMIT = 60_000;
const MAX_CHANGE_ROWS = 300;

const STATE_LABELS: Record<PhaseRecord['status'], string> = {
  pending: '⏳ pending',
  open: '👀 in review',
  merged: '🔄 merged, checking health',
  passed: '✅ passed',
  done: '✅ done',
  closed: '⏸️ closed unmerged',
  failed: '❌ failed',
};

const STATUS_LABELS: Record<UpgradeState['status'], string> = {
  running: 'running',
  paused: 'paused',
  completed: 'completed',
  aborted: 'aborted',
  refused: 'refused',
  'rolled-back': 'rolled back',
};

function render(template: string, view: object): string {
  // Markdown, not HTML: no escaping of &, <, > inside values.
  return Mustache.render(template, view, {}, { escape: (value: string) => String(value) });
}

function label(revision: string | null, version: string | null): string {
  if (!revision) return '(nothing)';
  return version ? `\`${revision}\` (${version})` : `\`${revision}\``;
}

/** What a plan adds to the comment beyond the state: warnings, manual steps, restarts. */
export interface PlanView {
  readonly warnings: UpgradePlan['warnings'];
  readonly phases: ReadonlyArray<Pick<PlannedPhase, 'id' | 'title' | 'manual' | 'pods' | 'estimatedMinutes'>>;
}

export function toPlanView(plan: UpgradePlan): PlanView {
  return { warnings: plan.warnings, phases: plan.phases.map(({ id, title, manual, pods, estimatedMinutes }) => ({ id, title, manual, pods, estimatedMinutes })) };
}

/** The sticky plan comment: status, phase table, mermaid chart, manual steps, warnings, state block. */
export function renderPlanComment(templates: Templates, state: UpgradeState, view: PlanView | null, nextStep: string | null): string {
  const byId = new Map(view?.phases.map((p) => [p.id, p]) ?? []);
  const phases = state.phases.map((phase, i) => {
    const planned = byId.get(phase.id);
    return {
      number: i + 1,
      title: phase.title,
      stateLabel: STATE_LABELS[phase.status],
      note: phase.note,
      pr: phase.pr,
      restarts: planned && planned.pods > 0 ? `${planned.pods} pods, ~${planned.estimatedMinutes} min` : '–',
    };
  });
  const manualPhases = (view?.phases ?? []).filter((p) => p.manual.length > 0).map((p) => ({ title: p.title, steps: p.manual }));
  const restartMinutes = (view?.phases ?? []).reduce((sum, p) => sum + (p.pods > 0 ? p.estimatedMinutes : 0), 0);
  const warnings = (view?.warnings ?? []).map((w) => ({ ...w, message: w.message.replace(/\n/g, '\n  ') }));
  const body = render(templates.planComment, {
    heading: state.mode === 'rollback' ? 'Mesh rollback' : 'Mesh upgrade',
    cluster: state.cluster,
    fromLabel: label(state.from, state.fromVersion),
    toLabel: label(state.target, state.targetVersion),
    statusLabel: STATUS_LABELS[state.status],
    reason: state.reason,
    install: state.install,
    path: state.path,
    requestedBy: state.requestedBy,
    dryRun: state.options.dryRun,
    phases,
    mermaid: renderMermaid(state),
    restartMinutes,
    hasManual: manualPhases.length > 0,
    manualPhases,
    hasWarnings: warnings.length > 0,
    warningCount: warnings.length,
    warnings,
    nextStep,
    stateBlock: renderStateBlock(state),
  });
  return clamp(body, renderStateBlock(state));
}

/** A flowchart of the phases, coloured by state. */
export function renderMermaid(state: UpgradeState): string {
  const lines = ['flowchart LR'];
  const nodes = state.phases.map((phase, i) => `  p${i + 1}["${i + 1}. ${phase.id}"]:::${mermaidClass(phase.status)}`);
  lines.push(...nodes);
  if (state.phases.length > 1) lines.push(`  ${state.phases.map((_, i) => `p${i + 1}`).join(' --> ')}`);
  lines.push(
    '  classDef done fill:#2da44e,stroke:#1a7f37,color:#fff',
    '  classDef review fill:#0969da,stroke:#0550ae,color:#fff',
    '  classDef waiting fill:#bf8700,stroke:#9a6700,color:#fff',
    '  classDef failed fill:#cf222e,stroke:#a40e26,color:#fff',
    '  classDef pending fill:#eaeef2,stroke:#afb8c1,color:#24292f',
  );
  return lines.join('\n');
}

function mermaidClass(status: PhaseRecord['status']): string {
  switch (status) {
    case 'passed':
    case 'done':
      return 'done';
    case 'open':
      return 'review';
    case 'merged':
      return 'waiting';
    case 'closed':
    case 'failed':
      return 'failed';
    default:
      return 'pending';
  }
}

export interface PullRequestText {
  readonly title: string;
  readonly body: string;
}

/** Title and body of a phase PR. Long change lists fold into <details> and are cut to stay under GitHub's limit. */
export function renderPullRequest(
  templates: Templates,
  state: UpgradeState,
  phase: PlannedPhase,
  index: number,
  gate: 'manual' | 'argocd',
): PullRequestText {
  const total = state.phases.length;
  const next = state.phases[index + 1];
  const rows = phase.changes.map((c) => ({ ...c, namespace: c.namespace ?? '' }));
  const shown = rows.slice(0, MAX_CHANGE_ROWS);
  const gateText =
    gate === 'argocd'
      ? 'The bot then waits until Argo CD reports that commit Synced and Healthy (and the phase\'s own resources healthy).'
      : 'A maintainer then runs the checks below and says `/upgrade continue` on the tracking issue.';
  const view = {
    title: phase.title,
    cluster: state.cluster,
    number: index + 1,
    total,
    issue: state.issue,
    fromLabel: label(state.from, state.fromVersion),
    toLabel: label(state.target, state.targetVersion),
    why: phase.why,
    changes: shown,
    changeCount: rows.length,
    fileCount: new Set(rows.map((r) => r.file)).size,
    changesFolded: rows.length > 20,
    omitted: rows.length > shown.length ? rows.length - shown.length : null,
    hasManual: phase.manual.length > 0,
    manual: phase.manual,
    hasBeforeMerge: phase.beforeMerge.length > 0,
    beforeMerge: phase.beforeMerge,
    verify: phase.verify,
    rollback: phase.rollback,
    gateText,
    next: next?.title ?? null,
    nextNumber: index + 2,
    marker: renderPhaseMarker({ issue: state.issue, cluster: state.cluster, target: state.target, phase: phase.id }),
  };
  const title = render(templates.pullRequestTitle, view).trim();
  return { title, body: clamp(render(templates.pullRequest, view), view.marker) };
}

/** A reply to one command comment (refusals, help, status), marked so it is posted once. */
export function renderReply(templates: Templates, commentId: number, text: string, issueLink: string | null = null): string {
  return render(templates.reply, { text, issueLink, marker: replyMarker(commentId) }).trim() + '\n';
}

export function renderHelp(): string {
  return `#### mesh-upgrade commands\n\n${commandHelp()}`;
}

export function describeGate(decision: GateDecision): string {
  switch (decision.status) {
    case 'pass':
      return `passed: ${decision.summary}`;
    case 'wait':
      return `waiting: ${decision.reason}`;
    case 'fail':
      return `failed: ${decision.reason}`;
  }
}

/** Keeps a body under GitHub's limit, always keeping the trailing marker. */
export function clamp(body: string, marker: string): string {
  if (body.length <= BODY_LIMIT) return body;
  const note = '\n\n… (cut to stay under GitHub\'s 65,536-character limit; see *Files changed*)\n\n';
  return body.slice(0, BODY_LIMIT - note.length - marker.length) + note + marker;
}
