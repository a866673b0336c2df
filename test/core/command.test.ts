import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/core/command.js';

describe('parseCommand', () => {
  it.each([
    ['/upgrade asm-1140-0', { kind: 'start', revision: 'asm-1140-0', downgrade: false, dryRun: false }],
    [
      '/upgrade canary --version 1.22.1 --cluster prod --canary a,b --dry-run',
      { kind: 'start', revision: 'canary', version: '1.22.1', cluster: 'prod', canary: ['a', 'b'], downgrade: false, dryRun: true },
    ],
    [
      '/upgrade 1-21-2 --downgrade --version=1.21.2',
      { kind: 'start', revision: '1-21-2', version: '1.21.2', downgrade: true, dryRun: false },
    ],
    ['  \n/upgrade status\nthanks!', { kind: 'status' }],
    ['/upgrade continue', { kind: 'continue' }],
    ['/upgrade abort', { kind: 'abort' }],
    ['/upgrade help', { kind: 'help' }],
  ])('reads %j', (body, command) => {
    expect(parseCommand(body)).toEqual({ kind: 'command', command });
  });

  it.each([
    ['> /upgrade asm-1140-0\n\nwhy did this run?', 'a quoted command'],
    ['```\n/upgrade asm-1140-0\n```', 'a fenced command'],
    ['<!-- /upgrade asm-1140-0 -->', 'an HTML comment'],
    ['Please run /upgrade asm-1140-0 later', 'a command not at the start of the first line'],
    ['LGTM\n/upgrade asm-1140-0', 'a command on a later line'],
    ['/upgraded to 1.14', 'another word'],
  ])('ignores %j (%s)', (body) => {
    expect(parseCommand(body)).toEqual({ kind: 'none' });
  });

  it.each([
    ['/upgrade', /needs a target revision/],
    ['/upgrade asm-1140-0 --force', /unknown flag `--force`/],
    ['/upgrade asm-1140-0 --version', /`--version` needs a value/],
    ['/upgrade asm-1140-0 --dry-run=yes', /takes no value/],
    ['/upgrade statsu', /did you mean `status`/],
    ['/upgrade status now', /takes no arguments/],
    ['/upgrade --dry-run asm-1140-0', /comes after the target revision/],
  ])('explains what is wrong with %j', (body, message) => {
    const parsed = parseCommand(body);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.message).toMatch(message);
  });
});
