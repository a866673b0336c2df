import { describe, expect, it } from 'vitest';
import { parseRevision } from '../../src/core/revision.js';
import { evaluateUpgradePolicy } from '../../src/core/upgrade-policy.js';
import { planHint } from '../../src/model/errors.js';

const rev = (name: string, version?: string) => parseRevision(name, version);

describe('evaluateUpgradePolicy', () => {
  it('allows one minor', () => {
    expect(evaluateUpgradePolicy(rev('asm-1130-0'), rev('asm-1140-0'))).toEqual({ kind: 'allow', direction: 'upgrade', warnings: [] });
  });

  it('allows two minors with a warning', () => {
    const decision = evaluateUpgradePolicy(rev('1-20-3'), rev('1-22-1'));
    expect(decision).toMatchObject({ kind: 'allow', direction: 'upgrade', warnings: [{ code: 'skip-two-minors' }] });
  });

  it('refuses three minors and names the intermediate release', () => {
    const decision = evaluateUpgradePolicy(rev('asm-1130-0'), rev('asm-1160-0'));
    expect(decision).toMatchObject({ kind: 'refuse', code: 'skip-too-many-minors' });
    // A plan to suggest, said by the bot (`/upgrade asm-1150-0`) or the CLI (`mesh-upgrade plan --to asm-1150-0`).
    expect(decision.kind === 'refuse' && decision.reason).toContainEqual(planHint('asm-1150-0'));
  });

  it('refuses a downgrade unless asked for, then applies the same skip limit', () => {
    expect(evaluateUpgradePolicy(rev('1-22-1'), rev('1-21-2'))).toMatchObject({ kind: 'refuse', code: 'downgrade-not-requested' });
    expect(evaluateUpgradePolicy(rev('1-22-1'), rev('1-21-2'), { downgrade: true })).toMatchObject({
      kind: 'allow',
      direction: 'downgrade',
    });
    expect(evaluateUpgradePolicy(rev('1-22-1'), rev('1-18-0'), { downgrade: true })).toMatchObject({
      kind: 'refuse',
      code: 'skip-too-many-minors',
    });
  });

  it('treats the same revision as a no-op and a patch bump as an upgrade', () => {
    expect(evaluateUpgradePolicy(rev('1-22-1'), rev('1-22-1'))).toMatchObject({ kind: 'noop' });
    expect(evaluateUpgradePolicy(rev('1-22-1'), rev('1-22-3'))).toMatchObject({ kind: 'allow', direction: 'upgrade' });
    expect(evaluateUpgradePolicy(rev('1-22-1'), rev('canary', '1.22.1'))).toMatchObject({ kind: 'allow', direction: 'same-version' });
  });

  it('refuses releases without revisions and major changes', () => {
    expect(evaluateUpgradePolicy(rev('1-6-8'), rev('x', '1.5.10'), { downgrade: true })).toMatchObject({
      kind: 'refuse',
      code: 'unsupported-version',
    });
    expect(evaluateUpgradePolicy(rev('1-22-1'), rev('x', '2.0.0'))).toMatchObject({ kind: 'refuse' });
  });

  it('warns instead of guessing when the current release is unknown', () => {
    const decision = evaluateUpgradePolicy({ name: 'stable', version: null, flavor: 'named' }, rev('1-22-1'));
    expect(decision).toMatchObject({ kind: 'allow', warnings: [{ code: 'version-unknown' }] });
  });
});
