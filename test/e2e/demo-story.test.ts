import { describe, expect, it } from 'vitest';
import { runDemo } from '../../demo/run.js';

// What `npm run demo` prints (README, "The demo and its transcript"): by default the story told once
// (one line per comment, pull request and gate decision; the plan comment at the start and the end;
// the bot's replies, refusals included, in full); `--verbose` everything. The closing lines are the same.

async function demo(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDemo(args, { out: (t) => void out.push(t), err: (t) => void err.push(t) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern, 'gm')) ?? []).length;

describe('npm run demo', () => {
  it('tells the story once: one line per event, the plan comment at the start and the end', async () => {
    const { code, stdout, stderr } = await demo(['--scenario', 'happy']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(count(stdout, /^📋 Plan comment on #1:$/)).toBe(1);
    expect(count(stdout, /^📋 Plan comment on #1 at the end:$/)).toBe(1);
    // Every PR on one line (no bodies), every merge, command and gate decision on its own.
    expect(count(stdout, /^📬 @mesh-upgrade-bot\[bot\] opens #\d+: mesh-upgrade\(prod\): \d\/6 .* \(\d+ files?\)$/)).toBe(6);
    expect(count(stdout, /^🔀 @alice merges #\d+$/)).toBe(6);
    expect(count(stdout, /^💬 @alice on #1: \/upgrade continue$/)).toBe(6);
    expect(count(stdout, /^🚦 [a-z0-9-]+: passed — /)).toBe(6);
    expect(stdout).toMatch(/^🏁 the upgrade on #1 is completed$/m);
    expect(stdout).not.toContain('## Install control plane'); // a PR body
    // The closing lines other tools read are unchanged.
    expect(stdout).toMatch(
      /\n■ final: completed; 6 pull request\(s\); \d+ GitHub requests\n {2}gateways: \d+ GitHub requests from gate pass to pull request opened\n/,
    );
    expect(stdout.split('\n').length).toBeLessThan(200);
  }, 120_000);

  it('--verbose prints everything: the story, plus the plan comment after every step and each PR body', async () => {
    // One at a time: each demo routes the process's HTTP to its own simulated GitHub.
    const { code, stdout } = await demo(['--scenario', 'happy', '--verbose']);
    const story = await demo(['--scenario', 'happy']);
    expect(code).toBe(0);
    expect(count(stdout, /^📋 Plan comment on #1:$/)).toBe(13);
    expect(count(stdout, /^📬 Pull request #\d+: /)).toBe(6);
    expect(stdout).toContain('## Install control plane asm-1140-0 beside asm-1130-0');
    // Every line the story tells is there too (gate decisions, the bot's comments, status changes).
    for (const line of story.stdout.split('\n').filter((l) => /^(🚦|🤖|🏁|📝|💬|🔀) /u.test(l))) expect(stdout).toContain(line);
    expect(stdout).toMatch(/\n■ final: completed; 6 pull request\(s\); \d+ GitHub requests\n/);
  }, 120_000);

  it.each([
    [
      'unauthorized',
      /^🤖 @mesh-upgrade-bot\[bot\] on #1: ❌ `\/upgrade` needs \*\*write\*\* permission on this repository\. Nothing was changed\.$/m,
    ],
    [
      'downgrade',
      /^🤖 @mesh-upgrade-bot\[bot\] on #1: ❌ Refused: asm-1120-0 .* is older than the running asm-1130-0 .*: `\/upgrade asm-1120-0 --downgrade`\.$/m,
    ],
  ])(
    '%s: prints the refusal reply once',
    async (scenario, reply) => {
      const { code, stdout } = await demo(['--scenario', scenario]);
      expect(code).toBe(0);
      expect(count(stdout, reply)).toBe(1);
      expect(count(stdout, /^🤖 /)).toBe(count(stdout, /^🤖 @mesh-upgrade-bot\[bot\] on #\d+: /));
    },
    120_000,
  );

  it('--quiet and --verbose exclude each other', async () => {
    expect(await demo(['--quiet', '--verbose'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'demo: --quiet and --verbose exclude each other',
    });
  });
});
