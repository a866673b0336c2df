import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readLocalRepo } from '../../src/adapters/fs/local-repo.js';
import { runCli } from '../../src/cli/main.js';
import { toPlanJson } from '../../src/cli/plan-json.js';
import { planUpgrade } from '../../src/core/plan.js';
import { scopeSnapshot } from '../../src/model/snapshot.js';
import { copyFixture, FIXTURES_DIR } from '../helpers/fixtures.js';

async function runWith(colour: boolean, argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), colour });
  return { code, stdout, stderr };
}
const run = (...argv: string[]) => runWith(false, argv);
/** As on a terminal without NO_COLOR. */
const runOnTerminal = (...argv: string[]) => runWith(true, argv);
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is looked for
const ANSI = /\u001b\[[0-9;]*m/g;

/** The `plan --json` contract, exactly as documented. */
const PlanJson = z.strictObject({
  from: z.strictObject({ revision: z.string().nullable(), version: z.string().nullable() }),
  to: z.strictObject({ revision: z.string(), version: z.string().nullable() }),
  install: z.enum(['manifests', 'istio-operator', 'helm', 'external']),
  phases: z.array(
    z.strictObject({
      id: z.string(),
      title: z.string(),
      status: z.enum(['pending', 'done']),
      changes: z.array(
        z.strictObject({
          action: z.enum(['create', 'update', 'delete']),
          file: z.string(),
          kind: z.string(),
          namespace: z.string().nullable(),
          name: z.string(),
        }),
      ),
      manual: z.array(z.string()),
      estimatedMinutes: z.number(),
    }),
  ),
  warnings: z.array(z.strictObject({ code: z.string(), message: z.string(), file: z.string().nullable() })),
});

const fixture = (name: string) => join(FIXTURES_DIR, name);

describe('mesh-upgrade plan', () => {
  it('prints exactly one JSON object that follows the contract', async () => {
    const { code, stdout } = await run('plan', '--repo', fixture('asm-manifests'), '--to', 'asm-1140-0', '--json');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const plan = PlanJson.parse(JSON.parse(stdout));
    expect(plan.from).toEqual({ revision: 'asm-1130-0', version: '1.13.0-asm.0' });
    expect(plan.to).toEqual({ revision: 'asm-1140-0', version: '1.14.0-asm.0' });
    expect(plan.install).toBe('manifests');
    expect(plan.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
  });

  it('prints a readable plan with phases, manual steps and warnings', async () => {
    const { code, stdout } = await run('plan', '--repo', fixture('asm-manifests'), '--to', 'asm-1140-0');
    expect(code).toBe(0);
    expect(stdout).toContain('Upgrade asm-1130-0 (1.13.0-asm.0) → asm-1140-0 (1.14.0-asm.0)');
    expect(stdout).toContain('manual: ');
    expect(stdout).toContain('[pods-opted-out]');
  });

  it('takes --kubernetes-version and refuses a target that does not support it, with the reason on stderr', async () => {
    const refused = await run('plan', '--repo', fixture('asm-manifests'), '--to', 'asm-1140-0', '--kubernetes-version', '1.27');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'Istio 1.14 supports Kubernetes 1.21 to 1.24, and the cluster runs Kubernetes 1.27 (kubernetesVersion).',
    );
    expect((await run('plan', '--repo', fixture('asm-manifests'), '--to', 'asm-1140-0', '--kubernetes-version', '1.24')).code).toBe(0);
  });

  it('takes --platform for the asmcli flags of manual installs, and refuses other values', async () => {
    const multicloud = await run('plan', '--repo', fixture('asm-manifests'), '--to', 'asm-1140-0', '--platform', 'multicloud');
    expect(multicloud.code).toBe(0);
    expect(multicloud.stdout).toContain('--platform multicloud --kubeconfig KUBECONFIG --fleet_id FLEET_PROJECT_ID');
    expect(multicloud.stdout).not.toContain('--project_id');
    const gke = await run('plan', '--repo', fixture('asm-manifests'), '--to', 'asm-1140-0', '--platform', 'gke');
    expect(gke.stdout).toContain('--project_id PROJECT_ID --cluster_name CLUSTER_NAME --cluster_location CLUSTER_LOCATION');
    const wrong = await run('plan', '--repo', fixture('asm-manifests'), '--to', 'asm-1140-0', '--platform', 'onprem');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("--platform is gke or multicloud, not 'onprem'");
    expect((await run('plan', '--help')).stdout).toContain('--platform P');
  });

  it('on a terminal: colours the text, same words; --json stays exactly the contract, never coloured', async () => {
    const args = ['plan', '--repo', fixture('rendered-kustomize-patches'), '--to', '1-22-1'];
    const plain = await run(...args);
    const coloured = await runOnTerminal(...args);
    expect(plain.stdout).not.toMatch(ANSI);
    expect(coloured.stdout).toMatch(ANSI);
    expect(coloured.stdout.replace(ANSI, '')).toBe(plain.stdout);
    const json = await run(...args, '--json');
    expect((await runOnTerminal(...args, '--json')).stdout).toBe(json.stdout);
    const plan = planUpgrade(scopeSnapshot(await readLocalRepo(fixture('rendered-kustomize-patches')), undefined), { to: '1-22-1' });
    expect(json.stdout).toBe(`${JSON.stringify(toPlanJson(plan))}\n`);
  });

  it('puts the errors in waiting first and ends with a summary line', async () => {
    const { stdout } = await run('plan', '--repo', fixture('rendered-kustomize-patches'), '--to', '1-22-1');
    const lines = stdout.trimEnd().split('\n');
    expect(lines.findIndex((l) => l.startsWith('Fix before merging (1)'))).toBeLessThan(lines.indexOf('Other warnings (4):'));
    expect(lines.at(-1)).toMatch(
      /^\d+ phases \(\d+ pending, \d+ done\) · \d+ files to change · \d+ pods to restart · 5 warnings \(1 to fix before merging\)$/,
    );
  });

  it('limits the plan to --path', async () => {
    const { code, stdout } = await run(
      'plan',
      '--repo',
      fixture('asm-manifests'),
      '--to',
      'asm-1140-0',
      '--path',
      'clusters/prod/apps',
      '--json',
    );
    expect(code).toBe(0);
    expect(PlanJson.parse(JSON.parse(stdout)).install).toBe('external');
  });

  it('refuses a rollback of a revision the repo never ran, suggesting the upgrade instead', async () => {
    const { code, stderr } = await run('plan', '--repo', fixture('asm-manifests'), '--to', 'asm-1140-0', '--rollback');
    expect(code).toBe(1);
    expect(stderr).toContain('nothing to roll back: asm-1140-0 is not in the repo');
    expect(stderr).toMatch(/'mesh-upgrade plan --repo \S+ --to asm-1140-0' plans the upgrade instead\./);
  });

  it.each([
    [['--to', 'Asm-1140-0'], 1, /invalid revision 'Asm-1140-0'/],
    [['--to', 'asm-1170-0'], 1, /skips 3 minor versions.*\(e\.g\. 'mesh-upgrade plan --repo \S+ --to asm-1150-0'\), then to asm-1170-0\./],
    [
      ['--to', 'asm-1120-0'],
      1,
      /older than the running asm-1130-0.*explicitly: 'mesh-upgrade plan --repo \S+ --to asm-1120-0 --downgrade'\./,
    ],
    [
      ['--to', 'asm-managed-rapid', '--version', '1.20.1-asm.1'],
      1,
      /\(e\.g\. 'mesh-upgrade plan --repo \S+ --to asm-1200-1 --version 1\.20\.1-asm\.1'\)/,
    ],
    [['--to', 'asm-1140-0', '--path', 'no/such/dir'], 1, /Check --path \(or the cluster's path in the repo config\)\.$/m],
    [['--to', 'canary'], 1, /pass --version/],
    [['--to', 'asm-1140-0', '--colour'], 2, /Unknown option '--colour'/],
    [['--to', 'asm-1140-0', '--pod-budget', 'lots'], 2, /--pod-budget must be a whole number/],
    [[], 2, /--to REVISION is required/],
  ])('refuses %j with exit %i', async (args, exitCode, message) => {
    const { code, stderr, stdout } = await run('plan', '--repo', fixture('asm-manifests'), ...args);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message);
    // The CLI's reader runs the CLI: no bot command, no repo config key where a flag does.
    expect(stderr).not.toContain('/upgrade');
    expect(stdout).toBe('');
  });

  it('has --help on every command and answers unknown commands with the valid ones', async () => {
    for (const command of ['plan', 'render']) {
      const { code, stdout } = await run(command, '--help');
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: mesh-upgrade ${command}`);
    }
    const unknown = await run('apply');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('valid commands: plan, render');
  });
});

describe('mesh-upgrade plan --rollback', () => {
  it('plans the way back with the same JSON contract, and refuses once cleanup has removed the old revision', async () => {
    const dir = await copyFixture('istio-operator');
    expect((await run('render', '--repo', dir, '--to', '1-22-1', '--through', 'workloads', '--write')).code).toBe(0);
    const { code, stdout } = await run('plan', '--repo', dir, '--to', '1-22-1', '--rollback', '--json');
    expect(code).toBe(0);
    const plan = PlanJson.parse(JSON.parse(stdout));
    expect(plan.from.revision).toBe('1-22-1');
    expect(plan.to.revision).toBe('1-21-2');
    expect(plan.phases.map((p) => [p.id, p.status])).toEqual([
      ['rollback-workloads', 'pending'],
      ['rollback-gateways', 'pending'],
      ['rollback-default-revision', 'done'],
      ['rollback-cleanup', 'pending'],
    ]);
    expect((await run('render', '--repo', dir, '--to', '1-22-1', '--through', 'cleanup', '--write')).code).toBe(0);
    const refused = await run('plan', '--repo', dir, '--to', '1-22-1', '--rollback');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `nothing to roll back to: 1-22-1 is the only revision left in the repo (the cleanup phase already removed the old one). Go back with a new canary instead: 'mesh-upgrade plan --repo ${dir} --to <older revision> --downgrade'.`,
    );
    expect(refused.stderr).not.toContain('/upgrade');
  });
});

describe('mesh-upgrade render', () => {
  it('colours the diff on a terminal only', async () => {
    const args = ['render', '--repo', fixture('istio-operator'), '--to', '1-22-1', '--through', 'gateways'];
    const plain = await run(...args);
    const coloured = await runOnTerminal(...args);
    expect(plain.stdout).not.toMatch(ANSI);
    expect(coloured.stdout).toMatch(ANSI);
    expect(coloured.stdout.replace(ANSI, '')).toBe(plain.stdout);
  });

  it('prints a unified diff without touching the checkout', async () => {
    const dir = await copyFixture('istio-operator');
    const before = await readLocalRepo(dir);
    const { code, stdout } = await run('render', '--repo', dir, '--to', '1-22-1', '--through', 'gateways');
    expect(code).toBe(0);
    expect(stdout).toContain('+++ b/clusters/staging/istio-system/istiocontrolplane-1-22-1.yaml');
    expect(stdout).toContain('-        istio.io/rev: 1-21-2 # bump together with the control plane');
    expect(await readLocalRepo(dir)).toEqual(before);
  });

  it('writes the phases with --write, and a second run changes nothing', async () => {
    const dir = await copyFixture('kustomize-overlays');
    const first = await run('render', '--repo', dir, '--to', '1-21-2', '--through', 'cleanup', '--write');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/wrote \d+ file\(s\)/);
    const after = await readLocalRepo(dir);
    expect(after.has('clusters/prod/istio-system/istiocontrolplane-1-21-2.yaml')).toBe(true);
    expect(after.has('clusters/prod/istio-system/istiocontrolplane-1-20-3.yaml')).toBe(false);
    const second = await run('render', '--repo', dir, '--to', '1-21-2', '--through', 'cleanup', '--write');
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('nothing to change');
    expect(await readLocalRepo(dir)).toEqual(after);
  });

  it('refuses an unknown phase id, listing the valid ones', async () => {
    const { code, stderr } = await run('render', '--repo', fixture('helm-argocd'), '--to', '1-22-1', '--through', 'workloads-7');
    expect(code).toBe(1);
    expect(stderr).toContain(
      "unknown phase 'workloads-7'; this plan's phases are: control-plane, gateways, workloads, default-revision, cleanup",
    );
  });

  it('names the file and line of malformed YAML and writes nothing', async () => {
    const dir = await copyFixture('helm-argocd');
    const broken = join(dir, 'apps/catalog/deploy.yaml');
    await writeFile(broken, `${await readFile(broken, 'utf8')}\n  bad: [unclosed\n`);
    const before = await readLocalRepo(dir);
    const { code, stderr } = await run('render', '--repo', dir, '--to', '1-22-1', '--through', 'cleanup', '--write');
    expect(code).toBe(1);
    expect(stderr).toMatch(/apps\/catalog\/deploy\.yaml:\d+: malformed YAML/);
    expect(await readLocalRepo(dir)).toEqual(before);
  });
});
