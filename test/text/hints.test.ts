import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planHint, said, settingHint } from '../../src/model/errors.js';
import { CLI_KEYS } from '../../src/text/cli-words.js';
import { sayText } from '../../src/text/hints.js';
import { parseCatalogue } from '../../src/text/messages.js';
import { loadCliWords, loadTemplates } from '../../src/text/templates.js';

const bot = loadTemplates().messages;
const cli = loadCliWords();

describe('a message with hints, said for each reader', () => {
  const skip = said`Upgrade to a 1.15.x release first (e.g. ${planHint('asm-1150-0')}), then to asm-1170-0.`;
  const back = said`Go back with a new canary instead: ${planHint('<older revision>', { downgrade: true })}.`;
  const channel = said`(e.g. ${planHint('asm-1200-1', { version: '1.20.1-asm.1' })})`;
  const path = said`Check ${settingHint('path')}.`;

  it('the bot says commands as `/upgrade …` and settings as keys of .github/mesh-upgrade.yml', () => {
    expect(sayText(skip, bot)).toBe('Upgrade to a 1.15.x release first (e.g. `/upgrade asm-1150-0`), then to asm-1170-0.');
    expect(sayText(back, bot)).toBe('Go back with a new canary instead: `/upgrade <older revision> --downgrade`.');
    expect(sayText(channel, bot)).toBe('(e.g. `/upgrade asm-1200-1 --version 1.20.1-asm.1`)');
    expect(sayText(path, bot)).toBe("Check the cluster's `path` in .github/mesh-upgrade.yml.");
    expect(sayText(said`${settingHint('kubernetesVersion')}`, bot)).toContain('`kubernetesVersion` in .github/mesh-upgrade.yml');
    expect(sayText(said`Use ${settingHint('strategy', 'relabel')}`, bot)).toBe('Use `strategy: relabel` in .github/mesh-upgrade.yml');
    for (const text of [skip, back, channel, path]) expect(sayText(text, bot)).not.toMatch(/--path|mesh-upgrade plan/);
  });

  it('the CLI says commands as `mesh-upgrade plan --to …` and settings as its flags, never `/upgrade …`', () => {
    expect(sayText(skip, cli)).toBe("Upgrade to a 1.15.x release first (e.g. 'mesh-upgrade plan --to asm-1150-0'), then to asm-1170-0.");
    expect(sayText(back, cli)).toBe("Go back with a new canary instead: 'mesh-upgrade plan --to <older revision> --downgrade'.");
    expect(sayText(channel, cli)).toBe("(e.g. 'mesh-upgrade plan --to asm-1200-1 --version 1.20.1-asm.1')");
    expect(sayText(path, cli)).toBe("Check --path (or the cluster's path in the repo config).");
    expect(sayText(said`${settingHint('kubernetesVersion')}`, cli)).toContain('--kubernetes-version');
    expect(sayText(said`Use ${settingHint('strategy', 'relabel')}`, cli)).toBe('Use --strategy relabel');
    for (const text of [skip, back, channel, path]) expect(sayText(text, cli)).not.toContain('/upgrade');
  });
});

describe('the CLI catalogue (templates/cli.md)', () => {
  it('holds exactly the messages the code names', () => {
    const catalogue = readFileSync(new URL('../../templates/cli.md', import.meta.url), 'utf8');
    expect([...parseCatalogue(catalogue).keys()].sort()).toEqual([...CLI_KEYS].sort());
  });
});
