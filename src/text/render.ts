import Mustache from 'mustache';
import type { RepoConfig } from '../config/repo-config.js';
import { commandHelp } from '../core/command.js';
import type { GateDecision } from '../core/gate.js';
import { renderPhaseMarker, replyMarker, trailingStateBlock } from '../core/markers.js';
import type { PlannedPhase, UpgradePlan } from '../core/plan-types.js';
import { type PhaseRecord, renderStateBlock, type StateKey, type UpgradeState } from '../core/state.js';
import { codeLine, plainText } from '../core/user-text.js';
import { appendSections, clampKeeping, firstOf, fitWithCaps } from './comment-size.js';
import type { Messages } from './messages.js';
import { wrapShellLine } from './shell-line.js';
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
  'rolled-back': 'rolled back',
};

function render(template: string, view: object): string {
  // Markdown, not HTML: no escaping of &, <, > inside values.
  return Mustache.render(template, view, {}, { escape: (value: string) => String(value) });
}

function label(revision: string | null, version: string | null): string {
  if (!revision) return 'the revision the default tag serves (not named in git)';
  return version ? `\`${revision}\` (${version})` : `\`${revision}\``;
}

/** What a plan adds to the comment beyond the state: warnings, manual steps, restarts. */
export interface PlanView {
  readonly warnings: UpgradePlan['warnings'];
  readonly phases: ReadonlyArray<Pick<PlannedPhase, 'id' | 'title' | 'manual' | 'pods' | 'estimatedMinutes'>>;
}

export function toPlanView(plan: UpgradePlan): PlanView {
  return {
    warnings: plan.warnings,
    phases: plan.phases.map(({ id, title, manual, pods, estimatedMinutes }) => ({ id, title, manual, pods, estimatedMinutes })),
  };
}

/**
 * The sticky plan comment: status, phase table, mermaid chart, manual steps, warnings, state block.
 * It stays under GitHub's limit: long lists end in "… N more" lines; the state block is never cut.
 */
export function renderPlanComment(
  templates: Templates,
  state: UpgradeState,
  view: PlanView | null,
  nextStep: string | null,
  key: StateKey,
): string {
  const byId = new Map(view?.phases.map((p) => [p.id, p]) ?? []);
  const phases = state.phases.map((phase, i) => {
    const planned = byId.get(phase.id);
    return {
      number: i + 1,
      title: plainText(phase.title),
      stateLabel: STATE_LABELS[phase.status],
      note: phase.note === null ? null : plainText(phase.note),
      pr: phase.pr,
      restarts: planned && planned.pods > 0 ? `${planned.pods} pods, ~${planned.estimatedMinutes} min` : '–',
    };
  });
  const manualPhases = (view?.phases ?? [])
    .filter((p) => p.manual.length > 0)
    .map((p) => ({ title: plainText(p.title), steps: p.manual.map(codeLine) }));
  const restartMinutes = (view?.phases ?? []).reduce((sum, p) => sum + (p.pods > 0 ? p.estimatedMinutes : 0), 0);
  // Warnings quote names and text from the repo: shown, never rendered as mentions or HTML.
  const warnings = (view?.warnings ?? []).map((w) => ({
    ...w,
    file: w.file === null ? null : plainText(w.file),
    message: plainText(w.message).replace(/\n/g, '\n  '),
  }));
  const stateBlock = renderStateBlock(state, key);
  const current = Math.max(
    0,
    state.phases.findIndex((p) => p.status !== 'passed' && p.status !== 'done'),
  );
  const renderWith = (cap: number) => {
    // Phase rows: a window from just before the current phase; the chart only when every phase is shown.
    const rows = Math.max(cap, 10);
    const first = phases.length > rows ? Math.max(0, Math.min(current - 2, phases.length - rows)) : 0;
    const shownPhases = phases.slice(first, first + rows);
    const shownManual = firstOf(manualPhases, Math.max(cap, 3));
    const shownWarnings = firstOf(warnings, cap);
    return render(templates.planComment, {
      heading: state.mode === 'rollback' ? 'Mesh rollback' : 'Mesh upgrade',
      cluster: state.cluster,
      fromLabel: label(state.from, state.fromVersion),
      toLabel: label(state.target, state.targetVersion),
      statusLabel: STATUS_LABELS[state.status],
      reason: state.reason === null ? null : plainText(state.reason),
      install: state.install,
      path: state.path,
      requestedBy: state.requestedBy,
      dryRun: state.options.dryRun,
      earlierPhases: first > 0 ? first : null,
      phases: shownPhases,
      morePhases: phases.length > first + shownPhases.length ? phases.length - first - shownPhases.length : null,
      mermaid: shownPhases.length === phases.length ? renderMermaid(state) : '',
      restartMinutes,
      hasManual: manualPhases.length > 0,
      manualPhases: shownManual.shown.map((p) => {
        const steps = firstOf(p.steps, cap);
        return { title: p.title, steps: steps.shown, moreSteps: steps.more };
      }),
      moreManualPhases: shownManual.more,
      hasWarnings: warnings.length > 0,
      warningCount: warnings.length,
      warnings: shownWarnings.shown,
      moreWarnings: shownWarnings.more,
      nextStep: nextStep === null ? null : plainText(nextStep),
      stateBlock,
    });
  };
  return fitWithCaps(renderWith, stateBlock, BODY_LIMIT, CUT_NOTE);
}

const CUT_NOTE = "\n\n… (cut to stay under GitHub's 65,536-character limit)\n\n";

/** A table of unhealthy resources for a gate-failure comment: at most `max` rows, then "… N more". */
export function renderResourceTable(
  resources: ReadonlyArray<{ kind: string; namespace?: string | null; name: string; message: string }>,
  max = 50,
): string {
  if (resources.length === 0) return '';
  const cell = (text: string) => plainText(text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|'));
  const { shown, more } = firstOf(resources, max);
  const rows = shown.map((r) => `| ${cell(r.kind)} | ${cell(r.namespace ?? '')} | ${cell(r.name)} | ${cell(r.message)} |`);
  if (more) rows.push(`| … | | ${more} more | |`);
  return `\n\n| kind | namespace | name | health |\n| --- | --- | --- | --- |\n${rows.join('\n')}`;
}

/**
 * A dry run's plan comment followed by the would-be PR bodies (`<details>` sections), within GitHub's
 * limit: whole sections while they fit, then a line naming how many are left out; the state block last.
 */
export function withDryRunBodies(planComment: string, details: string): string {
  const stateBlock = trailingStateBlock(planComment);
  const sections = details.split(/\n\n(?=<details><summary>Would open: )/).filter((s) => s.trim() !== '');
  return appendSections(
    planComment,
    stateBlock,
    sections,
    BODY_LIMIT,
    (n) =>
      `… ${n} more would-be pull request${n === 1 ? '' : 's'} not shown: too long for one comment (the phase table above lists every phase).`,
  );
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
  gate: RepoConfig['gate'],
): PullRequestText {
  const total = state.phases.length;
  const next = state.phases[index + 1];
  const rows = phase.changes.map((c) => ({ ...c, namespace: c.namespace ?? '' }));
  const shown = rows.slice(0, MAX_CHANGE_ROWS);
  const view = {
    title: plainText(phase.title),
    cluster: state.cluster,
    number: index + 1,
    total,
    issue: state.issue,
    fromLabel: label(state.from, state.fromVersion),
    toLabel: label(state.target, state.targetVersion),
    why: plainText(phase.why),
    changes: shown,
    changeCount: rows.length,
    hasChanges: rows.length > 0,
    staleComments: staleComments(phase, state.from).map((s) => ({
      file: plainText(s.file),
      lines: `${s.lines.length > 1 ? 'lines' : 'line'} ${s.lines.join(', ')}`,
    })),
    oldRevision: state.from,
    fileCount: new Set(rows.map((r) => r.file)).size,
    changesFolded: rows.length > 20,
    omitted: rows.length > shown.length ? rows.length - shown.length : null,
    hasManual: phase.manual.length > 0,
    manual: phase.manual.map(commandLine),
    hasBeforeMerge: phase.beforeMerge.length > 0,
    beforeMerge: phase.beforeMerge.map(commandLine),
    verify: phase.verify.map(commandLine),
    rollback: phase.rollback.map(plainText),
    argocdGate: gate === 'argocd',
    next: next?.title ?? null,
    nextNumber: index + 2,
    marker: renderPhaseMarker({ issue: state.issue, cluster: state.cluster, target: state.target, phase: phase.id }),
  };
  const title = render(templates.pullRequestTitle, view).trim();
  return { title, body: clamp(render(templates.pullRequest, view), view.marker) };
}

/** Lines of a file whose comment names the old revision. */
export interface StaleComment {
  readonly file: string;
  readonly lines: readonly number[];
}

/**
 * Comments the phase leaves naming the old revision (`# Control plane for revision X`) in the files
 * it writes: the writer changes values, and rewrites whole-line comments only in the copies it
 * makes. A comment counts when its line's own YAML does not name the old revision (`- name: X   # istiod X`
 * is still right). Not for revision `default`, a word comments use for other things.
 */
export function staleComments(phase: Pick<PlannedPhase, 'files'>, oldRevision: string | null): StaleComment[] {
  if (oldRevision === null || oldRevision === 'default') return [];
  const names = new RegExp(`(^|[^A-Za-z0-9])${oldRevision.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9])`);
  const stale: StaleComment[] = [];
  for (const file of phase.files) {
    if (file.content === null || !/\.ya?ml$/.test(file.path)) continue;
    const lines: number[] = [];
    file.content.split('\n').forEach((line, i) => {
      const at = line.search(/(^|\s)#/);
      if (at === -1) return;
      if (names.test(line.slice(at)) && !names.test(line.slice(0, at))) lines.push(i + 1);
    });
    if (lines.length > 0) stale.push({ file: file.path, lines });
  }
  return stale;
}

/** A command of a PR body's code block: fences defused, a long line's `# expect…` moved above it. */
function commandLine(line: string): string {
  return wrapShellLine(codeLine(line));
}

/** A reply to one command comment (refusals, help, status), marked so it is posted once. */
export function renderReply(templates: Templates, commentId: number, text: string, issueLink: string | null = null): string {
  const marker = replyMarker(commentId);
  // Replies quote names from the repo and messages from GitHub or Argo CD: no mention, no HTML.
  return `${clampKeeping(render(templates.reply, { text: plainText(text), issueLink, marker }).trim(), marker, BODY_LIMIT, CUT_NOTE)}\n`;
}

export function renderHelp(messages: Messages): string {
  return messages.say('reply.help', { commands: commandHelp() });
}

export function describeGate(decision: GateDecision, warnings: readonly string[] = []): string {
  switch (decision.status) {
    case 'pass':
      return `passed: ${decision.summary}${warned(warnings)}`;
    case 'wait':
      return `waiting: ${decision.reason}${warned(warnings)}`;
    case 'fail':
      return `failed: ${decision.reason}${warned(warnings)}`;
  }
}

/**
 * The note on a gated phase's line. The state beside it already says passed or failed, so only a
 * wait says what it is.
 */
export function gateNote(decision: GateDecision, warnings: readonly string[] = []): string {
  switch (decision.status) {
    case 'pass':
      return `${decision.summary}${warned(warnings)}`;
    case 'wait':
      return describeGate(decision, warnings);
    case 'fail':
      return `${decision.reason}${warned(warnings)}`;
  }
}

function warned(warnings: readonly string[]): string {
  // A few, each short: the phase line is one table cell.
  const shown = warnings.slice(0, 3).map((w) => (w.length > 200 ? `${w.slice(0, 199)}…` : w));
  const more = warnings.length > shown.length ? `; and ${warnings.length - shown.length} more` : '';
  return shown.length > 0 ? ` ⚠ ${shown.join('; ')}${more}` : '';
}

/** Keeps a comment under GitHub's limit, always keeping the hidden marker that ends it. */
export function fitComment(body: string, marker: string): string {
  return clampKeeping(body, marker, BODY_LIMIT, CUT_NOTE);
}

/** Keeps a PR body under GitHub's limit, always keeping the trailing marker. */
export function clamp(body: string, marker: string): string {
  return clampKeeping(body, marker, BODY_LIMIT, "\n\n… (cut to stay under GitHub's 65,536-character limit; see *Files changed*)\n\n");
}
