import { describe, expect, it } from 'vitest';
import { actionMarker, newlyTicked, tickedActions, untick } from '../../src/core/sticky-actions.js';

const body = (continueBox: string, abortBox: string) =>
  [
    '**Next:** @alice — check phase 1',
    `- ${continueBox} **Continue**: done ${actionMarker('continue')}`,
    `- ${abortBox} **Abort** ${actionMarker('abort')}`,
    '- [x] a box someone typed, no marker',
    `quoted: - [x] ${actionMarker('abort')}`,
  ].join('\n');

describe('boxes of the sticky comment', () => {
  it('reads which marked boxes are ticked, and only those at the start of a list line', () => {
    expect(tickedActions(body('[ ]', '[ ]'))).toEqual([]);
    expect(tickedActions(body('[x]', '[ ]'))).toEqual(['continue']);
    expect(tickedActions(body('[X]', '[x]'))).toEqual(['continue', 'abort']);
  });

  it('an edit acts only on boxes it ticked (not ones already ticked, not other edits)', () => {
    expect(newlyTicked(body('[ ]', '[ ]'), body('[x]', '[ ]'))).toEqual(['continue']);
    expect(newlyTicked(body('[x]', '[ ]'), body('[x]', '[ ]'))).toEqual([]);
    expect(newlyTicked(body('[x]', '[ ]'), body('[ ]', '[ ]'))).toEqual([]);
    expect(newlyTicked(body('[ ]', '[ ]'), `${body('[ ]', '[ ]')}\nanything`)).toEqual([]);
  });

  it('unticks the boxes acted on and nothing else', () => {
    expect(untick(body('[x]', '[x]'), ['continue', 'abort'])).toBe(body('[ ]', '[ ]'));
    expect(untick(body('[x]', '[x]'), ['abort'])).toBe(body('[x]', '[ ]'));
  });
});
