import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { diffLines } from 'diff';
import { dump } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { PlanOptions } from '../../../src/core/plan-types.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
import { copyFixture, loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import {
  type BuiltObject,
  changedFiles,
  hasKubectl,
  kustomizeBuild,
  objectKey,
  runUpgrade,
  type UpgradeStep,
} from '../../helpers/upgrade-run.js';
import { defaultTag, revisionInjector } from './cluster-webhooks.js';

const FROM = '1-21-4';
const CLUSTER_FILE = 'eksctl/prod-eu-west-1.yaml';
const LEDGER_PATCH = 'apps/payments/ledger-sidecar.yaml';
/** The cluster upgrade the first refusal asks for: the platform team's one-line eksctl bump (1.26 → 1.27). */
const clusterUpgraded = (repo: RepoSnapshot): RepoSnapshot => {
  const text = repo.get(CLUSTER_FILE)!;
  expect(text).toContain('  version: "1.26"');
  return new Map(repo).set(CLUSTER_FILE, text.replace('  version: "1.26"', '  version: "1.27"'));
};

function refusal(run: () => unknown): UpgradeRefusedError {
  try {
    run();
  } catch (error) {
    if (error instanceof UpgradeRefusedError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** Every file under `dir` with its bytes, to prove a refused command wrote nothing. */
async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(dir, path), await readFile(path));
  }
  return out;
}

/** The `-`/`+` lines of a file's change, blank lines left out. */
function diff(before: string | undefined, after: string | undefined): string[] {
  return diffLines(before ?? '', after ?? '').flatMap((part) =>
    part.added || part.removed
      ? part.value
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => `${part.added ? '+' : '-'}${l}`)
      : [],
  );
}

/** What helm-controller renders of the istiod releases: one injector per revision, the default tag where revisionTags has it. */
function injectorsOf(infra: readonly BuiltObject[]) {
  const istiods = (infra as Doc[])
    .filter((o) => o.kind === 'HelmRelease' && o.spec.chart.spec.chart === 'istiod')
    .map((o) => o.spec.values as Doc);
  const tags = istiods.filter((v) => (v.revisionTags ?? []).includes('default')).map((v) => v.revision as string);
  return {
    revisions: istiods.map((v) => v.revision as string),
    tags,
    webhooks: [...istiods.map((v) => revisionInjector(v.revision)), ...tags.map(defaultTag)],
  };
}

describe('EKS cluster behind the target, pinned old sidecar (fixture eks-version-skew)', () => {
  let fixture: RepoSnapshot;
  beforeAll(async () => {
    fixture = await loadFixture('eks-version-skew');
  });

  describe('1. the eksctl cluster (Kubernetes 1.26) is below what Istio 1.22 supports', () => {
    const expected =
      'Istio 1.22 supports Kubernetes 1.27 to 1.30, and the cluster runs Kubernetes 1.26 (eksctl/prod-eu-west-1.yaml). Upgrade the cluster to Kubernetes 1.27 first (Istio 1.21 supports it), then upgrade the mesh.';

    it('planUpgrade refuses with kubernetes-version-unsupported, naming the file, both versions and the order', () => {
      const error = refusal(() => planUpgrade(fixture, { to: '1-22-5' }));
      expect(error.code).toBe('kubernetes-version-unsupported');
      expect(error.message).toBe(expected);
      // The cluster's own version is what counts, not a patch release of the running minor.
      expect(() => planUpgrade(fixture, { to: '1-21-6' })).not.toThrow();
    });

    it('the CLI exits 1 with the refusal on stderr and leaves every file byte-identical (plan --json and render --write)', async () => {
      const dir = await copyFixture('eks-version-skew');
      const before = await filesOf(dir);
      const plan = await cli('plan', '--repo', dir, '--to', '1-22-5', '--json');
      expect(plan).toEqual({ code: 1, stdout: '', stderr: `mesh-upgrade: refused: ${expected}\n` });
      const render = await cli('render', '--repo', dir, '--to', '1-22-5', '--through', 'cleanup', '--write');
      expect(render.code).toBe(1);
      expect(render.stderr).toBe(`mesh-upgrade: refused: ${expected}\n`);
      const after = await filesOf(dir);
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [path, bytes] of before) expect(after.get(path)!.equals(bytes), path).toBe(true);
    });
  });

  describe('2. cluster upgraded to 1.27: Istio 1.23 is in range but the ledger sidecar (proxyv2 1.20.6) is three minors behind', () => {
    it('refuses with proxy-version-skew naming the workload, its image and the patch file', () => {
      const error = refusal(() => planUpgrade(clusterUpgraded(fixture), { to: '1-23-3' }));
      expect(error.code).toBe('proxy-version-skew');
      expect(error.message).toBe(
        'Istio 1.23 serves proxies at most 2 minors older, and the repo pins older sidecars: Deployment payments/ledger (docker.io/istio/proxyv2:1.20.6, apps/payments/ledger-sidecar.yaml). ' +
          'Regenerate them first (istioctl kube-inject with the running release, or remove the written-out sidecar and let the injector add it), or upgrade to 1.22 first.',
      );
    });

    it('a kustomize images override that retags the sidecar to the running release decides instead: 1.23 plans, and the workloads phase moves the override', () => {
      const KUSTOMIZATION = 'apps/payments/kustomization.yaml';
      const repo = clusterUpgraded(fixture);
      const retagged = new Map(repo).set(
        KUSTOMIZATION,
        `${repo.get(KUSTOMIZATION)!}images:\n  - name: docker.io/istio/proxyv2   # the build runs the running release\n    newTag: 1.21.4\n`,
      );
      const plan = planUpgrade(retagged, { to: '1-23-3' });
      expect(plan.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
      const workloads = plan.phases.find((p) => p.id === 'workloads')!;
      expect(diff(retagged.get(KUSTOMIZATION), workloads.files.find((f) => f.path === KUSTOMIZATION)!.content)).toEqual([
        '-    newTag: 1.21.4',
        '+    newTag: 1.23.3',
      ]);
    });

    it('the CLI prints the same refusal', async () => {
      const dir = await copyFixture('eks-version-skew');
      const out = await cli('plan', '--repo', dir, '--to', '1-23-3', '--kubernetes-version', '1.27', '--json');
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr).toMatch(
        /^mesh-upgrade: refused: Istio 1\.23 serves proxies at most 2 minors older, .*apps\/payments\/ledger-sidecar\.yaml\)\. /,
      );
    });
  });

  describe('3. cluster upgraded to 1.27, target 1-22-5 (the sidecar is n-2): a Helm canary', () => {
    const TO = '1-22-5';
    const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];
    let start: RepoSnapshot;
    let steps: UpgradeStep[];
    beforeAll(() => {
      start = clusterUpgraded(fixture);
      steps = runUpgrade(start, { to: TO });
    });

    it('plans from 1-21-4 with Helm, every phase, and warns about the gateway dependsOn and the opted-out ledger', () => {
      const plan = planUpgrade(start, { to: TO });
      const json = toPlanJson(plan);
      expect(json.from).toEqual({ revision: FROM, version: '1.21.4' });
      expect(json.to).toEqual({ revision: TO, version: '1.22.5' });
      expect(json.install).toBe('helm');
      expect(json.phases.map((p) => p.id)).toEqual(PHASES);
      expect(steps.map((s) => s.phase)).toEqual(PHASES);
      expect(plan.warnings.map((w) => `${w.code} ${w.file}`).sort()).toEqual([
        'flux-depends-on-old-release infrastructure/istio/gateway.yaml',
        'pods-opted-out apps/payments/app.yaml',
      ]);
    });

    it('writes exactly these lines in each phase, nothing else (the eksctl file is never touched)', () => {
      const byPhase = Object.fromEntries(
        steps.map((s) => [
          s.phase,
          Object.fromEntries(
            [...new Set([...s.before.keys(), ...s.after.keys()])]
              .filter((p) => s.before.get(p) !== s.after.get(p))
              .sort()
              .map((p) => [p, diff(s.before.get(p), s.after.get(p))]),
          ),
        ]),
      );
      const copy = start.get('infrastructure/istio/istiod-1-21-4.yaml')!;
      expect(byPhase['control-plane']).toEqual({
        'infrastructure/istio/base.yaml': ['-      version: 1.21.4', '+      version: 1.22.5'],
        'infrastructure/istio/kustomization.yaml': ['+  - istiod-1-22-5.yaml'],
        // The new release is the old one with name, chart version and revision changed, and without the default tag.
        'infrastructure/istio/istiod-1-22-5.yaml': diff(
          undefined,
          copy
            .replaceAll('1-21-4', TO)
            .replace('version: 1.21.4', 'version: 1.22.5')
            .replace('    revisionTags: [default]   # storefront is on istio-injection=enabled\n', ''),
        ),
      });
      expect(byPhase.gateways).toEqual({
        'infrastructure/istio/gateway.yaml': [
          '-      version: 1.21.4',
          '+      version: 1.22.5',
          '-    revision: 1-21-4',
          '+    revision: 1-22-5',
        ],
      });
      const restart = ['+      annotations:', `+        mesh-upgrade-bot.io/restarted-for-revision: ${TO}`];
      expect(byPhase.workloads).toEqual({
        'apps/payments/app.yaml': ['-    istio.io/rev: 1-21-4', `+    istio.io/rev: ${TO}`, ...restart],
        'apps/payments/ledger-sidecar.yaml': [
          '-          image: docker.io/istio/proxyv2:1.20.6',
          '+          image: docker.io/istio/proxyv2:1.22.5',
          '-            - istiod-1-21-4.istio-system.svc:15012',
          '+            - istiod-1-22-5.istio-system.svc:15012',
          '-              value: istiod-1-21-4.istio-system.svc:15012',
          '+              value: istiod-1-22-5.istio-system.svc:15012',
        ],
        'apps/storefront/app.yaml': [
          '-    istio-injection: enabled   # follows the `default` tag',
          `+    istio.io/rev: ${TO}   # follows the \`default\` tag`,
          ...restart,
        ],
      });
      expect(byPhase['default-revision']).toEqual({
        'infrastructure/istio/istiod-1-21-4.yaml': [
          '-    revisionTags: [default]   # storefront is on istio-injection=enabled',
          '+    revisionTags: []   # storefront is on istio-injection=enabled',
        ],
        'infrastructure/istio/istiod-1-22-5.yaml': ['+    revisionTags: [default]'],
      });
      expect(Object.keys(byPhase.cleanup!)).toEqual(['infrastructure/istio/istiod-1-21-4.yaml', 'infrastructure/istio/kustomization.yaml']);
      const tagless = copy.replace('revisionTags: [default]', 'revisionTags: []');
      expect(byPhase.cleanup!['infrastructure/istio/istiod-1-21-4.yaml']).toEqual(diff(tagless, undefined));
      expect(byPhase.cleanup!['infrastructure/istio/kustomization.yaml']).toEqual(['-  - istiod-1-21-4.yaml']);
      for (const s of steps) expect(s.after.get(CLUSTER_FILE), s.phase).toBe(start.get(CLUSTER_FILE));
    });

    it.skipIf(!hasKubectl)('after every phase: one injector per meshed pod, one default tag, nothing removed before cleanup', async () => {
      const initial = new Set((await kustomizeBuild(start, 'infrastructure/istio')).map(objectKey));
      const seen: Array<[string, string[], string[], Record<string, string>]> = [];
      for (const step of steps) {
        const infra = await kustomizeBuild(step.after, 'infrastructure/istio');
        const apps = await kustomizeBuild(step.after, 'apps');
        const keys = new Set(infra.map(objectKey));
        const removed = [...initial].filter((k) => !keys.has(k));
        expect(removed, step.phase).toEqual(step.phase === 'cleanup' ? [`HelmRelease/istio-system/istiod-${FROM}`] : []);
        const { revisions, tags, webhooks } = injectorsOf(infra);
        const gateway = (infra as Doc[]).find((o) => o.kind === 'HelmRelease' && o.metadata.name === 'istio-ingress')!.spec.values
          .revision as string;
        expect(revisions, step.phase).toContain(gateway);
        const objects = [...apps, ...webhooks] as never;
        const served: Record<string, string> = {};
        for (const [ns, app] of [
          ['storefront', 'web'],
          ['payments', 'checkout'],
        ] as const) {
          const hits = injectorsFor(objects, ns, { app });
          expect(hits, `${ns} after ${step.phase}`).toHaveLength(1);
          served[ns] = hits[0]!.split(' -> ')[1]!;
        }
        // The pre-injected ledger is never sent to an injector (it would get a second proxy), and reporting is not meshed.
        expect(injectorsFor(objects, 'payments', { app: 'ledger', 'sidecar.istio.io/inject': 'false' }), step.phase).toEqual([]);
        expect(injectorsFor(objects, 'reporting', {}), step.phase).toEqual([]);
        seen.push([step.phase, revisions, tags, served]);
      }
      const old = `istiod-${FROM}`;
      const neu = `istiod-${TO}`;
      expect(seen).toEqual([
        ['control-plane', [FROM, TO], [FROM], { storefront: old, payments: old }],
        ['gateways', [FROM, TO], [FROM], { storefront: old, payments: old }],
        ['workloads', [FROM, TO], [FROM], { storefront: neu, payments: neu }],
        ['default-revision', [FROM, TO], [TO], { storefront: neu, payments: neu }],
        ['cleanup', [TO], [TO], { storefront: neu, payments: neu }],
      ]);
    });

    it('is idempotent: planning after the last phase reports every phase done and writes nothing', () => {
      const again = planUpgrade(steps.at(-1)!.after, { to: TO });
      expect(again.phases.map((p) => [p.id, p.status])).toEqual(PHASES.map((id) => [id, 'done']));
      expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    });

    it('writes schema-valid objects (the sidecar patch is a partial object: the Deployment it builds into is validated)', async () => {
      const changed = changedFiles(steps);
      expect(changed.map((c) => c.path)).toContain(LEDGER_PATCH);
      const report = await validateYamlFiles(changed.filter((c) => c.path !== LEDGER_PATCH));
      expect(report.errors).toEqual([]);
      expect(report.validated.length).toBeGreaterThan(0);
      if (!hasKubectl) return;
      const built = (await kustomizeBuild(steps.at(-1)!.after, 'apps')).filter((o) => o.kind === 'Deployment');
      const ledger = built.find((o) => o.metadata.name === 'ledger') as Doc;
      expect(ledger.spec.template.spec.containers.map((c: Doc) => `${c.name} ${c.image ?? ''}`)).toEqual([
        'istio-proxy docker.io/istio/proxyv2:1.22.5',
        'ledger 123456789012.dkr.ecr.eu-west-1.amazonaws.com/payments/ledger:0.9.7',
      ]);
      const workloads = await validateYamlFiles([{ path: 'built.yaml', content: built.map((o) => dump(o)).join('---\n') }]);
      expect(workloads.errors).toEqual([]);
      expect(workloads.validated).toHaveLength(3);
    });
  });

  describe('4. --kubernetes-version overrides the eksctl manifest, both ways', () => {
    const plan = (repo: RepoSnapshot, options: PlanOptions) => () => planUpgrade(repo, options);

    it('a newer cluster than the manifest says lets the target through; an older one refuses a target the manifest allows', () => {
      // Manifest 1.26 refuses 1.22; the option says the cluster already runs 1.27.
      expect(toPlanJson(planUpgrade(fixture, { to: '1-22-5', kubernetesVersion: '1.27' })).phases.map((p) => p.id)).toEqual([
        'control-plane',
        'gateways',
        'workloads',
        'default-revision',
        'cleanup',
      ]);
      // Manifest 1.27 allows 1.22; the option says the cluster still runs 1.26.
      const down = refusal(plan(clusterUpgraded(fixture), { to: '1-22-5', kubernetesVersion: 'v1.26.15' }));
      expect(down.code).toBe('kubernetes-version-unsupported');
      expect(down.message).toBe(
        'Istio 1.22 supports Kubernetes 1.27 to 1.30, and the cluster runs Kubernetes 1.26 (kubernetesVersion). Upgrade the cluster to Kubernetes 1.27 first (Istio 1.21 supports it), then upgrade the mesh.',
      );
      // Too new for the target: a newer mesh release is the way.
      const up = refusal(plan(fixture, { to: '1-22-5', kubernetesVersion: '1.31' }));
      expect(up.message).toBe(
        'Istio 1.22 supports Kubernetes 1.27 to 1.30, and the cluster runs Kubernetes 1.31 (kubernetesVersion). Upgrade to a newer mesh release (1.24 or later) instead.',
      );
    });

    it('the CLI flag does the same, and a refused run writes nothing', async () => {
      const dir = await copyFixture('eks-version-skew');
      const before = await filesOf(dir);
      const through = await cli('plan', '--repo', dir, '--to', '1-22-5', '--kubernetes-version', '1.27', '--json');
      expect(through.code).toBe(0);
      const json = JSON.parse(through.stdout);
      expect([json.from, json.install, json.phases.map((p: { id: string }) => p.id)]).toEqual([
        { revision: FROM, version: '1.21.4' },
        'helm',
        ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'],
      ]);
      const refused = await cli(
        'render',
        '--repo',
        dir,
        '--to',
        '1-22-5',
        '--kubernetes-version',
        '1.31',
        '--through',
        'control-plane',
        '--write',
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('(kubernetesVersion). Upgrade to a newer mesh release (1.24 or later) instead.');
      const bad = await cli('plan', '--repo', dir, '--to', '1-22-5', '--kubernetes-version', 'one-twenty-seven', '--json');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("kubernetesVersion 'one-twenty-seven' is not a Kubernetes version");
      const after = await filesOf(dir);
      expect(after.size).toBe(before.size);
      for (const [path, bytes] of before) expect(after.get(path)!.equals(bytes), path).toBe(true);
    });
  });
});
