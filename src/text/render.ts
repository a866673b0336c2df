import Mustache from 'mustache';
import type { RepoConfig } from '../config/repo-config.js';
import { commandHelp } from '../core/command.js';
import type { GateDecision } from '../core/gate.js';
import { renderPhaseMarker, replyMarker, trailingStateBlock } from '../core/markers.js';
import type { NextMove } from '../core/next-move.js';
import type { PlannedPhase, UpgradePlan } from '../core/plan-types.js';
import { type PhaseRecord, renderStateBlock, type StateKey, type UpgradeState } from '../core/state.js';
import { actionMarker } from '../core/sticky-actions.js';
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
  merged: '🔄 merged',
  passed: '✅ passed',
  done: '✅ done',
  closed: '⏸️ closed unmerged',
  failed: '❌ failed',
};

/** A merged phase without a note: its gate has not answered yet. */
const MERGED_UNCHECKED = '🔄 merged, checking health';

const STATUS_LABELS: Record<UpgradeState['status'], string> = {
  running: 'running',
  paused: 'paused',
  completed: 'completed',
  aborted: 'aborted',
  'rolled-back': 'rolled back',
};

/**
 * Warnings that are errors in waiting: left alone, a phase breaks something or stops applying.
 * They are shown first, unfolded; the others fold.
 */
export const URGENT_WARNINGS: ReadonlySet<string> = new Set([
  'old-revision-still-referenced',
  'kpt-setter-drift',
  'patch-stops-applying',
  'patch-not-carried-over',
  'image-override-manual',
  'sidecar-patch-manual',
  'webhook-drift',
  'double-injection',
  'iop-gateways-not-migrated',
  'flux-depends-on-old-release',
  'gateway-selector-pins-revision',
]);

/**
 * Says a thing once: drops a word repeated back to back ("waiting waiting"), also across a colon
 * ("passed: passed: …", "waiting: waiting for …").
 */
export function sayOnce(text: string): string {
  let out = text;
  for (;;) {
    const next = out.replace(/(?<![\p{L}\p{N}_-])(\p{L}[\p{L}_-]*)(?::\s+|\s+)\1(?![\p{L}\p{N}_-])/giu, '$1');
    if (next === out) return out;
    out = next;
  }
}

/** The state cell of a phase: its state, then the note, the state's words not repeated. */
export function stateCell(status: PhaseRecord['status'], note: string | null): string {
  if (note === null || note.trim() === '') return status === 'merged' ? MERGED_UNCHECKED : STATE_LABELS[status];
  const label = STATE_LABELS[status];
  const word = label.replace(/^\S+\s+/, '').split(/[ ,]/)[0]!;
  // An older stored note may start with the state's own word ("passed: …"): said once.
  const rest = note.replace(new RegExp(`^${word}:\\s*`, 'i'), '');
  return sayOnce(`${label}: ${plainText(rest).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|')}`);
}

/**
 * A GitHub login as a mention; anything that is not a login (GitHub allows letters, digits and
 * single hyphens) is shown as text that mentions nobody and renders no HTML.
 */
export function mentionOf(login: string): string {
  return /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(login) ? `@${login}` : plainText(login);
}

/** Mentions of people (and `org/team`s), each once, for a comment meant to notify them. */
export function mentionsOf(logins: readonly string[]): string {
  const seen = new Set<string>();
  const unique = logins.filter((login) => !seen.has(login.toLowerCase()) && seen.add(login.toLowerCase()));
  return unique.map((login) => (/^[A-Za-z0-9-]+\/[A-Za-z0-9_.-]+$/.test(login) ? `@${login}` : mentionOf(login))).join(' ');
}

/** The target release's upgrade notes: Istio's per-minor page, or the ASM release notes. */
export function upgradeNotesOf(version: string | null): { name: string; url: string } | null {
  if (version === null) return null;
  const match = /^v?(\d+)\.(\d+)(?:\.\d+)?(-asm\b)?/.exec(version);
  if (!match) return null;
  if (match[3]) return { name: 'Anthos Service Mesh', url: 'https://cloud.google.com/service-mesh/docs/release-notes' };
  const minor = `${match[1]}.${match[2]}`;
  return { name: `Istio ${minor}`, url: `https://istio.io/latest/news/releases/${minor}.x/announcing-${minor}/upgrade-notes/` };
}

function render(template: string, view: object): string {
  // Markdown, not HTML: no escaping of &, <, > inside values.
  return Mustache.render(template, view, {}, { escape: (value: string) => String(value) });
}

/** A value shown inside a code span: no backtick to end it, and (should it be copied out) no mention or tag. */
function inCode(text: string): string {
  return plainText(text).replace(/`/g, "'");
}

function label(revision: string | null, version: string | null): string {
  if (!revision) return 'the revision the default tag serves (not named in git)';
  return version ? `\`${inCode(revision)}\` (${plainText(version)})` : `\`${inCode(revision)}\``;
}

/** What a plan adds to the comment beyond the state: warnings, manual steps, restarts, changes, the commit. */
export interface PlanView {
  readonly warnings: UpgradePlan['warnings'];
  readonly phases: ReadonlyArray<
    Pick<PlannedPhase, 'id' | 'title' | 'manual' | 'pods' | 'estimatedMinutes'> & {
      /** Objects the phase changes, and in how many files (absent in views made before this was counted). */
      readonly objects?: number;
      readonly files?: number;
    }
  >;
  /** The commit of the base branch the plan was made at. */
  readonly commit?: string | null;
  /** The base branch. */
  readonly base?: string | null;
}

export function toPlanView(plan: UpgradePlan, commit: string | null = null, base: string | null = null): PlanView {
  return {
    warnings: plan.warnings,
    phases: plan.phases.map(({ id, title, manual, pods, estimatedMinutes, changes }) => ({
      id,
      title,
      manual,
      pods,
      estimatedMinutes,
      objects: changes.length,
      files: new Set(changes.map((c) => c.file)).size,
    })),
    commit,
    base,
  };
}

const SETTLED: ReadonlySet<PhaseRecord['status']> = new Set(['passed', 'done']);

/**
 * Whether the next move is a person's: a PR to review, manual steps, a check that waits for
 * `/upgrade continue`, a pause. Argo CD's gate and the grace period wait for no one.
 */
export function isPersonsTurn(state: UpgradeState): boolean {
  if (state.status === 'paused') return true;
  if (state.status !== 'running') return false;
  const phase = state.phases.find((p) => !SETTLED.has(p.status));
  if (!phase) return false;
  if (phase.status === 'open' || phase.status === 'closed' || phase.status === 'failed') return true;
  // The manual gate's note asks for `/upgrade continue`; Argo CD's and the grace period's do not.
  return phase.status === 'merged' && (phase.note ?? '').includes('/upgrade continue');
}

/** The restarts cell: pods and the estimate while under way, the pods alone once finished. */
function restartsOf(planned: PlanView['phases'][number] | undefined, stored: number | undefined, finished: boolean): string {
  const pods = planned?.pods ?? stored ?? 0;
  if (pods <= 0) return '–';
  return finished || !planned ? `${pods} pods` : `${pods} pods, ~${planned.estimatedMinutes} min`;
}

function minutesBetween(from: string | null, to: string | null): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms / 60_000 : null;
}

/** "4 min", "2 h 5 min", "1 d 3 h". */
export function durationText(minutes: number): string {
  const m = Math.round(minutes);
  if (m < 60) return `${m} min`;
  if (m < 24 * 60) return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const h = Math.round(m / 60);
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/**
 * The sticky plan comment: the next move first, status, phase table, mermaid chart, manual steps,
 * warnings (errors in waiting first), state block. It stays under GitHub's limit: long lists end in
 * "… N more" lines; the state block is never cut.
 */
export function renderPlanComment(
  templates: Templates,
  state: UpgradeState,
  view: PlanView | null,
  nextMove: NextMove | null,
  key: StateKey,
  options: { mentions: boolean } = { mentions: true },
): string {
  const byId = new Map(view?.phases.map((p) => [p.id, p]) ?? []);
  const active = state.status === 'running' || state.status === 'paused';
  const finished = state.status === 'completed' || state.status === 'rolled-back';
  const currentIndex = active ? state.phases.findIndex((p) => !SETTLED.has(p.status)) : -1;
  // Time per phase: from the merge before it to its own merge (the state keeps merge times only).
  let lastMerge: string | null = state.startedAt;
  const phases = state.phases.map((phase, i) => {
    const planned = byId.get(phase.id);
    const took = minutesBetween(lastMerge, phase.gate.mergedAt);
    lastMerge = phase.gate.mergedAt ?? lastMerge;
    return {
      number: i + 1,
      title: plainText(phase.title),
      current: i === currentIndex,
      stateCell: stateCell(phase.status, phase.note),
      pr: phase.pr,
      restarts: restartsOf(planned, phase.pods, finished),
      took: took === null ? '–' : durationText(took),
    };
  });
  const history = (state.history ?? []).map((phase, i) => ({
    number: i + 1,
    title: plainText(phase.title),
    stateCell: stateCell(phase.status, phase.note),
    pr: phase.pr,
  }));
  const manualPhases = active
    ? (view?.phases ?? []).filter((p) => p.manual.length > 0).map((p) => ({ title: plainText(p.title), steps: p.manual.map(commandLine) }))
    : [];
  const restartMinutes = active ? (view?.phases ?? []).reduce((sum, p) => sum + (p.pods > 0 ? p.estimatedMinutes : 0), 0) : 0;
  const changes = state.phases
    .map((phase, i) => ({ phase, i, planned: byId.get(phase.id) }))
    .filter(({ planned }) => (planned?.objects ?? 0) > 0)
    .map(({ phase, i, planned }) => ({
      number: i + 1,
      title: plainText(phase.title),
      objects: planned!.objects!,
      plural: planned!.objects === 1 ? '' : 's',
      files: planned!.files ?? 0,
      filesPlural: planned!.files === 1 ? '' : 's',
    }));
  // Warnings quote names and text from the repo: shown, never rendered as mentions or HTML.
  const shownWarning = (w: UpgradePlan['warnings'][number]) => ({
    ...w,
    file: w.file === null ? null : plainText(w.file),
    message: plainText(w.message).replace(/\n/g, '\n  '),
  });
  // A finished upgrade's warnings were about the way there.
  const allWarnings = active ? (view?.warnings ?? []) : [];
  const urgent = allWarnings.filter((w) => URGENT_WARNINGS.has(w.code)).map(shownWarning);
  const warnings = allWarnings.filter((w) => !URGENT_WARNINGS.has(w.code)).map(shownWarning);
  const merges = state.phases.map((p) => p.gate.mergedAt).filter((t): t is string => t !== null);
  const merged = state.phases.filter((p) => p.pr !== null && p.gate.mergedAt !== null).length;
  const restartPods = state.phases.reduce((sum, p) => sum + (SETTLED.has(p.status) ? (byId.get(p.id)?.pods ?? p.pods ?? 0) : 0), 0);
  const began = state.startedAt ?? merges[0] ?? null;
  const total = minutesBetween(began, merges[merges.length - 1] ?? null);
  const summary = finished
    ? {
        total: total === null ? '–' : durationText(total),
        began: began?.slice(0, 16).replace('T', ' ') ?? '–',
        lastMerge: merges[merges.length - 1]?.slice(0, 16).replace('T', ' ') ?? '–',
        prCount: merged,
        prPlural: merged === 1 ? '' : 's',
        restartPods: restartPods > 0 ? restartPods : null,
      }
    : null;
  const person = nextMove ? nextMove.actor === 'person' : isPersonsTurn(state);
  const nextStep = nextMove?.text ?? null;
  const next = {
    person,
    step: active && nextStep !== null ? plainText(nextStep) : null,
    paused: state.status === 'paused' && nextStep === null,
    starting: state.status === 'running' && nextStep === null,
    completed: state.status === 'completed',
    rolledBack: state.status === 'rolled-back',
    aborted: state.status === 'aborted',
  };
  // Boxes to tick instead of typing: continue when a person is due (not while a PR is in review), abort while under way.
  const current = currentIndex >= 0 ? state.phases[currentIndex] : undefined;
  const inReview = current?.status === 'open' && current.pr !== null;
  // A dry run holds nothing to continue or abort.
  const actionable = active && !state.options.dryRun;
  const actions = actionable
    ? {
        continue: person && !inReview,
        retry: current?.status === 'failed',
        number: currentIndex + 1,
        continueMarker: actionMarker('continue'),
        abortMarker: actionMarker('abort'),
      }
    : null;
  const notes = upgradeNotesOf(state.mode === 'rollback' ? null : state.targetVersion);
  const head = view?.commit && /^[0-9a-f]{7,40}$/i.test(view.commit) ? view.commit : null;
  // The commit the upgrade was planned at; the base branch may have moved on since.
  const commit = state.plannedAt ?? head;
  const openPr = current?.status === 'open' ? current.pr : null;
  const moved =
    // The upgrade's own merges move the base branch too: not news.
    active && commit !== null && head !== null && commit !== head && view?.base && !state.phases.some((p) => p.mergeSha === head)
      ? { base: inCode(view.base), from: commit.slice(0, 7), to: head.slice(0, 7), openPr }
      : null;
  const stateBlock = renderStateBlock(state, key);
  const firstShown = Math.max(0, currentIndex);
  // The comment is created once and edited after: only an edit may mention (edits notify nobody).
  const requester = options.mentions ? mentionOf(state.requestedBy) : plainText(state.requestedBy);
  const statusLabel = state.status === 'running' && person ? `waiting for ${requester}` : STATUS_LABELS[state.status];
  const renderWith = (cap: number) => {
    // Phase rows: a window from just before the current phase; the chart only when every phase is shown.
    const rows = Math.max(cap, 10);
    const first = phases.length > rows ? Math.max(0, Math.min(firstShown - 2, phases.length - rows)) : 0;
    const shownPhases = phases.slice(first, first + rows);
    const shownManual = firstOf(manualPhases, Math.max(cap, 3));
    const shownWarnings = firstOf(warnings, cap);
    const shownUrgent = firstOf(urgent, Math.max(cap, 10));
    return render(templates.planComment, {
      heading: state.mode === 'rollback' ? 'Mesh rollback' : 'Mesh upgrade',
      cluster: inCode(state.cluster),
      fromLabel: label(state.from, state.fromVersion),
      toLabel: label(state.target, state.targetVersion),
      next,
      actions,
      actionable,
      who: requester,
      statusLabel,
      reason: state.reason === null ? null : plainText(state.reason),
      install: plainText(state.install),
      path: inCode(state.path),
      requester,
      dryRun: state.options.dryRun,
      commit,
      moved,
      notesName: notes?.name ?? null,
      notesUrl: notes?.url ?? null,
      hasUrgent: urgent.length > 0,
      urgentCount: urgent.length,
      urgent: shownUrgent.shown,
      summary,
      hasHistory: history.length > 0,
      historyCount: history.length,
      history: firstOf(history, Math.max(cap, 10)).shown,
      moreHistory: firstOf(history, Math.max(cap, 10)).more,
      earlierPhases: first > 0 ? first : null,
      phases: shownPhases,
      morePhases: phases.length > first + shownPhases.length ? phases.length - first - shownPhases.length : null,
      mermaid: shownPhases.length === phases.length ? renderMermaid(state) : '',
      restartMinutes: restartMinutes > 0 ? restartMinutes : null,
      hasChanges: active && changes.length > 0,
      changeTotal: changes.reduce((sum, c) => sum + c.objects, 0),
      phasesWithChanges: changes.length,
      changes: firstOf(changes, Math.max(cap, 10)).shown,
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
      active,
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

/** A phase title as a mermaid label: letters, digits and plain punctuation only (no quote, tag or entity). */
function mermaidLabel(text: string): string {
  const safe = text
    .replace(/[^\p{L}\p{N} .,:/()+_-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return safe.length > 64 ? `${safe.slice(0, 63)}…` : safe;
}

/** A flowchart of the phases by title, coloured by state; the current phase has a thick border. */
export function renderMermaid(state: UpgradeState): string {
  const lines = ['flowchart LR'];
  const active = state.status === 'running' || state.status === 'paused';
  const current = active ? state.phases.findIndex((p) => !SETTLED.has(p.status)) : -1;
  const nodes = state.phases.map(
    (phase, i) => `  p${i + 1}["${i + 1}. ${mermaidLabel(phase.title) || phase.id}"]:::${mermaidClass(phase.status)}`,
  );
  lines.push(...nodes);
  if (state.phases.length > 1) lines.push(`  ${state.phases.map((_, i) => `p${i + 1}`).join(' --> ')}`);
  lines.push(
    '  classDef done fill:#2da44e,stroke:#1a7f37,color:#fff',
    '  classDef review fill:#0969da,stroke:#0550ae,color:#fff',
    '  classDef waiting fill:#bf8700,stroke:#9a6700,color:#fff',
    '  classDef failed fill:#cf222e,stroke:#a40e26,color:#fff',
    '  classDef pending fill:#eaeef2,stroke:#afb8c1,color:#24292f',
  );
  if (current >= 0) lines.push(`  style p${current + 1} stroke:#24292f,stroke-width:4px`);
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

interface PullRequestText {
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
/** People a reply tells that it is their turn (mentions the bot wrote, and the hand-over's marker). */
export interface ReplyNotice {
  readonly who: string;
  readonly marker: string;
}

export function renderReply(
  templates: Templates,
  key: number | string,
  text: string,
  issueLink: string | null = null,
  notify: ReplyNotice | null = null,
): string {
  const marker = replyMarker(key);
  // Replies quote names from the repo and messages from GitHub or Argo CD: no mention, no HTML (the notice's mentions are the bot's own).
  return `${clampKeeping(render(templates.reply, { text: plainText(text), issueLink, notify, marker }).trim(), marker, BODY_LIMIT, CUT_NOTE)}\n`;
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
 * The note on a gated phase's line. The state beside it already says merged, passed or failed, so
 * the note says only what the gate found.
 */
export function gateNote(decision: GateDecision, warnings: readonly string[] = []): string {
  switch (decision.status) {
    case 'pass':
      return `${decision.summary}${warned(warnings)}`;
    case 'wait':
      return `${decision.reason}${warned(warnings)}`;
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
function clamp(body: string, marker: string): string {
  return clampKeeping(body, marker, BODY_LIMIT, "\n\n… (cut to stay under GitHub's 65,536-character limit; see *Files changed*)\n\n");
}
