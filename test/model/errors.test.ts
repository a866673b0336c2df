import { describe, expect, it } from 'vitest';
import { MeshUpgradeError, plainUserText, planHint, said, settingHint, UpgradeRefusedError } from '../../src/model/errors.js';

describe('said: text with hints', () => {
  it('keeps the words as a template literal would, and each hint as it is', () => {
    const text = said`from ${'a'} ${1} ${null}: e.g. ${planHint('1-22-1')} or ${settingHint('path')}.`;
    expect(text).toEqual(['from a 1 null: e.g. ', { kind: 'plan', revision: '1-22-1' }, ' or ', { kind: 'setting', name: 'path' }, '.']);
  });

  it('an error keeps its hints in `text` and says them plainly in `message`', () => {
    const error = new UpgradeRefusedError(said`try ${planHint('1-21-0', { downgrade: true })}; check ${settingHint('path')}.`, 'code');
    expect(error.text).toContainEqual({ kind: 'plan', revision: '1-21-0', downgrade: true });
    expect(error.message).toBe('try 1-21-0 (downgrade); check path.');
    expect(error.message).not.toContain('/upgrade');
    expect(error.code).toBe('code');
    expect(new MeshUpgradeError('plain').text).toEqual(['plain']);
    expect(plainUserText([settingHint('strategy', 'tag')])).toBe('strategy: tag');
  });
});
