import { describe, expect, it } from 'vitest';
import type { GateOutcome } from '../../src/core/gate.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { newPhaseRecord, type PhaseRecord, type UpgradeState } from '../../src/core/state.js';
import { loadTemplates } from '../../src/text/templates.js';
import { beginWalk, type PullRequestFacts, step, type Walk, type WalkAction, type WalkObservation } from '../../src/workflow/walk.js';
import { upgradeState } from '../helpers/upgrade-state.js';

const messages = loadTemplates().messages;
const NOW = new Date('2026-11-22T10:00:00Z');
const context = { messages, graceHours: 24, headSha: 'f'.repeat(40), base: 'main' };

type PlannedSpec = { id: string; status?: 'pending' | 'done'; files?: number; manualResult?: 'repo' | 'cluster'; blockedBy?: string[] };

/** Just what the walk reads of a plan. */
function plan(phases: PlannedSpec[], options: { revisions?: string[]; install?: string } = {}): UpgradePlan {
  return {
    install: options.install ?? 'istio-operator',
    inventory: { revisions: (options.revisions ?? ['asm-1130-0', 'asm-1140-0']).map((name) => ({ name })) },
    phases: phases.map((p) => ({
      id: p.id,
      title: `Phase ${p.id}`,
      status: p.status ?? 'pending',
      files: Array.from({ length: p.files ?? 1 }, (_, i) => ({ path: `f${i}.yaml`, action: 'update', content: '' })),
      manualResult: p.manualResult ?? 'cluster',
      blockedBy: p.blockedBy ?? [],
    })),
  } as unknown as UpgradePlan;
}

function phase(id: string, over: Partial<PhaseRecord> = {}): PhaseRecord {
  return { ...newPhaseRecord(id, `Phase ${id}`, 'pending'), ...over };
}

const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];
const fullPlan = (over: Record<string, Partial<PlannedSpec>> = {}) => plan(PHASES.map((id) => ({ id, ...over[id] })));

function state(phases: PhaseRecord[], over: Partial<UpgradeState> = {}): UpgradeState {
  return upgradeState({ phases, ...over });
}

const pr = (number: number, over: Partial<PullRequestFacts> = {}): PullRequestFacts => ({
  number,
  state: 'open',
  merged: false,
  mergeSha: null,
  mergedAt: null,
  headRef: `b${number}`,
  ...over,
});
const merged = (number: number) =>
  pr(number, { state: 'closed', merged: true, mergeSha: 'm'.repeat(40), mergedAt: '2026-11-22T09:00:00Z' });
const outcome = (decision: GateOutcome['decision'], over: Partial<GateOutcome> = {}): GateOutcome => ({
  decision,
  healthySince: null,
  wasHealthy: false,
  ...over,
});

/** Runs a walk to its end, answering each question with `answers`; returns the end and every action, in order. */
function walkThrough(start: Walk, answers: (question: WalkAction) => WalkObservation): { walk: Walk; actions: WalkAction[] } {
  const actions: WalkAction[] = [];
  let result = step(start, { kind: 'begin' }, NOW);
  for (let i = 0; i < 50; i++) {
    actions.push(...result.actions);
    const question = result.actions.find((a) => ['read-pull-request', 'ask-gate', 'plan', 'open-phase'].includes(a.kind));
    if (!question) return { walk: result.walk, actions };
    result = step(result.walk, answers(question), NOW);
  }
  throw new Error('the walk did not end');
}

const kinds = (actions: readonly WalkAction[]) => actions.map((a) => a.kind);
const nextText = (walk: Walk) => walk.next?.text ?? null;

describe('walk step: each observation moves the state one way, and the walk says what to do next', () => {
  it('asks for the PR of an open phase; still open: waits for review, nothing else changes', () => {
    const start = beginWalk(context, state([phase('control-plane', { status: 'open', pr: 2 })], { handover: 'review:control-plane:2' }), {
      continued: false,
    });
    const first = step(start, { kind: 'begin' }, NOW);
    expect(first.actions).toEqual([{ kind: 'read-pull-request', pr: 2 }]);
    expect(first.walk.done).toBe(false);
    const end = step(first.walk, { kind: 'pull-request', pr: pr(2) }, NOW);
    expect(end.walk.done).toBe(true);
    expect(nextText(end.walk)).toBe('review and merge #2.');
    expect(end.walk.next).toEqual({ actor: 'person', text: 'review and merge #2.', handover: 'review:control-plane:2' });
    // A person told about this review before is not told again.
    expect(end.walk.state).toEqual(start.state);
    expect(end.actions).toEqual([]);
  });

  describe('hand-overs: a person is told when the next move becomes theirs, once', () => {
    const reviewing = (handover: string | null) =>
      walkThrough(
        beginWalk(context, state([phase('control-plane', { status: 'open', pr: 2 })], { handover }), { continued: false }),
        () => ({
          kind: 'pull-request',
          pr: pr(2),
        }),
      );

    it('a PR to review is a new hand-over: told, and remembered in the state', () => {
      const { walk, actions } = reviewing(null);
      expect(actions.filter((a) => a.kind === 'hand-over')).toEqual([
        {
          kind: 'hand-over',
          handover: 'review:control-plane:2',
          marker: expect.stringMatching(/^review:control-plane:2\.u\w+\.1$/),
          text: 'review and merge #2.',
          failure: null,
        },
      ]);
      expect(walk.state.handover).toBe('review:control-plane:2');
      // Walked again (a timer, a status, a redelivered event): the same hand-over, nobody told twice.
      expect(kinds(reviewing(walk.state.handover).actions)).toEqual(['read-pull-request']);
    });

    it("the bot waiting on Argo CD is no person's turn: no hand-over", () => {
      const { walk, actions } = walkThrough(
        beginWalk(context, state([phase('control-plane', { status: 'merged', pr: 2, mergeSha: 'm'.repeat(40) })]), { continued: false }),
        () => ({
          kind: 'gate',
          outcome: outcome({ status: 'wait', reason: 'syncing' }, { retryAfterMs: 5_000 }),
          plan: null,
          planFailure: null,
        }),
      );
      expect(walk.next).toMatchObject({ actor: 'bot' });
      expect(kinds(actions)).not.toContain('hand-over');
      expect(walk.state.handover).toBeNull();
    });

    it('a pause without a phase step (the plan refused) hands over with its reason; the same reason again tells nobody', () => {
      const paused = walkThrough(beginWalk(context, state([phase('control-plane')]), { continued: false }), () => ({
        kind: 'plan-failed',
        reason: 'kustomize-build-error in clusters/prod',
      }));
      expect(paused.walk.next).toMatchObject({ actor: 'person', text: null });
      const told = paused.actions.filter((a) => a.kind === 'hand-over');
      expect(told).toHaveLength(1);
      const again = walkThrough(beginWalk(context, { ...paused.walk.state, status: 'running' }, { continued: false }), () => ({
        kind: 'plan-failed',
        reason: 'kustomize-build-error in clusters/prod',
      }));
      expect(kinds(again.actions)).not.toContain('hand-over');
      const other = walkThrough(beginWalk(context, { ...paused.walk.state, status: 'running' }, { continued: false }), () => ({
        kind: 'plan-failed',
        reason: 'another reason',
      }));
      expect(kinds(other.actions)).toContain('hand-over');
    });

    it('a state from before hand-overs records the current turn and tells nobody (they were told then)', () => {
      const { handover: _unknown, ...older } = state([phase('control-plane', { status: 'open', pr: 2 })]);
      const { walk, actions } = walkThrough(beginWalk(context, older as UpgradeState, { continued: false }), () => ({
        kind: 'pull-request',
        pr: pr(2),
      }));
      expect(kinds(actions)).toEqual(['read-pull-request']);
      expect(walk.state.handover).toBe('review:control-plane:2');
    });

    it("the bot's turn ends a hand-over: a gate failing again after a retry is told again", () => {
      const failing = { kind: 'gate' as const, plan: null, planFailure: null };
      const merged = state([phase('control-plane', { status: 'merged', pr: 2, mergeSha: 'm'.repeat(40) })]);
      const first = walkThrough(beginWalk(context, merged, { continued: false }), () => ({
        ...failing,
        outcome: outcome({ status: 'fail', reason: 'Degraded', resources: [] }),
      }));
      expect(kinds(first.actions)).toContain('hand-over');
      // Retried: the gate waits on Argo CD (the bot's turn), then fails again.
      const retried = {
        ...first.walk.state,
        status: 'running' as const,
        phases: [{ ...first.walk.state.phases[0]!, status: 'merged' as const }],
      };
      const waiting = walkThrough(beginWalk(context, retried, { continued: true }), () => ({
        ...failing,
        outcome: outcome({ status: 'wait', reason: 'syncing' }, { retryAfterMs: 1_000 }),
      }));
      expect(waiting.walk.state.handover).toBeNull();
      const again = walkThrough(beginWalk(context, waiting.walk.state, { continued: false }), () => ({
        ...failing,
        outcome: outcome({ status: 'fail', reason: 'Degraded', resources: [] }),
      }));
      const told = again.actions.filter((a) => a.kind === 'hand-over');
      expect(told).toHaveLength(1);
      expect(told[0]).toMatchObject({ marker: expect.stringMatching(/\.2$/) });
    });

    it('a failed phase walked by an event (status, a timer) stays failed and paused: nothing after it opens', () => {
      const failed = state(
        [phase('control-plane', { status: 'failed', pr: 2, mergeSha: 'm'.repeat(40), note: 'Degraded' }), phase('gateways')],
        {
          status: 'paused',
          reason: 'Degraded',
        },
      );
      const { walk, actions } = walkThrough(beginWalk(context, failed, { continued: false }), () => {
        throw new Error('nothing to ask');
      });
      expect(walk.state).toMatchObject({ status: 'paused', reason: 'Degraded' });
      expect(walk.state.phases.map((p) => p.status)).toEqual(['failed', 'pending']);
      expect(walk.next).toMatchObject({ actor: 'person', handover: `gate-failed:control-plane:${'m'.repeat(40)}` });
      expect(kinds(actions)).toEqual(['hand-over']);
    });

    it('a closed phase whose PR was reopened (or reopened and merged) is followed again', () => {
      const closed = state([phase('control-plane', { status: 'closed', pr: 2 }), phase('gateways')], {
        status: 'paused',
        reason: 'closed',
      });
      const reopened = walkThrough(beginWalk(context, closed, { continued: false }), () => ({ kind: 'pull-request', pr: pr(2) }));
      expect(reopened.walk.state).toMatchObject({ status: 'running', reason: null });
      expect(reopened.walk.state.phases[0]).toMatchObject({ status: 'open', pr: 2 });
      expect(reopened.walk.next).toMatchObject({ text: 'review and merge #2.' });
      const mergedSince = walkThrough(beginWalk(context, closed, { continued: false }), (q) =>
        q.kind === 'read-pull-request'
          ? { kind: 'pull-request', pr: merged(2) }
          : { kind: 'gate', outcome: outcome({ status: 'wait', reason: 'waiting for a maintainer' }), plan: null, planFailure: null },
      );
      expect(mergedSince.walk.state.phases[0]).toMatchObject({ status: 'merged', mergeSha: 'm'.repeat(40) });
      expect(mergedSince.walk.state.status).toBe('running');
    });

    it('a finished upgrade has no next move', () => {
      const { walk, actions } = walkThrough(
        beginWalk(context, state([phase('control-plane', { status: 'passed' })]), { continued: false }),
        () => {
          throw new Error('nothing to ask');
        },
      );
      expect(walk.state.status).toBe('completed');
      expect(walk.next).toBeNull();
      expect(kinds(actions)).toEqual(['release-lock']);
    });
  });

  it('never changes the walk it is given', () => {
    const start = beginWalk(context, state([phase('control-plane', { status: 'open', pr: 2 })]), { continued: false });
    const copy = structuredClone(start.state);
    step(step(start, { kind: 'begin' }, NOW).walk, { kind: 'pull-request', pr: pr(2, { state: 'closed' }) }, NOW);
    expect(start.state).toEqual(copy);
  });

  it.each([
    ['a PR closed without merging', [phase('control-plane', { status: 'open', pr: 2 })], 2],
    ['a phase already closed', [phase('control-plane', { status: 'closed', pr: 4 })], 4],
  ])('%s pauses the upgrade and says how to go on', (_, phases, number) => {
    const { walk } = walkThrough(beginWalk(context, state(phases), { continued: false }), () => ({
      kind: 'pull-request',
      pr: pr(number, { state: 'closed' }),
    }));
    expect(walk.state).toMatchObject({
      status: 'paused',
      reason: 'the pull request of phase 1 (control-plane) was closed without merging',
    });
    expect(walk.state.phases[0]).toMatchObject({ status: 'closed' });
    expect(nextText(walk)).toBe(`reopen and merge #${number}, or say \`/upgrade continue\` to open it again, or \`/upgrade abort\`.`);
  });

  describe('a merged phase asks the gate', () => {
    const start = () =>
      beginWalk(context, state([phase('control-plane', { status: 'open', pr: 2 }), phase('gateways')]), { continued: false });
    const answering =
      (gate: GateOutcome, extra: Partial<Extract<WalkObservation, { kind: 'gate' }>> = {}) =>
      (q: WalkAction): WalkObservation => {
        if (q.kind === 'read-pull-request') return { kind: 'pull-request', pr: merged(q.pr) };
        if (q.kind === 'ask-gate') return { kind: 'gate', outcome: gate, plan: null, planFailure: null, ...extra };
        if (q.kind === 'plan') return { kind: 'plan', plan: fullPlan() };
        if (q.kind === 'open-phase')
          return { kind: 'opened', pr: { number: 3, headRef: 'mesh-upgrade/prod/asm-1140-0/02-gateways' }, paused: null };
        throw new Error(q.kind);
      };

    it('pass: the phase passes and the next one is opened', () => {
      const { walk, actions } = walkThrough(
        start(),
        answering(outcome({ status: 'pass', summary: 'fine' }, { healthySince: NOW, wasHealthy: true })),
      );
      expect(kinds(actions)).toEqual(['read-pull-request', 'ask-gate', 'plan', 'open-phase', 'hand-over']);
      expect(walk.state.phases[0]).toMatchObject({
        status: 'passed',
        note: 'fine',
        mergeSha: 'm'.repeat(40),
        gate: { mergedAt: '2026-11-22T09:00:00Z', healthySince: NOW.toISOString(), wasHealthy: true },
      });
      expect(walk.state.phases[1]).toMatchObject({ status: 'open', pr: 3, branch: 'mesh-upgrade/prod/asm-1140-0/02-gateways', note: null });
      expect(walk.state.status).toBe('running');
      expect(nextText(walk)).toBe('review and merge #3.');
    });

    it('wait, from a gate that waits for a person: the next step names the PR and /upgrade continue', () => {
      const { walk, actions } = walkThrough(start(), answering(outcome({ status: 'wait', reason: 'waiting for a maintainer' })));
      expect(kinds(actions)).toEqual(['read-pull-request', 'ask-gate', 'hand-over']);
      expect(walk.state.phases[0]).toMatchObject({ status: 'merged', note: 'waiting for a maintainer' });
      expect(nextText(walk)).toBe('check phase 1 with the commands in #2, then say `/upgrade continue`.');
    });

    it('wait, from a gate that polls: a check is scheduled when the gate asks', () => {
      const { walk, actions } = walkThrough(start(), answering(outcome({ status: 'wait', reason: 'syncing' }, { retryAfterMs: 20_000 })));
      expect(actions.at(-1)).toEqual({ kind: 'schedule-check', delayMs: 20_000 });
      expect(nextText(walk)).toBe('waiting for Argo CD to report the merge commit of #2 Synced and Healthy.');
      expect(walk.state.status).toBe('running');
    });

    it('fail: the phase fails, the upgrade pauses with the reason, and the failure is reported once', () => {
      const decision = { status: 'fail' as const, reason: 'prod-mesh: Degraded', resources: [] };
      const { walk, actions } = walkThrough(start(), answering(outcome(decision)));
      expect(actions.filter((a) => a.kind === 'hand-over')).toEqual([
        {
          kind: 'hand-over',
          handover: `gate-failed:control-plane:${'m'.repeat(40)}`,
          marker: expect.stringContaining('gate-failed:control-plane:'),
          text: 'fix the cluster and say `/upgrade continue` to check again, or `/upgrade abort`.',
          failure: { index: 0, decision },
        },
      ]);
      expect(walk.state).toMatchObject({ status: 'paused', reason: 'prod-mesh: Degraded' });
      expect(walk.state.phases[0]).toMatchObject({ status: 'failed', note: 'prod-mesh: Degraded' });
      expect(nextText(walk)).toBe('fix the cluster and say `/upgrade continue` to check again, or `/upgrade abort`.');
    });

    it('the plan the gate needed is kept; a refused plan pauses with its reason', () => {
      const kept = walkThrough(start(), answering(outcome({ status: 'pass', summary: 'ok' }), { plan: fullPlan() }));
      expect(kinds(kept.actions)).toEqual(['read-pull-request', 'ask-gate', 'open-phase', 'hand-over']);
      const refused = walkThrough(
        start(),
        answering(outcome({ status: 'wait', reason: 'x' }, { retryAfterMs: 1 }), { planFailure: 'the repo is unreadable' }),
      );
      expect(refused.walk.state).toMatchObject({ status: 'paused', reason: 'the repo is unreadable' });
    });

    it('a `/upgrade continue` passes one manual gate, not the next', () => {
      const walk = beginWalk(
        context,
        state([
          phase('control-plane', { status: 'merged', pr: 2, mergeSha: 'x' }),
          phase('gateways', { status: 'merged', pr: 3, mergeSha: 'y' }),
        ]),
        { continued: true },
      );
      const asked: boolean[] = [];
      walkThrough(walk, (q) => {
        if (q.kind !== 'ask-gate') throw new Error(q.kind);
        asked.push(q.continued);
        return {
          kind: 'gate',
          outcome: outcome(q.continued ? { status: 'pass', summary: 'ok' } : { status: 'wait', reason: 'w' }),
          plan: null,
          planFailure: null,
        };
      });
      expect(asked).toEqual([true, false]);
    });
  });

  describe('a pending phase is generated from the plan of the repo as it is', () => {
    const pending = (phases: PhaseRecord[], over: Partial<UpgradeState> = {}, continued = false) =>
      beginWalk(context, state(phases, over), { continued });
    const withPlan =
      (
        p: UpgradePlan,
        opened: Extract<WalkObservation, { kind: 'opened' }> = { kind: 'opened', pr: { number: 9, headRef: 'b' }, paused: null },
      ) =>
      (q: WalkAction): WalkObservation => {
        if (q.kind === 'plan') return { kind: 'plan', plan: p };
        if (q.kind === 'open-phase') return opened;
        throw new Error(q.kind);
      };
    const passed = (id: string) => phase(id, { status: 'passed' });

    it('a refused plan pauses with its reason', () => {
      const { walk } = walkThrough(pending([phase('control-plane')]), () => ({ kind: 'plan-failed', reason: 'unsupported path' }));
      expect(walk.state).toMatchObject({ status: 'paused', reason: 'unsupported path' });
    });

    it('done in the repo, or no longer planned: settled without a PR', () => {
      const { walk } = walkThrough(
        pending([phase('control-plane'), phase('gateways'), phase('workloads')]),
        withPlan(
          plan([
            { id: 'control-plane', status: 'done' },
            { id: 'gateways', status: 'done' },
            { id: 'workloads', status: 'done' },
          ]),
        ),
      );
      expect(walk.state.phases.map((p) => [p.status, p.note])).toEqual([
        ['done', 'already in the repo'],
        ['done', 'already in the repo'],
        ['done', 'already in the repo'],
      ]);
      expect(walk.state.status).toBe('completed');
    });

    it('the remaining phases follow a plan whose shape changed (no wave skipped)', () => {
      const p = plan([{ id: 'control-plane', status: 'done' }, { id: 'workloads-1' }, { id: 'workloads-2' }]);
      const { walk } = walkThrough(pending([passed('control-plane'), phase('workloads')]), withPlan(p));
      expect(walk.state.phases.map((x) => [x.id, x.status, x.note])).toEqual([
        ['control-plane', 'passed', null],
        ['workloads-1', 'open', null],
        ['workloads-2', 'pending', 'added: the repo changed since the plan'],
      ]);
    });

    it.each([
      ['by an event', false, null],
      [
        'by /upgrade continue',
        true,
        '❌ Phase 4 (*Phase default-revision*) was not opened: control plane asm-1140-0 (istiod-asm-1140-0) is not in the repo; phase default-revision would leave the mesh without a working control plane.',
      ],
    ])('never proposes a phase that needs the new control plane before it is in the repo (walked %s)', (_, continued, refusal) => {
      const phases = [passed('control-plane'), passed('gateways'), passed('workloads'), phase('default-revision')];
      const { walk } = walkThrough(
        pending(phases, {}, continued),
        withPlan(
          plan(
            PHASES.map((id) => ({ id })),
            { revisions: ['asm-1130-0'] },
          ),
        ),
      );
      expect(walk.state).toMatchObject({ status: 'paused', reason: expect.stringContaining('is not in the repo') });
      expect(walk.state.phases[3]!.note).toBe('blocked: the new control plane is not installed');
      expect(nextText(walk)).toBe('install asm-1140-0 (phase 1), then say `/upgrade continue`.');
      expect(walk.refusal).toBe(refusal);
    });

    it('cleanup waits out the grace period after scale-down, with a check scheduled at its end', () => {
      const phases = [
        phase('scale-down', { status: 'passed', gate: { mergedAt: '2026-11-22T06:00:00Z', healthySince: null, wasHealthy: true } }),
        phase('cleanup'),
      ];
      const { walk, actions } = walkThrough(pending(phases), withPlan(plan([{ id: 'scale-down', status: 'done' }, { id: 'cleanup' }])));
      expect(actions.at(-1)).toEqual({ kind: 'schedule-check', delayMs: 20 * 3_600_000 });
      expect(walk.state.phases[1]!.note).toBe('waiting for the grace period after scale-down (until 2026-11-23 06:00 UTC)');
      expect(walk.state.status).toBe('running');
    });

    it('cleanup is blocked while the old revision is still used (ten names, then …)', () => {
      const users = Array.from({ length: 12 }, (_, i) => `ns-${i}`);
      const { walk } = walkThrough(
        pending([passed('default-revision'), phase('cleanup')]),
        withPlan(
          plan([
            { id: 'default-revision', status: 'done' },
            { id: 'cleanup', blockedBy: users },
          ]),
        ),
      );
      expect(walk.state.reason).toBe(`asm-1130-0 is still in use: ${users.slice(0, 10).join(', ')}, …`);
      expect(nextText(walk)).toBe('move what still uses the old revision (or relabel it by hand), then say `/upgrade continue`.');
    });

    it.each([
      ['waits for a word', false, 'open', 'manual steps', 'do the manual steps of phase 1, then say `/upgrade continue`.'],
      ['passes on /upgrade continue', true, 'passed', 'confirmed with /upgrade continue', null],
    ])('a manual phase whose result shows only in the cluster %s', (_, continued, status, note, nextStep) => {
      const { walk } = walkThrough(pending([phase('control-plane')], {}, continued), withPlan(plan([{ id: 'control-plane', files: 0 }])));
      expect(walk.state.phases[0]).toMatchObject({ status, note });
      expect(nextText(walk)).toBe(nextStep);
    });

    it('a manual phase whose result is files passes only when the repo shows them, whatever is said', () => {
      const { walk } = walkThrough(
        pending([phase('control-plane')], {}, true),
        withPlan(plan([{ id: 'control-plane', files: 0, manualResult: 'repo' }])),
      );
      expect(walk.state.phases[0]).toMatchObject({
        status: 'open',
        note: 'manual steps: waiting for their result in the repo (the repo at fffffff has no control plane asm-1140-0 (istiod-asm-1140-0))',
      });
      expect(walk.refusal).toBe(
        '❌ Phase 1 (*Phase control-plane*) is not done: the repo at fffffff has no control plane asm-1140-0 (istiod-asm-1140-0). Do its manual steps and commit the result to `main`, then say `/upgrade continue`.',
      );
      const shown = walkThrough(
        beginWalk(context, walk.state, { continued: false }),
        withPlan(plan([{ id: 'control-plane', status: 'done' }])),
      );
      expect(shown.walk.state.phases[0]).toMatchObject({ status: 'passed', note: 'the repo shows the result of its manual steps' });
    });

    it.each([
      ['the lock is held elsewhere', { kind: 'opened', pr: null, paused: 'cluster prod is held by #7; …' } as const, 'pending', 'paused'],
      [
        'the branch has foreign commits, its PR still open',
        { kind: 'opened', pr: { number: 5, headRef: 'b' }, paused: 'foreign commits' } as const,
        'open',
        'paused',
      ],
      ['GitHub took branch and PR', { kind: 'opened', pr: { number: 5, headRef: 'b' }, paused: null } as const, 'open', 'running'],
    ])('opening the PR: %s', (_, opened, phaseStatus, upgradeStatus) => {
      const { walk } = walkThrough(pending([phase('control-plane')]), withPlan(plan([{ id: 'control-plane' }]), opened));
      expect(walk.state.phases[0]!.status).toBe(phaseStatus);
      expect(walk.state.status).toBe(upgradeStatus);
    });
  });

  it.each([
    ['upgrade', 'completed'],
    ['rollback', 'rolled-back'],
  ] as const)('every phase settled: the %s ends %s and gives the lock back', (mode, status) => {
    const { walk, actions } = walkThrough(
      beginWalk(
        context,
        state([phase('control-plane', { status: 'passed' }), phase('cleanup', { status: 'done' })], {
          mode,
          status: 'paused',
          reason: 'x',
        }),
        { continued: false },
      ),
      () => {
        throw new Error('no question');
      },
    );
    expect(actions).toEqual([{ kind: 'release-lock' }]);
    expect(walk.state).toMatchObject({ status, reason: null });
  });

  it('a dry run never completes (it holds no lock)', () => {
    const dry = state([phase('control-plane', { status: 'done' })], { options: { downgrade: false, dryRun: true } });
    const { walk, actions } = walkThrough(beginWalk(context, dry, { continued: false }), () => {
      throw new Error('no question');
    });
    expect(actions).toEqual([]);
    expect(walk.state.status).toBe('running');
  });
});
