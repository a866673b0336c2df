import { describe, expect, it } from 'vitest';
import type { ConfigRepo } from '../../src/adapters/github/ports.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { parseCommand } from '../../src/core/command.js';
import { loadTemplates } from '../../src/text/templates.js';
import type { WorkflowEnv } from '../../src/workflow/context.js';
import { planFor, readRepo, resolveCluster } from '../../src/workflow/repo-view.js';
import { loadFixture } from '../helpers/fixtures.js';

/** A repo whose default branch is `main`; `config` is the text of .github/mesh-upgrade.yml there. */
function envWith(config: string | null) {
  const calls: string[] = [];
  const heads: Record<string, string> = { main: 'a'.repeat(40), release: 'b'.repeat(40) };
  const repo = {
    getDefaultBranch: async () => {
      calls.push('default');
      return 'main';
    },
    getBranchHead: async (branch: string) => {
      calls.push(`head ${branch}`);
      return { sha: heads[branch]!, treeSha: 't' };
    },
    readConfigFile: async (sha: string) => {
      calls.push(`config ${sha.slice(0, 1)}`);
      return config;
    },
  } as unknown as ConfigRepo;
  return { env: { repo } as WorkflowEnv, calls };
}

describe('readRepo: the base branch at its head, with the repo config', () => {
  it('the default branch when no baseBranch is set (three reads)', async () => {
    const { env, calls } = envWith('gate: manual\n');
    const read = await readRepo(env);
    expect(read).toMatchObject({ kind: 'read', view: { base: 'main', head: { sha: 'a'.repeat(40) } } });
    expect(calls).toEqual(['default', 'head main', 'config a']);
  });

  it('baseBranch: the manifests and PRs move to it; the config is the default branch’s', async () => {
    const { env, calls } = envWith('baseBranch: release\n');
    const read = await readRepo(env);
    expect(read).toMatchObject({
      kind: 'read',
      view: { base: 'release', head: { sha: 'b'.repeat(40) }, config: { baseBranch: 'release' } },
    });
    expect(calls).toEqual(['default', 'head main', 'config a', 'head release']);
  });

  it('a config that does not parse is an expected outcome, with the reason', async () => {
    const { env } = envWith('podBuget: 3\n');
    expect(await readRepo(env)).toEqual({ kind: 'bad-config', reason: expect.stringContaining('unknown key `podBuget`') });
  });
});

describe('resolveCluster', () => {
  const messages = loadTemplates().messages;
  it('the only cluster, a named one, or why not', () => {
    const one = parseRepoConfig(null);
    const two = parseRepoConfig('clusters:\n  - name: prod\n  - name: edge\n');
    expect(resolveCluster(messages, one, undefined)).toMatchObject({ kind: 'cluster', cluster: { name: 'default' } });
    expect(resolveCluster(messages, two, 'edge')).toMatchObject({ kind: 'cluster', cluster: { name: 'edge' } });
    expect(resolveCluster(messages, two, undefined)).toEqual({
      kind: 'unknown',
      reason: 'this repo configures several clusters (prod, edge); say which with `--cluster NAME`.',
    });
    expect(resolveCluster(messages, two, 'test')).toEqual({
      kind: 'unknown',
      reason: 'unknown cluster `test`; configured clusters: prod, edge.',
    });
  });
});

describe('planFor: a refusal in the bot’s words', () => {
  const templates = loadTemplates();

  async function refusalOf(fixture: string, comment: string, path: string): Promise<string> {
    const parsed = parseCommand(comment);
    const command = parsed.kind === 'command' ? parsed.command : null;
    if (command?.kind !== 'start') throw new Error(`not a start command: ${comment}`);
    const config = parseRepoConfig(null);
    const env = { messages: templates.messages } as WorkflowEnv;
    const view = { base: 'main', head: { sha: 'a'.repeat(40), treeSha: 't' }, config, snapshot: await loadFixture(fixture) };
    const planned = await planFor(env, view, path, { kind: 'start', command, cluster: config.clusters[0]! });
    if (planned.kind !== 'refused') throw new Error('planned');
    return planned.reason;
  }

  it('suggests the next command as `/upgrade …`, never the CLI', async () => {
    const reason = await refusalOf('asm-manifests', '/upgrade asm-1170-0', '');
    expect(reason).toContain('(e.g. `/upgrade asm-1150-0`), then to asm-1170-0.');
    expect(reason).not.toContain('mesh-upgrade plan');
    const down = await refusalOf('asm-manifests', '/upgrade asm-1120-0', '');
    expect(down).toContain('ask for it explicitly: `/upgrade asm-1120-0 --downgrade`.');
  });

  it('points at the cluster’s path in the repo config, never at --path', async () => {
    const reason = await refusalOf('asm-manifests', '/upgrade asm-1140-0', 'no/such/dir');
    expect(reason).toContain("Check the cluster's `path` in .github/mesh-upgrade.yml.");
    expect(reason).not.toContain('--path');
  });
});
