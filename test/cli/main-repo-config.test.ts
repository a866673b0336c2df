import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readLocalRepo } from '../../src/adapters/fs/local-repo.js';
import { runCli } from '../../src/cli/main.js';
import { toPlanJson } from '../../src/cli/plan-json.js';
import { planOptionsFor } from '../../src/config/plan-options.js';
import { CONFIG_PATH, parseRepoConfig } from '../../src/config/repo-config.js';
import { parseCommand } from '../../src/core/command.js';
import { planUpgrade } from '../../src/core/plan.js';
import { scopeSnapshot } from '../../src/model/snapshot.js';
import { copyFixture } from '../helpers/fixtures.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/cluster-config/', import.meta.url));

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

interface Json {
  phases: Array<{ id: string; title: string; changes: Array<{ file: string }> }>;
  warnings: Array<{ code: string; file: string | null }>;
}

/** asm-manifests with `.github/mesh-upgrade.yml` holding `config`. */
async function repoWith(config: string): Promise<string> {
  const dir = await copyFixture('asm-manifests');
  await mkdir(join(dir, '.github'), { recursive: true });
  await writeFile(join(dir, CONFIG_PATH), config, 'utf8');
  return dir;
}

async function planJson(dir: string, ...flags: string[]): Promise<Json> {
  const { code, stdout, stderr } = await run('plan', '--repo', dir, '--to', 'asm-1140-0', '--json', ...flags);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as Json;
}

const ids = (plan: Json) => plan.phases.map((p) => p.id);

describe('the CLI reads the repo config', () => {
  it('plans with the defaults when there is none', async () => {
    expect(ids(await planJson(await copyFixture('asm-manifests')))).toEqual([
      'control-plane',
      'gateways',
      'workloads',
      'default-revision',
      'cleanup',
    ]);
  });

  it('uses canary from the file: the canary namespaces get a wave of their own', async () => {
    const plan = await planJson(await repoWith('canary: [payments]\n'));
    expect(ids(plan)).toEqual(['control-plane', 'gateways', 'workloads-1', 'workloads-2', 'default-revision', 'cleanup']);
    expect(plan.phases[2]!.changes.every((c) => c.file.includes('/payments/'))).toBe(true);
  });

  it('uses a cluster canary over the top-level one, like a start', async () => {
    const dir = await repoWith('canary: [bookinfo]\nclusters:\n  - name: prod\n    canary: [payments]\n');
    const plan = await planJson(dir);
    expect(plan.phases[2]!.changes.every((c) => c.file.includes('/payments/'))).toBe(true);
  });

  it('uses podBudget from the file to split the workload waves', async () => {
    expect(ids(await planJson(await repoWith('podBudget: 1\n')))).toEqual([
      'control-plane',
      'gateways',
      'workloads-1',
      'workloads-2',
      'workloads-3',
      'default-revision',
      'cleanup',
    ]);
  });

  it('uses strategy and cleanupMode from the file', async () => {
    expect(ids(await planJson(await repoWith('strategy: tag\ncleanupMode: scale-then-delete\n')))).toEqual([
      'control-plane',
      'gateways',
      'default-revision',
      'workloads',
      'scale-down',
      'cleanup',
    ]);
  });

  it('lets every flag given win over the file', async () => {
    const dir = await repoWith('canary: [payments]\npodBudget: 1\nstrategy: tag\n');
    expect(ids(await planJson(dir, '--canary', '', '--pod-budget', '1000', '--strategy', 'relabel'))).toEqual([
      'control-plane',
      'gateways',
      'workloads',
      'default-revision',
      'cleanup',
    ]);
  });

  it('never reports the config file as a skipped file', async () => {
    const plan = await planJson(await repoWith('podBudget: 100\n'));
    expect(plan.warnings.map((w) => w.file)).not.toContain(CONFIG_PATH);
  });

  it('reads --config FILE instead, outside the repo or inside it (then not reported as skipped)', async () => {
    const outside = join(await mkdtemp(join(tmpdir(), 'mesh-config-')), 'mesh.yml');
    await writeFile(outside, 'podBudget: 1\n', 'utf8');
    const dir = await repoWith('strategy: tag\n');
    expect(ids(await planJson(dir, '--config', outside))).toContain('workloads-3');
    expect(ids(await planJson(dir, '--config', outside))).not.toContain('workloads');
    // The repo's own config file, not read with --config, is still no manifest.
    expect((await planJson(dir, '--config', outside)).warnings.map((w) => w.file)).not.toContain(CONFIG_PATH);

    await mkdir(join(dir, 'ops'));
    await writeFile(join(dir, 'ops/mesh-upgrade.yml'), 'canary: [payments]\n', 'utf8');
    const inside = await planJson(dir, '--config', join(dir, 'ops/mesh-upgrade.yml'));
    expect(ids(inside)).toEqual(['control-plane', 'gateways', 'workloads-1', 'workloads-2', 'default-revision', 'cleanup']);
    expect(inside.warnings.map((w) => w.file)).not.toContain('ops/mesh-upgrade.yml');
    expect(inside.warnings.map((w) => w.file)).not.toContain(CONFIG_PATH);
  });

  it('a missing --config FILE is a usage error', async () => {
    const { code, stderr } = await run(
      'plan',
      '--repo',
      await copyFixture('asm-manifests'),
      '--to',
      'asm-1140-0',
      '--config',
      '/nonexistent/x.yml',
    );
    expect(code).toBe(2);
    expect(stderr).toContain('--config /nonexistent/x.yml');
  });

  it.each([
    ['invalid YAML', 'canary: [payments\n', 'not valid YAML'],
    ['an unknown key', 'podBudgt: 3\n', 'podBudgt'],
    ['a bad value', 'strategy: sideways\n', 'strategy'],
  ])('a config with %s is a usage error and nothing is written', async (_, config, said) => {
    const dir = await repoWith(config);
    const before = await readLocalRepo(dir);
    const rendered = await run('render', '--repo', dir, '--to', 'asm-1140-0', '--through', 'cleanup', '--write');
    expect(rendered.code).toBe(2);
    expect(rendered.stderr).toContain(CONFIG_PATH);
    expect(rendered.stderr).toContain(said);
    expect(await readLocalRepo(dir)).toEqual(before);
    const planned = await run('plan', '--repo', dir, '--to', 'asm-1140-0', '--json');
    expect(planned.code).toBe(2);
    expect(planned.stdout).toBe('');
  });

  it('names the --config file when it does not validate', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'mesh-config-')), 'bad.yml');
    await writeFile(file, 'podBudget: 0\n', 'utf8');
    const { code, stderr } = await run('plan', '--repo', await copyFixture('asm-manifests'), '--to', 'asm-1140-0', '--config', file);
    expect(code).toBe(2);
    expect(stderr).toContain(file);
  });
});

describe('--cluster', () => {
  const twoClusters = 'clusters:\n  - name: prod\n    path: clusters/prod\n    canary: [payments]\n  - name: other\n    path: elsewhere\n';

  it('picks a cluster of the file: its path scopes the plan and its canary is used', async () => {
    const plan = await planJson(await repoWith(twoClusters), '--cluster', 'prod');
    expect(ids(plan)).toEqual(['control-plane', 'gateways', 'workloads-1', 'workloads-2', 'default-revision', 'cleanup']);
    expect(plan.phases.flatMap((p) => p.changes).every((c) => c.file.startsWith('clusters/prod/'))).toBe(true);
  });

  it('with several clusters and none named is a usage error naming them, as the bot refuses it', async () => {
    const { code, stderr } = await run('plan', '--repo', await repoWith(twoClusters), '--to', 'asm-1140-0');
    expect(code).toBe(2);
    expect(stderr).toContain('prod, other');
    expect(stderr).toContain('--cluster');
  });

  it('an unknown cluster is a usage error', async () => {
    const { code, stderr } = await run('plan', '--repo', await repoWith(twoClusters), '--to', 'asm-1140-0', '--cluster', 'staging');
    expect(code).toBe(2);
    expect(stderr).toContain('staging');
  });

  it('--path wins over the cluster path; a --path that is one cluster path picks that cluster', async () => {
    const dir = await repoWith(twoClusters);
    expect(ids(await planJson(dir, '--path', 'clusters/prod'))).toContain('workloads-2');
    const plan = await planJson(dir, '--cluster', 'other', '--path', 'clusters/prod');
    expect(ids(plan)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
  });
});

describe('plan on the example repo', () => {
  it('gives the same phases as the bot plans for /upgrade asm-1140-0', async () => {
    const { stdout, code } = await run('plan', '--repo', EXAMPLE, '--to', 'asm-1140-0', '--json');
    expect(code).toBe(0);
    const cli = JSON.parse(stdout) as Json;

    // The bot's path: the config, the cluster a start resolves, its PlanOptions, the snapshot without the config scoped to the cluster.
    const config = parseRepoConfig(await readFile(join(EXAMPLE, CONFIG_PATH), 'utf8'));
    const parsed = parseCommand('/upgrade asm-1140-0');
    if (parsed.kind !== 'command' || parsed.command.kind !== 'start') throw new Error('not a start');
    const cluster = config.clusters[0]!;
    expect(config.clusters).toHaveLength(1);
    const files = new Map(await readLocalRepo(EXAMPLE));
    files.delete(CONFIG_PATH);
    const bot = toPlanJson(
      planUpgrade(
        scopeSnapshot(files, cluster.path || undefined),
        planOptionsFor(config, { kind: 'start', command: parsed.command, cluster }),
      ),
    );

    expect(cli.phases.map((p) => [p.id, p.title])).toEqual(bot.phases.map((p) => [p.id, p.title]));
    expect(cli).toEqual(JSON.parse(JSON.stringify(bot)));
    // The example's canary (search) gets its wave, and its config file is no skipped manifest.
    expect(ids(cli)).toContain('workloads-1');
    expect(cli.warnings.map((w) => w.file)).not.toContain(CONFIG_PATH);
  });
});
