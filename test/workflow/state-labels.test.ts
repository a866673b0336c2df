import { describe, expect, it } from 'vitest';
import type { NextMove } from '../../src/core/next-move.js';
import { newPhaseRecord, type PhaseRecord, type UpgradeState } from '../../src/core/state.js';
import { stateLabelChanges, stateLabelOf } from '../../src/workflow/state-labels.js';
import { upgradeState } from '../helpers/upgrade-state.js';

const review: NextMove = { actor: 'person', text: 'review and merge #5.', handover: 'review:gateways:5' };
const argo: NextMove = { actor: 'bot', text: 'waiting for Argo CD' };

function phase(id: string, over: Partial<PhaseRecord> = {}): PhaseRecord {
  return { ...newPhaseRecord(id, id, 'pending'), ...over };
}

function at(over: Partial<UpgradeState>): UpgradeState {
  return upgradeState({
    issue: 3,
    phases: [phase('control-plane', { status: 'passed', pr: 4 }), phase('gateways', { status: 'open', pr: 5 }), phase('workloads')],
    ...over,
  });
}

describe('state labels: the issue and the current phase PR show the upgrade state', () => {
  it('says waiting-for-you when a person moves next, running when the bot does, and the status otherwise', () => {
    expect(stateLabelOf(at({}), review)).toBe('waiting-for-you');
    expect(stateLabelOf(at({}), argo)).toBe('running');
    expect(stateLabelOf(at({ status: 'paused', reason: 'x' }), review)).toBe('paused');
    expect(stateLabelOf(at({ status: 'completed' }), null)).toBe('completed');
    expect(stateLabelOf(at({ status: 'rolled-back' }), null)).toBe('rolled-back');
  });

  it('moves from the previous phase PR to the next, the issue unchanged when its label is', () => {
    const state = at({ labels: { issue: 'waiting-for-you', pr: 4 } });
    expect(stateLabelChanges(state, review, new Set())).toEqual([
      { target: 4, label: null },
      { target: 5, label: 'waiting-for-you' },
    ]);
    // A PR opened just now already carries `waiting-for-you`.
    expect(stateLabelChanges(state, review, new Set([5]))).toEqual([{ target: 4, label: null }]);
  });

  it('changes nothing when the labels already say it', () => {
    expect(stateLabelChanges(at({ labels: { issue: 'waiting-for-you', pr: 5 } }), review, new Set())).toEqual([]);
  });

  it('relabels issue and PR together when the state changes under the same phase', () => {
    expect(stateLabelChanges(at({ labels: { issue: 'waiting-for-you', pr: 5 } }), argo, new Set())).toEqual([
      { target: 3, label: 'running' },
      { target: 5, label: 'running' },
    ]);
  });

  it('a finished upgrade labels only its issue', () => {
    const done = at({ status: 'completed', labels: { issue: 'running', pr: 5 } });
    expect(stateLabelChanges(done, null, new Set())).toEqual([
      { target: 3, label: 'completed' },
      { target: 5, label: null },
    ]);
  });
});
