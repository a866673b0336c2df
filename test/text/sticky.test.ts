import { JSDOM } from 'jsdom';
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NextMove } from '../../src/core/next-move.js';
import { planUpgrade } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { deriveStateKey, newPhaseRecord, type PhaseRecord, parseStateBlock, type UpgradeState } from '../../src/core/state.js';
import { renderPlanComment, sayOnce, stateCell, toPlanView } from '../../src/text/render.js';
import { loadTemplates } from '../../src/text/templates.js';
import { loadFixture } from '../helpers/fixtures.js';
import { upgradeState } from '../helpers/upgrade-state.js';

/**
 * The sticky comment in every state an upgrade can be in, rendered as GitHub renders it
 * (GitHub-flavoured Markdown, its mermaid charts parsed by mermaid), and read as a person would.
 */

const key = deriveStateKey('test-secret');
const templates = loadTemplates();
const say = templates.messages.say;
const COMMIT = '3f2c1a9b8e7d6c5b4a3928171615141312111009';
const HOSTILE = '<img src=x onerror=alert(1)> @everyone';

let plan: UpgradePlan;
// mermaid needs a DOM to load; GitHub runs it in the browser.
let mermaid: { parse(text: string): Promise<unknown> };

beforeAll(async () => {
  plan = planUpgrade(await loadFixture('asm-manifests'), { to: 'asm-1140-0' });
  const { window } = new JSDOM('<!doctype html><html><body></body></html>');
  Object.assign(globalThis, { window, document: window.document });
  mermaid = (await import('mermaid')).default;
}, 60_000);

const at = (minute: number) => new Date(Date.UTC(2026, 10, 22, 9, minute)).toISOString();

function phasesWith(statuses: ReadonlyArray<Partial<PhaseRecord>>): PhaseRecord[] {
  return plan.phases.map((p, i) => {
    const record = newPhaseRecord(p.id, p.title, 'pending');
    const over = statuses[i] ?? {};
    return { ...record, ...over, gate: { ...record.gate, ...(over.gate ?? {}) } };
  });
}

const passed = (i: number): Partial<PhaseRecord> => ({
  status: 'passed',
  pr: 10 + i,
  note: 'a maintainer confirmed the phase with /upgrade continue',
  gate: { mergedAt: at(i * 25), healthySince: null, wasHealthy: true },
});

interface Scenario {
  readonly name: string;
  readonly state: UpgradeState;
  readonly next: NextMove | null;
  /** What the Next line says. */
  readonly says: RegExp;
}

function scenarios(): Scenario[] {
  const manualWait = say('next.check-and-continue', { number: 2, pr: '11' });
  return [
    {
      name: 'running',
      state: upgradeState({
        phases: phasesWith([
          passed(0),
          {
            status: 'merged',
            pr: 11,
            note: 'sync status OutOfSync (1/3 checks)',
            gate: { mergedAt: at(25), healthySince: null, wasHealthy: false },
          },
        ]),
      }),
      next: { actor: 'bot', text: say('next.wait-for-argocd', { pr: '11' }) },
      says: /^Next: waiting for Argo CD to report the merge commit of #11/,
    },
    {
      name: 'waiting-for-a-person',
      state: upgradeState({
        phases: phasesWith([
          // A note as older versions stored it: the state's word twice.
          { ...passed(0), note: 'passed: passed: a maintainer confirmed the phase with /upgrade continue' },
          {
            status: 'merged',
            pr: 11,
            note: 'waiting: waiting for a maintainer to check the phase and say `/upgrade continue`',
            gate: { mergedAt: at(25), healthySince: null, wasHealthy: false },
          },
        ]),
      }),
      next: { actor: 'person', text: manualWait, handover: 'check:gateways:11' },
      says: /^Next: @alice — check phase 2 with the commands in #11, then say \/upgrade continue\.$/,
    },
    {
      name: 'paused',
      state: upgradeState({
        status: 'paused',
        reason: say('reason.closed-unmerged', { number: 2, id: 'gateways' }),
        phases: phasesWith([passed(0), { status: 'closed', pr: 11, note: say('note.closed-unmerged') }]),
      }),
      next: { actor: 'person', text: say('next.reopen', { pr: '11' }), handover: 'reopen:gateways:11' },
      says: /^Next: @alice — reopen and merge #11/,
    },
    {
      name: 'failed',
      state: upgradeState({
        status: 'paused',
        reason: 'Degraded after having been healthy',
        phases: phasesWith([
          passed(0),
          {
            status: 'failed',
            pr: 11,
            note: 'Degraded after having been healthy',
            gate: { mergedAt: at(25), healthySince: null, wasHealthy: true },
          },
        ]),
      }),
      next: { actor: 'person', text: say('next.fix-cluster'), handover: 'gate-failed:gateways:11' },
      says: /^Next: @alice — fix the cluster and say \/upgrade continue/,
    },
    {
      name: 'completed',
      state: upgradeState({ status: 'completed', phases: phasesWith(plan.phases.map((_, i) => passed(i))) }),
      next: null,
      says: /^Next: nothing: the upgrade is complete\.$/,
    },
    {
      name: 'rolled-back',
      state: upgradeState({
        status: 'rolled-back',
        mode: 'rollback',
        target: 'asm-1130-0',
        targetVersion: '1.13.0-asm.0',
        from: 'asm-1140-0',
        fromVersion: '1.14.0-asm.0',
        reason: null,
        history: phasesWith([passed(0), passed(1), { status: 'closed', pr: 12, note: say('note.closed-by-rollback') }]),
        phases: [
          {
            ...newPhaseRecord('rollback-gateways', 'Move gateways back to asm-1130-0', 'pending'),
            ...passed(3),
          },
          { ...newPhaseRecord('rollback-control-plane', 'Remove control plane asm-1140-0', 'pending'), ...passed(4) },
        ],
      }),
      next: null,
      says: /^Next: nothing: the rollback is complete\.$/,
    },
  ];
}

function html(markdown: string): string {
  // Raw HTML passes through here (GitHub keeps <details>, <sub> and the like): what is left is ours.
  return micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
}

const withoutStateBlock = (body: string) => body.replace(/<!-- mesh-upgrade-state:[\s\S]*?-->\s*$/, '<!-- state -->\n');

/** A word said twice in a row ("running running"), or a prefix repeated ("waiting: waiting"). */
function repeatedWord(text: string): string | null {
  const match = /(?<![\p{L}\p{N}_-])(\p{L}[\p{L}_-]*)(?::\s+|\s+)\1(?![\p{L}\p{N}_-])/iu.exec(text);
  return match ? match[0] : null;
}

describe('the sticky comment in every state', () => {
  it.each(['running', 'waiting-for-a-person', 'paused', 'failed', 'completed', 'rolled-back'])('%s', async (name) => {
    const scenario = scenarios().find((s) => s.name === name)!;
    const body = renderPlanComment(templates, scenario.state, toPlanView(plan, COMMIT), scenario.next, key);
    expect(parseStateBlock(body, key)).toEqual({ kind: 'state', state: scenario.state });
    await expect(withoutStateBlock(body)).toMatchFileSnapshot(`__snapshots__/sticky-${name}.md`);

    const doc = new JSDOM(html(body)).window.document;
    // The title, then who must do what.
    const first = doc.body.firstElementChild!;
    expect(first.tagName).toBe('H3');
    const next = first.nextElementSibling!;
    expect(next.tagName).toBe('P');
    expect(next.textContent).toMatch(scenario.says);

    // Every state cell says what is true, once.
    const tables = [...doc.querySelectorAll('table')].filter((t) => t.querySelector('th')?.textContent === '#');
    const table = tables.find((t) => t.querySelector('th:nth-child(5)')?.textContent === 'restarts')!;
    const cells = tables.flatMap((t) => [...t.querySelectorAll('tbody tr')].map((row) => row.querySelectorAll('td')[2]!.textContent ?? ''));
    expect(cells.length).toBeGreaterThan(0);
    for (const cell of cells) expect(repeatedWord(cell), cell).toBeNull();
    expect(repeatedWord(next.textContent ?? '')).toBeNull();

    // The chart parses, with titles as labels.
    const charts = [...body.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
    expect(charts).toHaveLength(1);
    await expect(mermaid.parse(charts[0]!)).resolves.toBeTruthy();
    expect(charts[0]).toContain(`p1["1. ${scenario.state.phases[0]!.title}"]`);

    const status = [...doc.querySelectorAll('p')].find((p) => p.textContent?.startsWith('Status:'))!.textContent!;
    const active = scenario.state.status === 'running' || scenario.state.status === 'paused';
    const footer = doc.querySelectorAll('sub');
    const commands = footer[footer.length - 1]!.textContent!;
    if (active) {
      expect(commands).toContain('/upgrade continue');
    } else {
      expect(commands).not.toMatch(/continue|abort/);
      expect(body).not.toContain('about **0 min**');
      expect(body).toMatch(/\*\*(Completed|Rolled back)\*\* in /);
      expect(table.querySelector('th:nth-child(6)')?.textContent).toBe('took');
    }
    if (name === 'waiting-for-a-person') expect(status).toBe('Status: waiting for @alice');
    if (name === 'running') expect(status).toBe('Status: running');
  });

  it('offers boxes to tick as GitHub renders task lists: continue when a person is due, abort while under way', () => {
    const view = toPlanView(plan, COMMIT);
    const boxesOf = (scenario: Scenario) => {
      const doc = new JSDOM(html(renderPlanComment(templates, scenario.state, view, scenario.next, key))).window.document;
      return [...doc.querySelectorAll('li')].filter((li) => li.querySelector('input[type=checkbox]')).map((li) => li.textContent!.trim());
    };
    const byName = new Map(scenarios().map((s) => [s.name, s]));
    expect(boxesOf(byName.get('waiting-for-a-person')!)).toEqual([
      'Continue: done what the Next line asks',
      'Abort: close the open phase PR; merged phases stay',
    ]);
    expect(boxesOf(byName.get('failed')!)[0]).toBe('Retry the check of phase 2');
    expect(boxesOf(byName.get('running')!)).toEqual(['Abort: close the open phase PR; merged phases stay']);
    expect(boxesOf(byName.get('completed')!)).toEqual([]);
  });

  it('a person is due: the header waits for them; Argo CD is due: it runs', () => {
    const [running, waiting] = scenarios();
    const view = toPlanView(plan, COMMIT);
    expect(renderPlanComment(templates, waiting!.state, view, waiting!.next, key)).toContain('**Status: waiting for @alice**');
    expect(renderPlanComment(templates, running!.state, view, running!.next, key)).toContain('**Status: running**');
  });

  it('the comment as first posted mentions nobody (only edits, which notify nobody, name @alice)', () => {
    const [, waiting] = scenarios();
    const created = renderPlanComment(templates, waiting!.state, toPlanView(plan, COMMIT), waiting!.next, key, { mentions: false });
    expect(created).not.toMatch(/@alice/);
    expect(created).toContain('**Status: waiting for alice**');
  });

  it('the manual gate says it waits for a maintainer, not that it checks health', () => {
    const cell = stateCell('merged', 'waiting for a maintainer to check the phase and say `/upgrade continue`');
    expect(cell).toBe('🔄 merged: waiting for a maintainer to check the phase and say `/upgrade continue`');
    expect(stateCell('passed', 'passed: passed: a maintainer confirmed')).toBe('✅ passed: a maintainer confirmed');
    expect(stateCell('merged', null)).toBe('🔄 merged, checking health');
    expect(sayOnce('sync sync status')).toBe('sync status');
    expect(sayOnce('1 1 checks')).toBe('1 1 checks');
  });

  it('a finished upgrade read back without a plan still says what it restarted', () => {
    const scenario = scenarios().find((s) => s.name === 'completed')!;
    const state = { ...scenario.state, phases: scenario.state.phases.map((p, i) => (i === 1 ? { ...p, pods: 3 } : p)) };
    const body = renderPlanComment(templates, state, null, null, key);
    expect(body).toMatch(/\| 2 \| Move gateways to asm-1140-0 \| .* \| #11 \| 3 pods \| 25 min \|/);
    expect(body).toContain('3 pods restarted');
  });

  it('a rollback keeps the upgrade it undoes: its merged PRs stay listed, the rollback phases below', () => {
    const scenario = scenarios().find((s) => s.name === 'rolled-back')!;
    const body = renderPlanComment(templates, scenario.state, null, null, key);
    const history = body.indexOf('**The upgrade before the rollback:**');
    expect(history).toBeGreaterThan(0);
    expect(body.indexOf('| 1 | Move gateways back to asm-1130-0 |')).toBeGreaterThan(history);
    expect(body).toMatch(/\| 2 \| Move gateways to asm-1140-0 \| ✅ passed: .* \| #11 \|/);
  });

  it('links the commit the plan was made at and the target release’s upgrade notes', () => {
    const scenario = scenarios()[0]!;
    const body = renderPlanComment(templates, scenario.state, toPlanView(plan, COMMIT), scenario.next, key);
    expect(body).toContain(`planned at ${COMMIT}`);
    expect(body).toContain('[Anthos Service Mesh upgrade notes](https://cloud.google.com/service-mesh/docs/release-notes)');
    const istio = renderPlanComment(templates, { ...scenario.state, targetVersion: '1.22.3' }, null, scenario.next, key);
    expect(istio).toContain('(https://istio.io/latest/news/releases/1.22.x/announcing-1.22/upgrade-notes/)');
    expect(body).toMatch(/<summary>Change summary: \d+ objects in \d+ phases<\/summary>/);
  });

  it('errors in waiting come first and unfolded; the other warnings fold', () => {
    const scenario = scenarios()[1]!;
    const view = {
      ...toPlanView(plan, COMMIT),
      warnings: [
        { code: 'pods-opted-out', message: 'a pod opted out', file: null },
        { code: 'kpt-setter-drift', message: 'the kpt setter says asm-1130-0', file: 'Kptfile' },
      ],
    };
    const body = renderPlanComment(templates, scenario.state, view, scenario.next, key);
    const urgent = body.indexOf('`kpt-setter-drift`');
    expect(urgent).toBeGreaterThan(0);
    expect(urgent).toBeLessThan(body.indexOf('| # | phase |'));
    expect(body).toContain('<details><summary>Other preflight warnings (1)</summary>');
    expect(body.indexOf('`pods-opted-out`')).toBeGreaterThan(body.indexOf('Other preflight warnings'));
  });

  it('renders no HTML and mentions no one from user input', async () => {
    const scenario = scenarios()[1]!;
    const state: UpgradeState = {
      ...scenario.state,
      cluster: HOSTILE,
      path: HOSTILE,
      requestedBy: HOSTILE,
      reason: HOSTILE,
      phases: scenario.state.phases.map((p, i) => (i === 1 ? { ...p, title: HOSTILE, note: HOSTILE } : p)),
    };
    const view = { ...toPlanView(plan, HOSTILE), warnings: [{ code: 'custom', message: HOSTILE, file: HOSTILE }] };
    for (const next of [HOSTILE, null]) {
      const out = html(renderPlanComment(templates, state, view, next, key));
      const doc = new JSDOM(out).window.document;
      expect(doc.querySelectorAll('img, script, iframe')).toHaveLength(0);
      expect(out).not.toMatch(/<img/i);
      expect(doc.body.textContent).not.toMatch(/@everyone/);
      expect(out).not.toMatch(/@everyone/);
      const chart = /```mermaid\n([\s\S]*?)\n```/.exec(renderPlanComment(templates, state, view, next, key))![1]!;
      expect(chart).not.toMatch(/[<>"]\s*img|onerror=|@everyone/);
      await expect(mermaid.parse(chart)).resolves.toBeTruthy();
    }
  });
});

describe('the commit the plan was made at', () => {
  const key = deriveStateKey('test-secret');
  const templates = loadTemplates();
  const planned = 'a'.repeat(40);
  const head = 'b'.repeat(40);
  const review: NextMove = { actor: 'person', text: 'review and merge #11.', handover: 'review:gateways:11' };
  const phases = [
    { ...newPhaseRecord('control-plane', 'Install control plane', 'pending'), status: 'passed' as const, pr: 10 },
    { ...newPhaseRecord('gateways', 'Move gateways', 'pending'), status: 'open' as const, pr: 11 },
  ];

  it('is shown as planned, and a base branch that moved since is said, with what to do about the open PR', () => {
    const state = upgradeState({ plannedAt: planned, phases });
    const moved = renderPlanComment(templates, state, { warnings: [], phases: [], commit: head, base: 'main' }, review, key);
    expect(moved).toContain(`planned at ${planned}`);
    expect(moved).toContain('> `main` moved since the plan was made (aaaaaaa → bbbbbbb).');
    expect(moved).toContain('#11 was generated before them: if it no longer merges cleanly, close it and say `/upgrade continue`');
    const same = renderPlanComment(templates, state, { warnings: [], phases: [], commit: planned, base: 'main' }, review, key);
    expect(same).not.toContain('moved since the plan');
    const done = renderPlanComment(
      templates,
      { ...state, status: 'completed' },
      { warnings: [], phases: [], commit: head, base: 'main' },
      null,
      key,
    );
    expect(done).not.toContain('moved since the plan');
  });
});
