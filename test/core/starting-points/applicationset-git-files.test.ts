import { diffLines } from 'diff';
import { dump } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { toHelmRelease } from '../../../src/core/helm-release-values.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { generatedApplications } from '../../../src/core/sources/applicationset.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];
const OLD = 'mesh/istiod/1-21-2/config.yaml';
const NEW = 'mesh/istiod/1-22-1/config.yaml';

/** The Istio Helm releases as Argo CD would have them: Applications plus what the ApplicationSets generate from the repo's files. */
function releases(repo: RepoSnapshot) {
  const index = buildYamlIndex(repo);
  return [...index.ofKind('Application'), ...generatedApplications(index)]
    .map((o) => toHelmRelease(o))
    .filter((r): r is NonNullable<typeof r> => r !== null);
}

/** Who injects a namespace labelled istio.io/rev=<value>: the istiod with that revision, and every istiod listing it in revisionTags. */
function injectorsOf(repo: RepoSnapshot, value: string): string[] {
  const istiods = releases(repo).filter((r) => r.chart === 'istiod');
  return [
    ...istiods.filter((r) => r.values.revision === value).map((r) => `${r.object.name} (revision)`),
    ...istiods
      .filter((r) => Array.isArray(r.values.revisionTags) && (r.values.revisionTags as unknown[]).includes(value))
      .map((r) => `${r.object.name} (tag ${value})`),
  ];
}

function namespaceLabels(repo: RepoSnapshot): Record<string, string | undefined> {
  return Object.fromEntries(
    buildYamlIndex(repo)
      .ofKind('Namespace')
      .map((n) => [n.name, n.body.metadata.labels?.['istio.io/rev']]),
  );
}

describe('Istio releases from ApplicationSet git generators (fixture applicationset-git-files)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('applicationset-git-files');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO });
  });

  it('reads every generator: params files (matrix git × list, and fasttemplate), directories, the excluded scaffold left out', () => {
    const index = buildYamlIndex(snapshot);
    expect(
      generatedApplications(index)
        .map((o) => o.name)
        .sort(),
    ).toEqual(['edge-ingress', 'istiod-1-21-2', 'tenant-catalog', 'tenant-observability', 'tenant-orders']);
    const found = releases(snapshot).map(
      (r) =>
        `${r.chart} ${r.object.name} ${r.chartVersion} ${JSON.stringify(r.values.revision ?? r.values.defaultRevision)} ${JSON.stringify(r.values.revisionTags ?? null)}`,
    );
    expect(found.sort()).toEqual([
      'base istio-base 1.21.2 "1-21-2" null',
      'gateway edge-ingress 1.21.2 "1-21-2" null',
      'istiod istiod-1-21-2 1.21.2 "1-21-2" ["default"]',
    ]);
    const tenant = generatedApplications(index).find((o) => o.name === 'tenant-orders')!;
    expect(tenant.body.spec).toMatchObject({ source: { path: 'tenants/orders' }, destination: { namespace: 'orders' } });
  });

  it('plans from 1-21-2, Helm, every phase; the params files are not reported as skipped', () => {
    const json = toPlanJson(plan) as { from: { revision: string }; install: string; phases: Array<{ id: string }> };
    expect(json.from.revision).toBe('1-21-2');
    expect(json.install).toBe('helm');
    expect(json.phases.map((p) => p.id)).toEqual(PHASES);
    expect(steps.map((s) => s.phase)).toEqual(PHASES);
    // Only the scaffold the generator excludes is not read.
    expect(plan.warnings.filter((w) => w.code === 'skipped-file').map((w) => w.file)).toEqual(['mesh/istiod/_template/config.yaml']);
  });

  it('edits params files, never the ApplicationSets: a copied file for 1-22-1, tags moved between files, the old file deleted', () => {
    const changes = (id: string) => plan.phases.find((p) => p.id === id)!.changes.map((c) => `${c.action} ${c.file} ${c.name}`);
    expect(changes('control-plane').sort()).toEqual([
      'create mesh/istiod/1-22-1/config.yaml istiod-1-22-1',
      'update argocd/istio-base.yaml istio-base',
    ]);
    expect(changes('gateways')).toEqual(['update mesh/gateways/edge-ingress.yaml edge-ingress']);
    expect(changes('default-revision').sort()).toEqual([
      'update argocd/istio-base.yaml istio-base',
      `update ${OLD} istiod-1-21-2`,
      `update ${NEW} istiod-1-22-1`,
    ]);
    expect(changes('cleanup')).toEqual([`delete ${OLD} istiod-1-21-2`]);
    expect(steps[0]!.after.get(NEW)).toBe(
      '# Control plane 1-22-1 (Istio 1.22.1) — production since 2024-05.\nrevision: 1-22-1\nchart: 1.22.1   # istio/istiod chart version\n# tags this release renders (Helm list, as text)\ntags: "[]"\n',
    );
    for (const step of steps)
      for (const file of ['argocd/istiod.yaml', 'argocd/gateways.yaml', 'argocd/tenants.yaml'])
        expect(step.after.get(file), `${step.phase} ${file}`).toBe(snapshot.get(file));
    const final = steps.at(-1)!.after;
    expect(final.has(OLD)).toBe(false);
    expect(final.get(NEW)).toContain('tags: "[default]"');
  });

  it('after every phase: default rendered by exactly one release, every meshed namespace and the gateway injected by exactly one control plane, istiod-1-21-2 kept until cleanup', () => {
    const states = [{ phase: 'start', repo: snapshot }, ...steps.map((s) => ({ phase: s.phase, repo: s.after }))];
    const seen: string[] = [];
    for (const [i, { phase, repo }] of states.entries()) {
      expect(injectorsOf(repo, 'default').length, `default after ${phase}`).toBe(1);
      for (const [namespace, label] of Object.entries(namespaceLabels(repo))) {
        const hits = label ? injectorsOf(repo, label) : [];
        expect(hits.length, `${namespace} after ${phase}: ${hits.join(', ')}`).toBe(namespace === 'observability' ? 0 : 1);
        seen.push(`${i} ${namespace} ${hits.join('')}`);
      }
      for (const gateway of releases(repo).filter((r) => r.chart === 'gateway'))
        expect(injectorsOf(repo, String(gateway.values.revision)).length, `${gateway.object.name} after ${phase}`).toBe(1);
      const names = releases(repo).map((r) => r.object.name);
      if (phase !== 'cleanup') expect(names, phase).toContain('istiod-1-21-2');
      if (i >= 1) expect(names, phase).toContain('istiod-1-22-1');
    }
    expect(seen).toContain('0 orders istiod-1-21-2 (tag default)');
    expect(seen).toContain('3 orders istiod-1-22-1 (revision)');
    expect(seen).toContain('5 catalog istiod-1-22-1 (revision)');
    expect(injectorsOf(states[4]!.repo, 'default')).toEqual(['istiod-1-22-1 (tag default)']);
  });

  it('is idempotent: planning over the final repo reports every phase done', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
  });

  it('changes only the bytes of the edited nodes (and the added or removed params file)', () => {
    const allowed =
      /^\s*revision: 1-2[12]-[12]|^chart: 1\.2[12]\.[12]|^chart: "1\.2[12]\.[12]"|^tags: "\[(default)?\]"|targetRevision: 1\.2[12]\.[12]$|defaultRevision: 1-2[12]-[12]$|istio\.io\/rev: (1-2[12]-[12]|default)|annotations:$|restarted-for-revision: 1-22-1$|^# (Control plane|tags this release)/;
    for (const step of steps) {
      for (const path of new Set([...step.before.keys(), ...step.after.keys()])) {
        const before = step.before.get(path) ?? '';
        const after = step.after.get(path) ?? '';
        if (before === after) continue;
        for (const part of diffLines(before, after)) {
          if (!part.added && !part.removed) continue;
          for (const line of part.value.split('\n').filter((l) => l.trim() !== '')) expect(line, `${step.phase}: ${path}`).toMatch(allowed);
        }
      }
    }
  });

  it('writes only schema-valid objects, and generates schema-valid Applications', async () => {
    const changed = steps.flatMap((s) =>
      [...s.after]
        .filter(([path, text]) => s.before.get(path) !== text && !path.startsWith('mesh/'))
        .map(([path, content]) => ({ path, content })),
    );
    const generated = steps.map((s, i) => ({
      path: `generated-${i}.yaml`,
      content: generatedApplications(buildYamlIndex(s.after))
        .map((o) => dump(o.body))
        .join('---\n'),
    }));
    const report = await validateYamlFiles([...changed, ...generated]);
    expect(report.errors).toEqual([]);
    expect(report.validated.filter((v) => v.includes('Application istiod-1-22-1')).length).toBeGreaterThan(0);
  });
});

describe('git generators the bot cannot follow are refused, nothing written', () => {
  let snapshot: RepoSnapshot;
  beforeAll(async () => {
    snapshot = await loadFixture('applicationset-git-files');
  });
  const refusal = (repo: RepoSnapshot) => {
    try {
      planUpgrade(repo, { to: TO });
    } catch (error) {
      return error as UpgradeRefusedError;
    }
    throw new Error('planned');
  };
  const edited = (file: string, from: string, to: string) => {
    const repo = new Map(snapshot);
    expect(repo.get(file)).toContain(from);
    repo.set(file, repo.get(file)!.replace(from, to));
    return repo;
  };

  it('a new params file the globs would not read', () => {
    const error = refusal(edited('argocd/istiod.yaml', 'path: mesh/istiod/*/config.yaml', 'path: mesh/istiod/1-21-*/config.yaml'));
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect(error.code).toBe('applicationset-template-value');
    expect(error.message).toContain(
      'would be mesh/istiod/1-22-1/config.yaml, which git.files of ApplicationSet istiod (mesh/istiod/1-21-*/config.yaml) does not match',
    );
  });

  it('a path parameter that would have to change for an existing release (a gateway whose revision is its directory)', () => {
    const repo = edited('argocd/gateways.yaml', "revision: '{{revision}}'", "revision: '{{path.basename}}'");
    repo.set('argocd/gateways.yaml', repo.get('argocd/gateways.yaml')!.replace('"mesh/gateways/*.yaml"', '"mesh/gateways/*/*.yaml"'));
    repo.delete('mesh/gateways/edge-ingress.yaml');
    repo.set('mesh/gateways/1-21-2/edge-ingress.yaml', snapshot.get('mesh/gateways/edge-ingress.yaml')!);
    const error = refusal(repo);
    expect(error.code).toBe('applicationset-template-value');
    expect(error.message).toContain(
      "edge-ingress needs another value at spec.source.helm.valuesObject.revision, which the template decides for every element (the placeholder names path.basename, the params file's path)",
    );
  });

  it('a new release whose revision comes only from the path: the new file is named after it', () => {
    const repo = edited('argocd/istiod.yaml', 'revision: "{{.revision}}"', 'revision: "{{.path.basename}}"');
    repo.set(
      'argocd/istiod.yaml',
      repo.get('argocd/istiod.yaml')!.replace("istio.io/rev: '{{.revision}}'", "istio.io/rev: '{{.path.basename}}'"),
    );
    repo.set(OLD, repo.get(OLD)!.replace('revision: 1-21-2\n', ''));
    const cp = planUpgrade(repo, { to: TO }).phases[0]!;
    const created = cp.files.find((f) => f.path === NEW);
    expect(created?.content).toBe(
      '# Control plane 1-22-1 (Istio 1.22.1) — production since 2024-05.\nchart: 1.22.1   # istio/istiod chart version\n# tags this release renders (Helm list, as text)\ntags: "[]"\n',
    );
  });

  it('a glob that matches no file of the repo, for an ApplicationSet of Istio charts', () => {
    const error = refusal(edited('argocd/istiod.yaml', 'path: mesh/istiod/*/config.yaml', 'path: clusters/edge/istiod/*.yaml'));
    expect(error.code).toBe('applicationset-unsupported');
    expect(error.message).toContain('no file of the repo matches git.files clusters/edge/istiod/*.yaml');
  });
});
