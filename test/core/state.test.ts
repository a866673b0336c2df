import { describe, expect, it } from 'vitest';
import { lockRef, parsePhaseBranch, parsePhaseMarker, phaseBranch, renderPhaseMarker } from '../../src/core/markers.js';
import { deriveStateKey, parseStateBlock, renderStateBlock, type UpgradeState } from '../../src/core/state.js';

const state: UpgradeState = {
  version: 1,
  issue: 7,
  cluster: 'prod',
  path: 'clusters/prod',
  target: 'asm-1140-0',
  targetVersion: '1.14.0-asm.0',
  from: 'asm-1130-0',
  fromVersion: '1.13.0-asm.0',
  install: 'istio-operator',
  mode: 'upgrade',
  options: { downgrade: false, dryRun: false },
  status: 'running',
  reason: 'a --> b', // must not end the HTML comment early
  requestedBy: 'alice',
  installation: 31,
  phases: [
    {
      id: 'control-plane',
      title: 'Install',
      status: 'merged',
      pr: 12,
      branch: 'mesh-upgrade/prod/asm-1140-0/01-control-plane',
      mergeSha: 'a'.repeat(40),
      note: null,
      gate: { mergedAt: '2026-11-22T10:00:00.000Z', healthySince: null, wasHealthy: false },
    },
  ],
  handover: 'check:control-plane:aaaaaaa',
  handovers: 2,
  labels: { issue: 'waiting-for-you', pr: 12 },
  plannedAt: 'b'.repeat(40),
  startedAt: '2026-11-22T09:00:00.000Z',
};

const key = deriveStateKey('webhook-secret-of-this-app');

describe('state block', () => {
  it('round-trips through a hidden, versioned, authenticated comment block', () => {
    const block = renderStateBlock(state, key);
    expect(block).toMatch(/^<!-- mesh-upgrade-state:v2 [A-Za-z0-9+/=]+ [A-Za-z0-9_-]{43} -->$/);
    expect(parseStateBlock(`### Plan\n\n${block}\n`, key)).toEqual({ kind: 'state', state });
  });

  it('reads a block written before hand-overs, labels and start times with defaults that tell nobody again', () => {
    const { handover: _h, handovers: _n, labels: _l, plannedAt: _p, startedAt: _s, ...older } = state;
    const parsed = parseStateBlock(renderStateBlock(older as UpgradeState, key), key);
    expect(parsed).toMatchObject({ kind: 'state', state: { labels: { issue: null, pr: null }, plannedAt: null, startedAt: null } });
    // Unknown, not null: the walk records the current turn without telling anybody (walk.test.ts).
    expect(parsed.kind === 'state' && parsed.state.handover).toBeUndefined();
  });

  it('rejects blocks it cannot trust', () => {
    expect(parseStateBlock('no block', key)).toEqual({ kind: 'none' });
    expect(parseStateBlock('<!-- mesh-upgrade-state:v2 e30= -->', key).kind).toBe('unauthenticated');
    expect(parseStateBlock(`<!-- mesh-upgrade-state:v1 ${Buffer.from('{"version":1}').toString('base64')} -->`, key).kind).toBe(
      'unauthenticated',
    );
  });

  it('ignores a block signed with another key, or whose payload was changed after signing', () => {
    const block = renderStateBlock(state, key);
    expect(parseStateBlock(block, deriveStateKey('someone-elses-secret')).kind).toBe('unauthenticated');
    // A forger who copies a real signature onto a payload of their own gains nothing.
    const [, , payload, mac] = /<!-- (\S+) (\S+) (\S+) -->/.exec(block)!;
    const forged = Buffer.from(JSON.stringify({ ...state, phases: [] })).toString('base64');
    expect(parseStateBlock(block.replace(payload!, forged), key).kind).toBe('unauthenticated');
    expect(parseStateBlock(`<!-- mesh-upgrade-state:v2 ${forged} ${mac} -->`, key).kind).toBe('unauthenticated');
    // The key is derived: the secret itself does not verify anything.
    expect(key.bytes.toString('utf8')).not.toContain('webhook-secret-of-this-app');
  });

  it('names branches deterministically and reads them back', () => {
    const branch = phaseBranch('prod', 'asm-1140-0', 2, 'workloads-1');
    expect(branch).toBe('mesh-upgrade/prod/asm-1140-0/03-workloads-1');
    expect(parsePhaseBranch(branch)).toEqual({ cluster: 'prod', revision: 'asm-1140-0', index: 2, phase: 'workloads-1' });
    expect(parsePhaseBranch('feature/x')).toBeNull();
    expect(lockRef('prod')).toBe('refs/mesh-upgrade/locks/prod');
  });

  it('hides the phase identity in PR bodies', () => {
    const marker = { issue: 7, cluster: 'prod', target: 'asm-1140-0', phase: 'gateways' };
    expect(parsePhaseMarker(`body\n${renderPhaseMarker(marker)}`)).toEqual(marker);
    expect(parsePhaseMarker('nothing')).toBeNull();
  });
});
