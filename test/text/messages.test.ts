import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MESSAGE_KEYS, messagesFrom, parseCatalogue } from '../../src/text/messages.js';

const catalogue = readFileSync(new URL('../../templates/replies.md', import.meta.url), 'utf8');

describe('the message catalogue (templates/replies.md)', () => {
  it('holds exactly the messages the code names', () => {
    expect([...parseCatalogue(catalogue).keys()].sort()).toEqual([...MESSAGE_KEYS].sort());
  });

  it('renders values verbatim (Markdown, not HTML), and optional parts only when set', () => {
    const messages = messagesFrom(catalogue);
    expect(messages.say('reply.status', { cluster: 'a<b>', target: 't', status: 'paused', reason: 'x & y', phase: 'P', url: 'u' })).toBe(
      'Upgrade of `a<b>` to `t`: **paused** (x & y). Current phase: P. Details: u',
    );
    expect(messages.say('reply.status', { cluster: 'c', target: 't', status: 'running', reason: null, phase: 'P', url: 'u' })).toBe(
      'Upgrade of `c` to `t`: **running**. Current phase: P. Details: u',
    );
    expect(messages.say('reply.invalid-command', { message: 'unknown flag', help: 'HELP' })).toBe('❌ unknown flag\n\nHELP');
  });

  it('a section keeps its inner blank lines and loses the ones around it', () => {
    expect(parseCatalogue('intro\n\n## a\n\nline 1\n\nline 2\n\n\n## b\nx\n')).toEqual(
      new Map([
        ['a', 'line 1\n\nline 2'],
        ['b', 'x'],
      ]),
    );
  });

  it('refuses a catalogue that lacks a message', () => {
    expect(() => messagesFrom('## reply.error\n❌ {{reason}}\n')).toThrow(/lacks the message/);
  });
});
