import { describe, expect, it } from 'vitest';
import { styleFor, wantsColour } from '../../src/cli/style.js';

describe('wantsColour: colour on a terminal only, as NO_COLOR and FORCE_COLOR say', () => {
  it('colours a terminal, never a pipe or a dumb terminal', () => {
    expect(wantsColour({}, true)).toBe(true);
    expect(wantsColour({}, false)).toBe(false);
    expect(wantsColour({ TERM: 'dumb' }, true)).toBe(false);
  });

  it('NO_COLOR (any non-empty value) turns colour off, even with FORCE_COLOR', () => {
    expect(wantsColour({ NO_COLOR: '1' }, true)).toBe(false);
    expect(wantsColour({ NO_COLOR: '1', FORCE_COLOR: '1' }, true)).toBe(false);
    expect(wantsColour({ NO_COLOR: '' }, true)).toBe(true);
  });

  it('FORCE_COLOR colours a pipe too, unless it is 0 or false', () => {
    expect(wantsColour({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(wantsColour({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(wantsColour({ FORCE_COLOR: 'false' }, true)).toBe(false);
    expect(wantsColour({ FORCE_COLOR: '' }, false)).toBe(false);
  });
});

describe('styleFor', () => {
  it('leaves text as it is without colour, wraps it in ANSI escapes with', () => {
    expect(styleFor(false).red('x')).toBe('x');
    expect(styleFor(true).red('x')).toBe('\u001b[31mx\u001b[39m');
  });
});
