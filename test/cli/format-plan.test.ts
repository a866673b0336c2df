import { describe, expect, it } from 'vitest';
import { formatDiff, formatPlan } from '../../src/cli/format-plan.js';
import { styleFor } from '../../src/cli/style.js';
import { planUpgrade } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { URGENT_WARNINGS } from '../../src/text/render.js';
import { loadCliWords } from '../../src/text/templates.js';
import { loadFixture } from '../helpers/fixtures.js';

const words = loadCliWords();
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g;
const plan = async (fixture: string, to: string, options: { downgrade?: boolean } = {}) =>
  planUpgrade(await loadFixture(fixture), { to, ...options });
const lastLine = (text: string) => text.trimEnd().split('\n').at(-1)!;

describe('formatPlan', () => {
  it('colours only when asked, and says the same words either way', async () => {
    const p = await plan('rendered-kustomize-patches', '1-22-1');
    const plain = formatPlan(p, words, styleFor(false));
    const coloured = formatPlan(p, words, styleFor(true));
    expect(plain).not.toMatch(ANSI);
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe(plain);
    expect(formatPlan(p, words)).toBe(plain);
  });

  it('lists the errors in waiting first, under a heading of their own, then the other warnings', async () => {
    const p = await plan('rendered-kustomize-patches', '1-22-1');
    const urgent = p.warnings.filter((w) => URGENT_WARNINGS.has(w.code));
    const others = p.warnings.filter((w) => !URGENT_WARNINGS.has(w.code));
    expect(urgent.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    const text = formatPlan(p, words);
    const urgentAt = text.indexOf(`Fix before merging (${urgent.length})`);
    const othersAt = text.indexOf(`Other warnings (${others.length}):`);
    expect(urgentAt).toBeGreaterThan(-1);
    expect(othersAt).toBeGreaterThan(urgentAt);
    for (const w of urgent) expect(text.indexOf(`[${w.code}] ${w.message}`)).toBeGreaterThan(urgentAt);
    for (const w of urgent) expect(text.indexOf(`[${w.code}] ${w.message}`)).toBeLessThan(othersAt);
    for (const w of others) expect(text.indexOf(`[${w.code}] ${w.message.split('\n')[0]}`)).toBeGreaterThan(othersAt);
  });

  it('with no error in waiting, one plain Warnings heading; with no warning, none', async () => {
    const some = formatPlan(await plan('asmcli-kpt', 'asm-1201-1'), words);
    expect(some).toMatch(/^Warnings \(\d+\):$/m);
    expect(some).not.toContain('Fix before merging');
    const none = formatPlan(await plan('kustomize-overlays', '1-21-2'), words);
    expect(none).not.toContain('Warnings');
    expect(lastLine(none)).toMatch(/ · no warnings$/);
  });

  it('ends with a summary line: phases, files, pods to restart, warnings', async () => {
    const p = await plan('rendered-kustomize-patches', '1-22-1');
    const pending = p.phases.filter((ph) => ph.status === 'pending');
    const files = new Set(pending.flatMap((ph) => ph.changes.map((c) => c.file))).size;
    const pods = pending.reduce((sum, ph) => sum + ph.pods, 0);
    const urgent = p.warnings.filter((w) => URGENT_WARNINGS.has(w.code)).length;
    expect(lastLine(formatPlan(p, words))).toBe(
      `${p.phases.length} phases (${pending.length} pending, ${p.phases.length - pending.length} done) · ${files} files to change · ${pods} pods to restart · ${p.warnings.length} warnings (${urgent} to fix before merging)`,
    );
  });

  it('says one of each in the singular', async () => {
    const p = await plan('asm-manifests', 'asm-1140-0');
    const phase = { ...p.phases[0]!, status: 'pending' as const, pods: 1, changes: p.phases[4]!.changes.slice(0, 1) };
    const one: UpgradePlan = { ...p, phases: [phase], warnings: p.warnings.slice(0, 1) };
    expect(lastLine(formatPlan(one, words))).toBe('1 phase (1 pending, 0 done) · 1 file to change · 1 pod to restart · 1 warning');
  });

  it('never breaks a path across lines, however long', async () => {
    const p = await plan('asm-manifests', 'asm-1140-0');
    const long = `clusters/${'very-long-directory-name/'.repeat(12)}istiod.yaml`;
    const phase = p.phases[4]!;
    const changed: UpgradePlan = {
      ...p,
      phases: [{ ...phase, changes: phase.changes.map((c) => ({ ...c, file: long })) }],
      warnings: [{ code: 'pods-opted-out', message: 'a long message '.repeat(20).trim(), file: long }],
    };
    for (const colour of [false, true]) {
      const lines = formatPlan(changed, words, styleFor(colour)).replace(ANSI, '').split('\n');
      expect(lines.filter((l) => l.includes(`[${long}]`))).toHaveLength(phase.changes.length);
      expect(lines.filter((l) => l.includes(`(${long})`))).toHaveLength(1);
    }
  });
});

describe('formatDiff', () => {
  it('colours added and removed lines only when asked', async () => {
    const snapshot = new Map([['a.yaml', 'x: 1\n']]);
    const changes = [{ path: 'a.yaml', action: 'update' as const, content: 'x: 2\n' }];
    const plain = formatDiff(snapshot, changes);
    expect(plain).toContain('-x: 1\n+x: 2');
    expect(plain).not.toMatch(ANSI);
    const coloured = formatDiff(snapshot, changes, styleFor(true));
    expect(coloured).toContain('\u001b[31m-x: 1\u001b[39m');
    expect(coloured).toContain('\u001b[32m+x: 2\u001b[39m');
    expect(coloured.replace(ANSI, '')).toBe(plain);
  });

  it('heads a downgrade or a rollback as such, and says when there is nothing to change', async () => {
    const down = formatPlan(await plan('kustomize-overlays', '1-19-5', { downgrade: true }), words);
    expect(down.split('\n')[0]).toMatch(/^Downgrade 1-20-3 .*→ 1-19-5/);
    expect(formatPlan(await plan('kustomize-overlays', '1-21-2'), words, undefined, { rollback: true }).split('\n')[0]).toMatch(
      /^Roll back /,
    );
    const there = formatPlan(await plan('kustomize-overlays', '1-20-3'), words);
    expect(there.split('\n')[0]).toBe(
      'Nothing to change: the repo already runs 1-20-3 (1.20.3) only (every phase is done); control plane installed as: istio-operator',
    );
    expect(there).not.toMatch(/^ \d\. /m);
  });
});
