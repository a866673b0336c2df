import { createTwoFilesPatch } from 'diff';
import type { UpgradePlan } from '../core/plan-types.js';
import type { FileChange, RepoSnapshot } from '../model/snapshot.js';
import type { CliWords } from '../text/cli-words.js';
import { URGENT_WARNINGS } from '../text/render.js';
import { type Style, styleFor } from './style.js';

const PLAIN = styleFor(false);

/**
 * The plan as a person reads it in a terminal: the phases with their changes and manual steps, the
 * warnings that are errors in waiting under their own heading before the others, and a summary line
 * last. Nothing is wrapped (a path stays on one line); `style` colours it on a terminal.
 */
export function formatPlan(plan: UpgradePlan, words: CliWords, style: Style = PLAIN, options: { rollback?: boolean } = {}): string {
  const lines: string[] = [];
  const unnamed = words.say(plan.direction === 'none' ? 'plan.from-nothing' : 'plan.from-unnamed');
  const from = plan.from.revision ? `${plan.from.revision}${plan.from.version ? ` (${plan.from.version})` : ''}` : unnamed;
  const to = `${plan.to.revision}${plan.to.version ? ` (${plan.to.version})` : ''}`;
  const nothing = plan.direction === 'none' && plan.phases.every((p) => p.status === 'done');
  const rollback = options.rollback === true;
  const heading = nothing
    ? words.say('plan.nothing', { to, install: plan.install })
    : words.say('plan.heading', {
        from,
        to,
        install: plan.install,
        rollback,
        upgrade: !rollback && (plan.direction === 'upgrade' || plan.direction === 'none'),
        downgrade: !rollback && plan.direction === 'downgrade',
        same: !rollback && plan.direction === 'same-version',
      });
  lines.push(style.bold(heading), '');
  const idWidth = Math.max(18, ...plan.phases.map((p) => p.id.length));
  // Already there: the phases (all done) and a restart estimate would say nothing.
  (nothing ? [] : plan.phases).forEach((phase, i) => {
    const done = phase.status === 'done';
    const status = done ? style.green(phase.status.padEnd(8)) : style.yellow(phase.status.padEnd(8));
    const estimate = style.dim(
      words.say('plan.phase-estimate', { minutes: phase.estimatedMinutes, pods: phase.pods > 0 ? phase.pods : null }),
    );
    const title = done ? style.dim(phase.title) : style.bold(phase.title);
    lines.push(`${String(i + 1).padStart(2)}. ${style.cyan(phase.id.padEnd(idWidth))} ${status} ${title}  ${estimate}`);
    for (const c of phase.changes) {
      const action = c.action === 'create' ? style.green : c.action === 'delete' ? style.red : style.yellow;
      lines.push(
        `      ${action(c.action.padEnd(6))} ${c.kind} ${c.namespace && c.kind !== 'Namespace' ? `${c.namespace}/` : ''}${c.name}  ${style.dim(`[${c.file}]`)}`,
      );
    }
    for (const step of phase.manual) lines.push(`      ${style.magenta(words.say('plan.manual'))} ${step}`);
  });
  const pending = plan.phases.filter((p) => p.status === 'pending');
  const restart = pending.reduce((sum, p) => sum + (p.pods > 0 ? p.estimatedMinutes : 0), 0);
  if (!nothing) lines.push('', words.say('plan.restart-estimate', { minutes: restart }));
  const urgent = plan.warnings.filter((w) => URGENT_WARNINGS.has(w.code));
  const others = plan.warnings.filter((w) => !URGENT_WARNINGS.has(w.code));
  const warningLine = (w: UpgradePlan['warnings'][number], mark: (text: string) => string) =>
    // A message of several lines keeps its lines, indented under the first.
    `  - ${mark(`[${w.code}]`)} ${w.message.replace(/\r?\n/g, '\n    ')}${w.file ? ` ${style.dim(`(${w.file})`)}` : ''}`;
  if (urgent.length > 0) {
    lines.push('', style.bold(style.red(words.say('plan.urgent-warnings', { count: urgent.length }))));
    for (const w of urgent) lines.push(warningLine(w, style.red));
  }
  if (others.length > 0) {
    const heading = urgent.length > 0 ? 'plan.other-warnings' : 'plan.warnings';
    lines.push('', style.bold(style.yellow(words.say(heading, { count: others.length }))));
    for (const w of others) lines.push(warningLine(w, style.yellow));
  }
  lines.push('', style.bold(summaryLine(plan, words, urgent.length)));
  return `${lines.join('\n')}\n`;
}

/** `6 phases (4 pending, 2 done) · 37 files to change · 120 pods to restart · 2 warnings (1 to fix before merging)` */
function summaryLine(plan: UpgradePlan, words: CliWords, urgent: number): string {
  const pending = plan.phases.filter((p) => p.status === 'pending');
  const files = new Set(pending.flatMap((p) => p.changes.map((c) => c.file))).size;
  const pods = pending.reduce((sum, p) => sum + Math.max(0, p.pods), 0);
  const count = plan.warnings.length;
  return words.say('plan.summary', {
    phases: plan.phases.length,
    onePhase: plan.phases.length === 1,
    pending: pending.length,
    done: plan.phases.length - pending.length,
    files,
    oneFile: files === 1,
    pods,
    onePod: pods === 1,
    warnings: count > 0,
    count,
    oneWarning: count === 1,
    urgent: urgent > 0 ? urgent : null,
  });
}

/** Unified diff of file changes against the snapshot they apply to; `style` colours its lines on a terminal. */
export function formatDiff(before: RepoSnapshot, changes: readonly FileChange[], style: Style = PLAIN): string {
  return changes
    .map((change) => {
      const old = before.get(change.path) ?? '';
      const oldName = change.action === 'create' ? '/dev/null' : `a/${change.path}`;
      const newName = change.action === 'delete' ? '/dev/null' : `b/${change.path}`;
      return createTwoFilesPatch(oldName, newName, old, change.content ?? '', undefined, undefined, { context: 3 })
        .split('\n')
        .slice(1)
        .map((line) => diffLine(line, style))
        .join('\n');
    })
    .join('');
}

function diffLine(line: string, style: Style): string {
  if (line === '') return line;
  if (line.startsWith('+++') || line.startsWith('---')) return style.bold(line);
  if (line.startsWith('@@')) return style.cyan(line);
  if (line.startsWith('+')) return style.green(line);
  if (line.startsWith('-')) return style.red(line);
  if (line.startsWith('\\')) return style.dim(line);
  return line;
}
