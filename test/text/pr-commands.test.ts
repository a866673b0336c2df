import { beforeAll, describe, expect, it } from 'vitest';
import type { PlannedPhase } from '../../src/core/plan-types.js';
import { newPhaseRecord } from '../../src/core/state.js';
import { renderPullRequest } from '../../src/text/render.js';
import { CODE_LINE_WIDTH, splitShellLine, wrapShellLine } from '../../src/text/shell-line.js';
import { loadTemplates } from '../../src/text/templates.js';
import { upgradeState } from '../helpers/upgrade-state.js';
import { type FixturePlan, fixturePlans } from './plan-fixtures.js';

/**
 * Every command a phase PR shows (manual steps, checks before merging, checks after the sync), for
 * every fixture and its targets, runs as written. Placeholders are UPPER_CASE words (PROJECT_ID,
 * OVERLAY): the phase's text names each one, saying what to put there. `<…>` never appears in a
 * command: bash reads `<` as a redirection.
 */

const SECTIONS = ['manual', 'beforeMerge', 'verify'] as const;

interface Command {
  readonly where: string;
  readonly phase: PlannedPhase;
  /** One logical line: `\` continuations joined. */
  readonly line: string;
}

function commandsOf({ fixture, to, plan }: FixturePlan): Command[] {
  return plan.phases.flatMap((phase) =>
    SECTIONS.flatMap((section) =>
      phase[section].flatMap((entry) =>
        entry
          .replace(/\\\n\s*/g, ' ')
          .split('\n')
          .map((line) => ({ where: `${fixture} → ${to}, ${phase.id} ${section}: ${line}`, phase, line })),
      ),
    ),
  );
}

/** The words of a command outside quotes, `$(`/`)` and the list operators split off. */
function words(command: string): string[] {
  const out: string[] = [];
  let word = '';
  let quote: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      word += c;
      if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      word += c;
    } else if (/\s/.test(c) || c === ';' || c === '|' || c === '&' || c === '(' || c === ')') {
      if (word) out.push(word);
      word = '';
      if (!/\s/.test(c)) out.push(c);
    } else word += c;
  }
  if (word) out.push(word);
  return out;
}

const SEPARATORS = new Set([';', '|', '&', '(', ')', 'do', 'done', 'then', 'fi']);

/** The arguments of each `kubectl … rollout status` in a command, flags and their values dropped. */
function rolloutStatusTargets(command: string): { resources: string[]; selector: boolean }[] {
  const w = words(command);
  const found: { resources: string[]; selector: boolean }[] = [];
  for (let i = 0; i < w.length - 1; i++) {
    if (w[i] !== 'rollout' || w[i + 1] !== 'status') continue;
    const resources: string[] = [];
    let selector = false;
    for (let j = i + 2; j < w.length && !SEPARATORS.has(w[j]!); j++) {
      const arg = w[j]!;
      if (arg === '-n' || arg === '--namespace' || arg === '-l' || arg === '--selector') {
        if (arg === '-l' || arg === '--selector') selector = true;
        j++;
      } else if (arg.startsWith('--selector=')) selector = true;
      else if (!arg.startsWith('-')) resources.push(arg);
    }
    found.push({ resources, selector });
  }
  return found;
}

/** The command with quoted strings (and `<<<` here-strings, which are quoted) emptied. */
function unquoted(command: string): string {
  return command.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, "''");
}

/** Whether a `rollout status` names exactly one resource, or a type with a selector. */
function oneResource({ resources, selector }: { resources: string[]; selector: boolean }): boolean {
  const one = resources.length === 1 && /^([a-z]+(\.[a-z.]+)?\/[a-z0-9.-]+|"\$\w+")$/.test(resources[0]!);
  const bySelector = selector && resources.length === 1 && /^[a-z]+$/.test(resources[0]!);
  return one || bySelector;
}

describe('the rollout status check itself', () => {
  it.each([
    ['kubectl -n ns rollout status deploy/x --timeout=5m', true],
    ['kubectl -n ns rollout status deployment -l app=x', true],
    ['for d in a b; do kubectl -n ns rollout status "$d" --timeout=5m; done', true],
    ['kubectl rollout status deployment/a deployment/b', false],
    ['kubectl -n ns rollout status deployment,statefulset --timeout=10m', false],
    ['kubectl -n ns rollout status deployment --timeout=10m', false],
  ])('%s: %s', (command, valid) => {
    const found = rolloutStatusTargets(command);
    expect(found).toHaveLength(1);
    expect(oneResource(found[0]!)).toBe(valid);
  });
});

describe('commands in phase PRs run as written', () => {
  let commands: Command[];
  beforeAll(async () => {
    commands = (await fixturePlans()).flatMap(commandsOf);
  });

  it('covers every command of every fixture', () => {
    expect(commands.length).toBeGreaterThan(500);
    expect(commands.some((c) => c.line.includes('rollout status'))).toBe(true);
  });

  it('closes every quote it opens', () => {
    const open = commands.filter((c) => !splitShellLine(c.line).balanced);
    expect(open.map((c) => c.where)).toEqual([]);
  });

  it('gives `kubectl rollout status` exactly one resource (TYPE/NAME, or a loop variable), or a selector', () => {
    const bad: string[] = [];
    let seen = 0;
    for (const c of commands) {
      for (const target of rolloutStatusTargets(splitShellLine(c.line).command)) {
        seen++;
        if (!oneResource(target)) bad.push(c.where);
      }
    }
    expect(seen).toBeGreaterThan(50);
    expect(bad).toEqual([]);
  });

  it('has no <…> placeholder, and names every UPPER_CASE placeholder in the phase text', () => {
    const bad: string[] = [];
    for (const c of commands) {
      const { command } = splitShellLine(c.line);
      if (/<(?![<(])/.test(unquoted(command).replace(/<<</g, ''))) bad.push(`<…> in ${c.where}`);
      const text = [c.phase.why, ...SECTIONS.flatMap((s) => c.phase[s].map((l) => splitShellLine(l).comment ?? ''))].join('\n');
      for (const [, name] of unquoted(command).matchAll(/(?<![$\w{])([A-Z][A-Z0-9_]+)(?![\w=])/g)) {
        if (!new RegExp(`\\b${name}\\b`).test(text)) bad.push(`${name} unexplained in ${c.where}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('puts `# expect…` comments only at the end of a command, never before a continuation', () => {
    const bad: string[] = [];
    for (const { phase } of commands)
      for (const section of SECTIONS)
        for (const entry of phase[section])
          for (const line of entry.split('\n')) {
            const { command, comment } = splitShellLine(line);
            if (comment !== null && /\\$/.test(comment)) bad.push(line);
            if (/#\s*(expect|must)\b/.test(unquoted(command))) bad.push(line);
          }
    expect(bad).toEqual([]);
  });
});

describe('long commands keep their `# expect…` visible', () => {
  it('moves the comment of a line wider than 100 characters above the command, wrapped at spaces', () => {
    const long = `kubectl get validatingwebhookconfiguration istiod-default-validator -o jsonpath='{.webhooks[0].clientConfig.service.name}'   # istiod-1-22-1, once istiod-1-22-1 has patched it`;
    expect(wrapShellLine(long)).toBe(
      "# istiod-1-22-1, once istiod-1-22-1 has patched it\nkubectl get validatingwebhookconfiguration istiod-default-validator -o jsonpath='{.webhooks[0].clientConfig.service.name}'",
    );
    expect(wrapShellLine('istioctl tag list   # default → 1-22-1')).toBe('istioctl tag list   # default → 1-22-1');
    const comment = `# ${'word '.repeat(40).trim()}`;
    for (const line of wrapShellLine(comment).split('\n')) expect(line.length).toBeLessThanOrEqual(CODE_LINE_WIDTH);
    expect(splitShellLine(`kubectl get x -o jsonpath='{.a} # not a comment'`).comment).toBeNull();
  });

  it('in every fixture’s PR bodies, no code line wider than 100 characters ends in a comment', async () => {
    const templates = loadTemplates();
    const bad: string[] = [];
    for (const { fixture, to, plan } of await fixturePlans()) {
      const state = upgradeState({
        target: plan.to.revision,
        from: plan.from.revision,
        phases: plan.phases.map((p) => newPhaseRecord(p.id, p.title, 'pending')),
      });
      plan.phases.forEach((phase, index) => {
        const { body } = renderPullRequest(templates, state, phase, index, 'manual');
        for (const block of body.match(/```bash\n[\s\S]*?\n```/g) ?? [])
          for (const line of block.split('\n').slice(1, -1)) {
            const { command, comment } = splitShellLine(line);
            if (line.length > CODE_LINE_WIDTH && comment !== null)
              bad.push(`${fixture} → ${to} ${phase.id}: ${command === '' ? 'comment line' : 'trailing comment'}: ${line}`);
          }
      });
    }
    expect(bad).toEqual([]);
  });
});
