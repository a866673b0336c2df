import { describe, expect, it } from 'vitest';
import { planOptionsFor } from '../../src/config/plan-options.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { renderPhaseMarker } from '../../src/core/markers.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { newPhaseRecord, type PhaseRecord, type UpgradeState } from '../../src/core/state.js';
import { loadTemplates } from '../../src/text/templates.js';
import { decideAbort } from '../../src/workflow/commands/abort.js';
import { decideContinue } from '../../src/workflow/commands/continue.js';
import { decideRollback, rollbackState } from '../../src/workflow/commands/rollback.js';
import { decideStart, initialState, type StartCommand } from '../../src/workflow/commands/start.js';
import { statusReply } from '../../src/workflow/commands/status.js';
import {
  closedPullRequestMoves,
  commitStatusConcerns,
  type PullRequestClosedEvent,
  phaseOfClosedPullRequest,
  recheckMoves,
} from '../../src/workflow/events.js';
import { upgradeState } from '../helpers/upgrade-state.js';

const messages = loadTemplates().messages;
const phase = (id: string, over: Partial<PhaseRecord> = {}): PhaseRecord => ({ ...newPhaseRecord(id, `Phase ${id}`, 'pending'), ...over });
const running = (phases: PhaseRecord[], over: Partial<UpgradeState> = {}) => upgradeState({ phases, ...over });
const start = (over: Partial<StartCommand> = {}): StartCommand => ({
  kind: 'start',
  revision: 'asm-1140-0',
  downgrade: false,
  dryRun: false,
  ...over,
});
const config = parseRepoConfig(
  'clusters:\n  - name: prod\n    path: clusters/prod\n    canary: [search]\n    platform: multicloud\n  - name: edge\nstrategy: tag\ncleanupMode: scale-then-delete\npodBudget: 50\n',
);
const prod = config.clusters[0]!;

describe('start', () => {
  it.each([
    ['no upgrade yet', null, 'plan'],
    ['an upgrade that ended', running([], { status: 'completed' }), 'plan'],
    ['a dry run', running([], { options: { downgrade: false, dryRun: true } }), 'plan'],
    ['the same upgrade (a double comment)', running([]), 'resume'],
    ['another target', running([], { target: 'asm-1150-0' }), 'refuse'],
    ['another cluster', running([], { cluster: 'edge' }), 'refuse'],
  ])('%s → %s', (_, existing, kind) => {
    expect(decideStart(messages, existing, start(), prod).kind).toBe(kind);
  });

  it('refuses with the running upgrade named', () => {
    expect(decideStart(messages, running([], { target: 'asm-1150-0' }), start(), prod)).toEqual({
      kind: 'refuse',
      text: '❌ An upgrade of `prod` to `asm-1150-0` is already in progress on this issue. Say `/upgrade abort` first to replace it.',
    });
  });

  it('the new state: the plan’s revisions and phases, the canary resolved, running', () => {
    const plan = {
      to: { revision: 'asm-1140-0', version: '1.14.0-asm.0' },
      from: { revision: 'asm-1130-0', version: null },
      install: 'helm',
      strategy: 'tag',
      phases: [
        { id: 'control-plane', title: 'CP', status: 'done' },
        { id: 'gateways', title: 'GW', status: 'pending' },
      ],
    } as unknown as UpgradePlan;
    const state = initialState(
      { issue: 3, author: 'alice', installation: 12, head: 'abc1234', now: new Date('2026-11-22T09:00:00Z') },
      start({ version: '1.14.0-asm.0' }),
      prod,
      config,
      plan,
    );
    expect(state).toMatchObject({
      issue: 3,
      cluster: 'prod',
      path: 'clusters/prod',
      target: 'asm-1140-0',
      from: 'asm-1130-0',
      install: 'helm',
      status: 'running',
      installation: 12,
      requestedBy: 'alice',
    });
    expect(state.options).toEqual({
      version: '1.14.0-asm.0',
      canary: ['search'],
      downgrade: false,
      dryRun: false,
      strategy: 'tag',
      cleanupMode: 'scale-then-delete',
    });
    expect(state.phases.map((p) => [p.id, p.status])).toEqual([
      ['control-plane', 'done'],
      ['gateways', 'pending'],
    ]);
  });
});

describe('continue', () => {
  it('nothing to continue', () => {
    expect(decideContinue(messages, null)).toEqual({
      kind: 'reply',
      text: 'There is no running or paused upgrade on this issue to continue.',
    });
    expect(decideContinue(messages, running([], { status: 'aborted' })).kind).toBe('reply');
  });

  it('a phase in review: the PR is looked at first; still open, it is said so', () => {
    const state = running([phase('control-plane', { status: 'open', pr: 2 })]);
    expect(decideContinue(messages, state)).toMatchObject({ kind: 'check-pull-request', pr: 2 });
    expect(decideContinue(messages, state, true)).toEqual({
      kind: 'reply',
      text: 'Phase *Phase control-plane* is waiting for its pull request #2 to be reviewed and merged.',
    });
    expect(decideContinue(messages, state, false)).toMatchObject({ kind: 'resume', state: { status: 'running' } });
  });

  it.each([
    ['closed', 'pending'],
    ['failed', 'merged'],
  ] as const)('a %s phase is tried again as %s, the pause lifted', (status, next) => {
    const state = running([phase('control-plane', { status: 'passed' }), phase('gateways', { status, pr: 3, note: 'x' })], {
      status: 'paused',
      reason: 'why',
    });
    const decision = decideContinue(messages, state);
    expect(decision).toMatchObject({ kind: 'resume', state: { status: 'running', reason: null } });
    if (decision.kind === 'resume') expect(decision.state.phases[1]).toMatchObject({ status: next, note: null });
    expect(state.phases[1]!.status).toBe(status);
  });
});

describe('abort', () => {
  it('no upgrade: orphan locks are looked for', () => {
    expect(decideAbort(messages, null, 'bob')).toEqual({ kind: 'release-orphan-locks' });
  });

  it('closes the open phases, ends aborted, and names who aborted', () => {
    const state = running([
      phase('control-plane', { status: 'passed', pr: 2 }),
      phase('gateways', { status: 'open', pr: 3 }),
      phase('workloads'),
    ]);
    const decision = decideAbort(messages, state, 'bob');
    expect(decision).toMatchObject({ kind: 'abort', pullRequests: [3], state: { status: 'aborted', reason: 'aborted by @bob' } });
    if (decision.kind === 'abort') {
      expect(decision.state.phases.map((p) => [p.status, p.note])).toEqual([
        ['passed', null],
        ['closed', 'closed by /upgrade abort'],
        ['pending', null],
      ]);
      expect(decision.reply).toBe(
        'Upgrade to `asm-1140-0` aborted. Phases already merged stay in the repo; open phase pull requests were closed.',
      );
    }
  });
});

describe('rollback', () => {
  it.each([
    ['no upgrade', null, 'There is no upgrade on this issue to roll back.'],
    ['a rollback running', running([], { mode: 'rollback' }), 'A rollback is already under way on this issue.'],
    [
      'a rollback done',
      running([], { mode: 'rollback', status: 'rolled-back', target: 'asm-1130-0' }),
      'This issue was already rolled back to `asm-1130-0`.',
    ],
    [
      'a completed upgrade',
      running([], { status: 'completed' }),
      '❌ Rollback refused: the cleanup phase removed `asm-1130-0`, so there is no control plane to go back to. Go back with a new canary: `/upgrade asm-1130-0 --downgrade`.',
    ],
    ['cleanup merged', running([phase('cleanup', { status: 'merged' })]), expect.stringContaining('Rollback refused')],
  ])('%s: refused', (_, state, text) => {
    expect(decideRollback(messages, state)).toEqual({ kind: 'reply', text });
  });

  it('otherwise the way back is planned and runs as its own phases', () => {
    const state = running([phase('control-plane', { status: 'passed' })]);
    expect(decideRollback(messages, state)).toEqual({ kind: 'plan', state });
    const plan = {
      to: { revision: 'asm-1130-0', version: null },
      from: { revision: 'asm-1140-0', version: null },
      phases: [{ id: 'rollback-cleanup', title: 'Remove', status: 'pending' }],
    } as unknown as UpgradePlan;
    expect(rollbackState(messages, state, plan, 'carol', new Date('2026-11-22T12:00:00Z'))).toMatchObject({
      mode: 'rollback',
      target: 'asm-1130-0',
      from: 'asm-1140-0',
      status: 'running',
      reason: 'rollback requested by @carol',
      phases: [{ id: 'rollback-cleanup', status: 'pending' }],
      history: [{ id: 'control-plane', status: 'passed' }],
    });
  });
});

describe('status', () => {
  it('says where the upgrade is, with the reason when there is one', () => {
    const state = running([phase('control-plane', { status: 'passed' }), phase('gateways', { title: 'Gateways' })], {
      status: 'paused',
      reason: 'held',
    });
    expect(statusReply(messages, state, null, 'https://x/1')).toBe(
      'Upgrade of `prod` to `asm-1140-0`: **paused** (held). Current phase: Gateways. Details: https://x/1',
    );
    expect(statusReply(messages, running([], { status: 'completed' }), null, 'u')).toBe(
      'Upgrade of `prod` to `asm-1140-0`: **completed**. Current phase: none. Details: u',
    );
  });

  it('says who moves next and what they do, while the upgrade is under way', () => {
    const state = running([phase('control-plane', { title: 'Control plane', status: 'open', pr: 2 })]);
    const review = { actor: 'person' as const, text: 'review and merge #2.', handover: 'review:control-plane:2' };
    expect(statusReply(messages, state, review, 'u')).toBe(
      'Upgrade of `prod` to `asm-1140-0`: **running**. Current phase: Control plane. Next for alice: review and merge #2. Details: u',
    );
    const argo = { actor: 'bot' as const, text: 'waiting for Argo CD.' };
    expect(statusReply(messages, state, argo, 'u')).toContain('Next: waiting for Argo CD. Details');
    expect(statusReply(messages, { ...state, status: 'completed' }, review, 'u')).not.toContain('Next');
  });
});

describe('events', () => {
  const repo = { ref: { owner: 'o', repo: 'r' }, botLogin: 'bot[bot]' };
  const closed = (over: Partial<PullRequestClosedEvent> = {}): PullRequestClosedEvent => ({
    number: 5,
    merged: true,
    mergeSha: 'm',
    body: `text\n${renderPhaseMarker({ issue: 3, cluster: 'prod', target: 'asm-1140-0', phase: 'gateways' })}`,
    headRef: 'mesh-upgrade/prod/asm-1140-0/02-gateways',
    author: 'bot[bot]',
    headRepo: 'o/r',
    ...over,
  });

  it.each([
    ['the bot’s own phase PR', closed(), 'phase'],
    ['a PR without a marker', closed({ body: 'hello' }), 'not-a-phase'],
    ['a copied marker from a fork', closed({ headRepo: 'mallory/r' }), 'not-ours'],
    ['a copied marker by a person', closed({ author: 'mallory' }), 'not-ours'],
  ])('a closed PR: %s', (_, event, kind) => {
    expect(phaseOfClosedPullRequest(repo, event).kind).toBe(kind);
  });

  it('a closed PR moves only a running or paused upgrade it is a phase of', () => {
    const state = running([phase('gateways', { status: 'open', pr: 5 })]);
    expect(closedPullRequestMoves(state, 5)).toBe(true);
    expect(closedPullRequestMoves(state, 6)).toBe(false);
    expect(closedPullRequestMoves({ ...state, status: 'aborted' }, 5)).toBe(false);
    expect(closedPullRequestMoves(null, 5)).toBe(false);
  });

  it.each([
    ['running', true],
    ['paused', false],
    ['completed', false],
    ['aborted', false],
  ] as const)('a timer moves a %s upgrade: %s', (status, moves) => {
    expect(recheckMoves(running([], { status }))).toBe(moves);
  });

  it('a success status concerns the merged phase of a running upgrade', () => {
    const state = running([phase('control-plane', { status: 'passed' }), phase('gateways', { status: 'merged', mergeSha: 'abc' })]);
    expect(commitStatusConcerns(state)).toBe('abc');
    expect(commitStatusConcerns({ ...state, status: 'paused' })).toBeNull();
    expect(commitStatusConcerns(running([phase('gateways', { status: 'open', pr: 1 })]))).toBeNull();
    expect(commitStatusConcerns(null)).toBeNull();
  });
});

describe('planOptionsFor: one place builds the planner’s options', () => {
  it('a start: the command, then the cluster, then the repo config', () => {
    expect(planOptionsFor(config, { kind: 'start', command: start({ version: '1.14.0', downgrade: true }), cluster: prod })).toEqual({
      to: 'asm-1140-0',
      version: '1.14.0',
      downgrade: true,
      canary: ['search'],
      podBudget: 50,
      strategy: 'tag',
      cleanupMode: 'scale-then-delete',
      platform: 'multicloud',
    });
    expect(planOptionsFor(config, { kind: 'start', command: start({ canary: ['shop'] }), cluster: config.clusters[1]! })).toMatchObject({
      canary: ['shop'],
    });
  });

  it('a running upgrade plans from what its state recorded', () => {
    const state = running([], {
      cluster: 'prod',
      options: { version: '1.14.0', canary: ['search'], downgrade: false, dryRun: false, strategy: 'relabel', cleanupMode: 'delete' },
    });
    expect(planOptionsFor(config, { kind: 'running', state })).toEqual({
      to: 'asm-1140-0',
      version: '1.14.0',
      from: 'asm-1130-0',
      canary: ['search'],
      strategy: 'relabel',
      cleanupMode: 'delete',
      podBudget: 50,
      platform: 'multicloud',
    });
  });

  it('a running rollback plans the way back; a rollback command plans it from the upgrade', () => {
    const state = running([], {
      mode: 'rollback',
      target: 'asm-1130-0',
      from: 'asm-1140-0',
      options: { downgrade: false, dryRun: false, strategy: 'tag', cleanupMode: 'delete' },
    });
    expect(planOptionsFor(config, { kind: 'running', state })).toEqual({
      to: 'asm-1140-0',
      rollback: true,
      strategy: 'tag',
      podBudget: 50,
      platform: 'multicloud',
    });
    expect(planOptionsFor(config, { kind: 'rollback', state: running([]) })).toEqual({
      to: 'asm-1140-0',
      rollback: true,
      podBudget: 50,
      platform: 'multicloud',
    });
  });
});
