import { describe, expect, it } from 'vitest';
import {
  elideStateBlock,
  handoverMarker,
  isStateComment,
  issueLabels,
  LOCK_PREFIX,
  lockCommitMessage,
  lockRef,
  parseLockCommitMessage,
  parseLockRef,
  parsePhaseBranch,
  parsePhaseMarker,
  parseStateEnvelope,
  phaseBranch,
  phaseLabels,
  renderPhaseMarker,
  renderStateEnvelope,
  replyMarker,
  trailingStateBlock,
  withoutPhaseMarker,
} from '../../src/core/markers.js';

describe('wire formats: each renders and parses back', () => {
  it.each([
    ['prod', 'asm-1140-0', 0, 'control-plane'],
    ['edge-1', '1-24-2', 2, 'workloads-3'],
    ['a', 'b', 120, 'rollback-default-revision'],
  ])('phase branch %s/%s #%i %s', (cluster, revision, index, phase) => {
    const branch = phaseBranch(cluster, revision, index, phase);
    expect(branch.startsWith('mesh-upgrade/')).toBe(true);
    expect(parsePhaseBranch(branch)).toEqual({ cluster, revision, index, phase });
  });

  it('refuses branches that are not phase branches', () => {
    for (const branch of ['feature/x', 'mesh-upgrade/prod/asm/1-x', 'mesh-upgrade/prod/01-x', 'other/prod/asm/01-x'])
      expect(parsePhaseBranch(branch)).toBeNull();
  });

  it('lock refs and the issue their commit names', () => {
    expect(lockRef('prod')).toBe('refs/mesh-upgrade/locks/prod');
    expect(parseLockRef(lockRef('prod'))).toBe('prod');
    expect(parseLockRef(LOCK_PREFIX)).toBeNull();
    expect(parseLockRef('refs/heads/main')).toBeNull();
    expect(lockCommitMessage(7)).toBe('mesh-upgrade lock\n\nissue: 7\n');
    expect(lockCommitMessage(8, 7)).toBe('mesh-upgrade lock\n\nissue: 8\nprevious holder: 7\n');
    expect(lockCommitMessage(8, null)).toBe('mesh-upgrade lock\n\nissue: 8\nprevious holder: unknown\n');
    expect(parseLockCommitMessage(lockCommitMessage(7))).toBe(7);
    expect(parseLockCommitMessage(lockCommitMessage(8, 7))).toBe(8);
    expect(parseLockCommitMessage('mesh-upgrade lock')).toBeNull();
  });

  it('the phase marker of a PR body', () => {
    const marker = { issue: 3, cluster: 'prod', target: 'asm-1140-0', phase: 'gateways' };
    const body = `Some text\n\n${renderPhaseMarker(marker)}\n`;
    expect(parsePhaseMarker(body)).toEqual(marker);
    expect(parsePhaseMarker(withoutPhaseMarker(body))).toBeNull();
    expect(parsePhaseMarker(null)).toBeNull();
    expect(parsePhaseMarker('<!-- mesh-upgrade-phase:v1 bm90IGpzb24= -->')).toBeNull();
  });

  it('the state block envelope: the last one counts, the trailing one is kept as written', () => {
    const block = renderStateEnvelope({ version: 2, payload: 'e30=', mac: 'abc_-' });
    expect(parseStateEnvelope(`${renderStateEnvelope({ version: 2, payload: 'AAAA', mac: 'x' })}\n${block}`)).toEqual({
      version: 2,
      payload: 'e30=',
      mac: 'abc_-',
    });
    expect(parseStateEnvelope('<!-- mesh-upgrade-state:v1 e30= -->')).toEqual({ version: 1, payload: 'e30=', mac: null });
    expect(parseStateEnvelope('no block')).toBeNull();
    expect(isStateComment(`text\n${block}`)).toBe(true);
    expect(trailingStateBlock(`text\n${block}\n`)).toBe(block);
    expect(trailingStateBlock('text')).toBe('');
    expect(elideStateBlock(`## Plan\n${block}\n`)).toBe('## Plan\n<!-- state -->\n');
    expect(elideStateBlock('no block')).toBe('no block');
  });

  it('reply and gate-failure markers, and phase labels', () => {
    expect(replyMarker(42)).toBe('<!-- mesh-upgrade-reply:42 -->');
    expect(handoverMarker('gate-failed:gateways:abc')).toBe('<!-- mesh-upgrade-handover:gate-failed:gateways:abc -->');
    expect(handoverMarker('paused:x --> <b>')).toBe('<!-- mesh-upgrade-handover:paused:x_--___b_ -->');
    expect(phaseLabels('workloads-2')).toEqual(['mesh-upgrade', 'mesh-upgrade:workloads']);
    expect(phaseLabels('control-plane')).toEqual(['mesh-upgrade', 'mesh-upgrade:control-plane']);
  });
});

describe('labels', () => {
  it('the upgrade label always comes first, then the configured ones, once each', () => {
    expect(issueLabels()).toEqual(['mesh-upgrade']);
    expect(issueLabels(['mesh-upgrade'])).toEqual(['mesh-upgrade']);
    expect(issueLabels(['team-mesh', 'mesh-upgrade'])).toEqual(['mesh-upgrade', 'team-mesh']);
    expect(phaseLabels('workloads-1', ['team-mesh'])).toEqual(['mesh-upgrade', 'team-mesh', 'mesh-upgrade:workloads']);
  });
});
