import { diffLines } from 'diff';
import { beforeAll, describe, expect, it } from 'vitest';
import { discoverMesh } from '../../../src/core/discover.js';
import { isHelmNonRevisioned } from '../../../src/core/phases/helm-nonrevisioned.js';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { renderLocalCharts, withLocalCharts } from '../../../src/core/sources/helm-app-of-apps.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { settingHint, UpgradeRefusedError } from '../../../src/model/errors.js';
import { applyFileChanges, type RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { renderHelmMesh } from '../../helpers/helm-render.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];
const CHART = 'apps/cluster';
const PROD = `${CHART}/values-prod.yaml`;
const DEFAULTS = `${CHART}/values.yaml`;
const OLD_TEMPLATE = `${CHART}/templates/istiod.yaml`;
const NEW_TEMPLATE = `${CHART}/templates/istiod-1-22-1.yaml`;

/** The repo as Argo CD sees it: the local chart rendered with the bot's evaluator. */
function rendered(repo: RepoSnapshot) {
  const files = buildYamlIndex(repo);
  const charts = renderLocalCharts(repo, files);
  return { charts, index: withLocalCharts(files, charts) };
}

/** Who injects each pod (service name), with a bare pod outside git in an istio-injection=enabled namespace. */
function injection(repo: RepoSnapshot): Map<string, string[]> {
  const mesh = renderHelmMesh(repo, rendered(repo).index);
  const objects = [...mesh.objects, { kind: 'Namespace', metadata: { name: 'legacy', labels: { 'istio-injection': 'enabled' } } }];
  const pods = [...mesh.pods, { name: 'legacy/<bare pod>', namespace: 'legacy', labels: {} }];
  return new Map(pods.map((p) => [p.name, injectorsFor(objects as never, p.namespace, p.labels).map((h) => h.split(' -> ')[1]!)]));
}

function changedFiles(step: UpgradeStep): string[] {
  const paths = new Set([...step.before.keys(), ...step.after.keys()]);
  return [...paths].filter((p) => step.before.get(p) !== step.after.get(p)).sort();
}

function diff(step: UpgradeStep, path: string): string[] {
  return diffLines(step.before.get(path) ?? '', step.after.get(path) ?? '')
    .filter((d) => d.added || d.removed)
    .map((d) => `${d.added ? '+' : '-'}${d.value}`);
}

describe('first canary from a non-revisioned istiod rendered by a local chart (fixture helm-app-of-apps-nonrevisioned)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('helm-app-of-apps-nonrevisioned');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO });
  });

  it('plans from revision "default" at the running chart version, Helm, relabelling, every phase', () => {
    expect(plan.from).toEqual({ revision: 'default', version: '1.21.2' });
    expect(plan.to).toEqual({ revision: TO, version: '1.22.1' });
    expect(plan.install).toBe('helm');
    expect(plan.strategy).toBe('relabel');
    expect(plan.phases.map((p) => p.id)).toEqual(PHASES);
    expect(steps.map((s) => s.phase)).toEqual(PHASES);
    expect(plan.warnings.filter((w) => w.code === 'skipped-file')).toEqual([]);
  });

  it('recognises the rendered istiod Application as a non-revisioned Helm release', () => {
    const istiod = plan.inventory.revisions.find((r) => r.name === 'default')!;
    expect(isHelmNonRevisioned(istiod)).toBe(true);
    expect(istiod.helm!.object.file).toBe(OLD_TEMPLATE);
    expect(() => planUpgrade(snapshot, { to: TO, strategy: 'tag' })).toThrow(
      expect.objectContaining({ code: 'strategy-tag-non-revisioned-helm', text: expect.arrayContaining([settingHint('strategy', 'tag')]) }),
    );
  });

  it('plans each phase as the repo gets it when the phases are merged one by one', () => {
    // One plan over the start (the new release is an object created in the plan) and re-plans after each merge
    // (the new template is read from the repo) write the same files.
    let repo: RepoSnapshot = snapshot;
    for (const [i, phase] of plan.phases.entries()) {
      repo = applyFileChanges(repo, phase.files);
      expect(new Map(repo), phase.id).toEqual(new Map(steps[i]!.after));
    }
  });

  it('control-plane adds a template for the new release, copied from the old one with its values key renamed, and the values beside the old ones', () => {
    const cp = steps[0]!;
    expect(changedFiles(cp)).toEqual([NEW_TEMPLATE, PROD]);
    expect(plan.phases[0]!.changes.map((c) => `${c.action} ${c.kind} ${c.name} ${c.file}`)).toEqual([
      `update Application istio-base ${PROD}`,
      `create Application istiod-1-22-1 ${NEW_TEMPLATE}`,
    ]);
    // The copy: every line as in the old template, except the renamed values key and the Application/release name.
    const old = cp.before.get(OLD_TEMPLATE)!;
    const copy = cp.after.get(NEW_TEMPLATE)!;
    expect(
      diffLines(old, copy)
        .filter((d) => d.added || d.removed)
        .map((d) => `${d.added ? '+' : '-'}${d.value}`),
    ).toEqual([
      '-{{- if .Values.istiod.enabled }}\n',
      '+{{- if .Values.istiod_1_22_1.enabled }}\n',
      '-  name: istiod\n',
      '+  name: istiod-1-22-1\n',
      '-    targetRevision: {{ .Values.istiod.version }}\n',
      '+    targetRevision: {{ .Values.istiod_1_22_1.version }}\n',
      '-      releaseName: istiod\n',
      '+      releaseName: istiod-1-22-1\n',
      '-        {{- toYaml .Values.istiod.values | nindent 8 }}\n',
      '+        {{- toYaml .Values.istiod_1_22_1.values | nindent 8 }}\n',
    ]);
    expect(copy.split('\n').length).toBe(old.split('\n').length);
    // The values: base chart first, the old subtree untouched, the new subtree a copy (comments kept) completed from values.yaml.
    const added = diff(cp, PROD);
    expect(added[0]).toBe('-  version: 1.21.2 # CRDs first on upgrades\n');
    expect(added[1]).toBe('+  version: 1.22.1 # CRDs first on upgrades\n');
    expect(added[2]).toBe(
      [
        '+istiod_1_22_1:',
        '  version: 1.22.1',
        '  values:',
        '    pilot:',
        '      autoscaleMin: 3',
        '      resources:',
        '        requests: {cpu: 500m, memory: 2Gi}',
        '    meshConfig:',
        '      accessLogFile: /dev/stdout # TODO: drop once the audit is over',
        '    global:',
        '      proxy:',
        '        resources:',
        '          requests: {cpu: 50m, memory: 128Mi}',
        '    revision: 1-22-1',
        '  enabled: true',
        '',
        '',
      ].join('\n'),
    );
    expect(added).toHaveLength(3);
    expect(cp.after.get(DEFAULTS)).toBe(cp.before.get(DEFAULTS));
  });

  it('renders the new release as a known Application: the old one unchanged, the new one with its own revision, release name and chart version', () => {
    const apps = (repo: RepoSnapshot) =>
      rendered(repo).charts.objects.filter((o) => o.kind === 'Application' && o.name.startsWith('istiod'));
    const [oldBefore] = apps(snapshot);
    const after = apps(steps[0]!.after);
    expect(after.map((a) => `${a.name} ${a.file}`)).toEqual([`istiod-1-22-1 ${NEW_TEMPLATE}`, `istiod ${OLD_TEMPLATE}`]);
    expect(after[1]!.body).toEqual(oldBefore!.body);
    const source = (after[0]!.body.spec as { source: Record<string, unknown> }).source;
    expect(source.targetRevision).toBe('1.22.1');
    expect(source.helm).toEqual({
      releaseName: 'istiod-1-22-1',
      valuesObject: { ...(oldBefore!.body.spec as { source: { helm: { valuesObject: object } } }).source.helm.valuesObject, revision: TO },
    });
  });

  it('keeps exactly one injector on every meshed pod after every phase; revisionTags [default] only from default-revision on; the old istiod until cleanup', () => {
    const states = [{ phase: 'start', repo: snapshot }, ...steps.map((s) => ({ phase: s.phase, repo: s.after }))];
    const who = new Map<string, Map<string, string[]>>();
    for (const { phase, repo } of states) {
      const result = injection(repo);
      who.set(phase, result);
      expect([...result.keys()].sort(), phase).toEqual([
        'istio-ingress/istio-ingress',
        'legacy/<bare pod>',
        'orders/orders-api',
        'search/search',
      ]);
      for (const [pod, hits] of result) expect(hits.length, `${pod} after ${phase}: ${hits.join(', ')}`).toBe(1);
      const mesh = renderHelmMesh(repo, rendered(repo).index);
      const tagged = mesh.releases.filter((r) => r.tags.includes('default'));
      if (['start', 'control-plane', 'gateways', 'workloads'].includes(phase)) expect(tagged, phase).toEqual([]);
      else
        expect(
          tagged.map((r) => `${r.name} ${r.revision}`),
          phase,
        ).toEqual([`istiod-1-22-1 ${TO}`]);
      // Exactly one release serves istio-injection=enabled in every state.
      expect(
        mesh.releases.filter((r) => (r.revision === '' && r.injector) || r.tags.includes('default')),
        phase,
      ).toHaveLength(1);
      const names = mesh.releases.map((r) => r.name).sort();
      if (phase === 'start') expect(names).toEqual(['istiod']);
      else if (phase === 'cleanup') expect(names).toEqual(['istiod-1-22-1']);
      else expect(names, phase).toEqual(['istiod', 'istiod-1-22-1']);
    }
    const on = (phase: string, pod: string) => who.get(phase)!.get(pod)![0];
    expect(on('control-plane', 'istio-ingress/istio-ingress')).toBe('istiod');
    expect(on('gateways', 'istio-ingress/istio-ingress')).toBe(`istiod-${TO}`);
    for (const pod of ['orders/orders-api', 'search/search']) {
      expect(on('gateways', pod)).toBe('istiod');
      expect(on('workloads', pod)).toBe(`istiod-${TO}`);
    }
    expect(on('workloads', 'legacy/<bare pod>')).toBe('istiod');
    expect(on('default-revision', 'legacy/<bare pod>')).toBe(`istiod-${TO}`);
  });

  it('maps the default-revision edits to both subtrees in one commit, and the base chart', () => {
    const handover = steps.find((s) => s.phase === 'default-revision')!;
    expect(changedFiles(handover)).toEqual([PROD, DEFAULTS].sort());
    expect(diff(handover, PROD)).toEqual(['+      operatorManageWebhooks: true\n', '+    revisionTags: [default]\n']);
    const prod = handover.after.get(PROD)!;
    expect(prod.indexOf('operatorManageWebhooks')).toBeLessThan(prod.indexOf('istiod_1_22_1:'));
    expect(prod.indexOf('revisionTags')).toBeGreaterThan(prod.indexOf('istiod_1_22_1:'));
    expect(diff(handover, DEFAULTS)).toEqual(['-  defaultRevision: default\n', '+  defaultRevision: 1-22-1\n']);
  });

  it('removes nothing before cleanup; cleanup turns the old release off by its enable flag, and the chart keeps base and the new release', () => {
    for (const step of steps.slice(0, -1))
      for (const path of step.before.keys()) expect(step.after.has(path), `${path} after ${step.phase}`).toBe(true);
    const cleanup = steps.at(-1)!;
    expect(changedFiles(cleanup)).toEqual([PROD]);
    expect(diff(cleanup, PROD)).toEqual(['+  enabled: false\n']);
    expect(cleanup.after.has(OLD_TEMPLATE)).toBe(true);
    const phase = plan.phases.find((p) => p.id === 'cleanup')!;
    expect(phase.changes.map((c) => `${c.action} ${c.kind} ${c.name} ${c.file}`)).toEqual([`delete Application istiod ${PROD}`]);
    expect(phase.why).toContain('`istiod` Service');
    const names = rendered(cleanup.after)
      .charts.objects.filter((o) => o.kind === 'Application')
      .map((o) => o.name)
      .sort();
    expect(names).toEqual(['fluent-bit', 'istio-base', 'istio-ingress', 'istiod-1-22-1', 'workloads']);
  });

  it('is idempotent: planning over the final repo reports every phase done and no files; the new template is the current release', () => {
    const final = steps.at(-1)!.after;
    const again = planUpgrade(final, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    // A later upgrade starts from the copied template's release, the only control plane left.
    const mesh = discoverMesh(rendered(final).index);
    expect(mesh.revisions.map((r) => `${r.name} ${r.install} ${r.version} ${r.helm?.object.file}`)).toEqual([
      `${TO} helm 1.22.1 ${NEW_TEMPLATE}`,
    ]);
  });

  it('writes only the edited nodes: every changed line is one the upgrade means', () => {
    const allowed =
      /1-22-1|1\.22\.1|1\.21\.2|istio-injection|restarted-for-revision|annotations:|operatorManageWebhooks|revisionTags|enabled: false|defaultRevision: default|revision: ""|^\s*$/;
    for (const step of steps.filter((s) => s.phase !== 'control-plane')) {
      for (const path of changedFiles(step)) {
        for (const part of diff(step, path))
          for (const line of part
            .slice(1)
            .split('\n')
            .filter((l) => l.trim() !== ''))
            expect(line, `${step.phase}: ${path}`).toMatch(allowed);
      }
    }
  });

  it('renders schema-valid Applications and Namespaces after every phase', async () => {
    for (const step of steps) {
      const { objects } = rendered(step.after).charts;
      const report = await validateYamlFiles([
        { path: `rendered-${step.phase}.yaml`, content: objects.map((o) => JSON.stringify(o.body)).join('\n---\n') },
      ]);
      expect(report.errors, step.phase).toEqual([]);
      expect(report.validated.length, step.phase).toBeGreaterThan(4);
    }
  });

  it('deletes the old template at cleanup when it has no enable flag (and renders nothing else)', () => {
    const repo = new Map(snapshot);
    repo.set(
      OLD_TEMPLATE,
      snapshot
        .get(OLD_TEMPLATE)!
        .replace('{{- if .Values.istiod.enabled }}\n', '')
        .replace(/\{\{- end \}\}\n$/, ''),
    );
    const flagless = runUpgrade(repo, { to: TO });
    expect(flagless.map((s) => s.phase)).toEqual(PHASES);
    const cleanup = flagless.at(-1)!;
    expect(changedFiles(cleanup)).toEqual([OLD_TEMPLATE]);
    expect(cleanup.after.has(OLD_TEMPLATE)).toBe(false);
    expect(flagless[0]!.after.get(NEW_TEMPLATE)).not.toContain('{{- if');
    const again = planUpgrade(cleanup.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done' && p.files.length === 0)).toBe(true);
  });

  it('also gives a revisioned release rendered from scalar values its copied template (the state a later upgrade starts from)', () => {
    // The chart after a first canary, as a person would have written it: one istiod-1-21-2 template, no list.
    const repo = new Map(snapshot);
    repo.set(
      OLD_TEMPLATE,
      snapshot
        .get(OLD_TEMPLATE)!
        .replace('name: istiod\n', 'name: istiod-1-21-2\n')
        .replace('releaseName: istiod\n', 'releaseName: istiod-1-21-2\n')
        .replace('      prune: true\n', ''),
    );
    repo.set(
      PROD,
      snapshot
        .get(PROD)!
        .replace('  values:\n    pilot:\n', '  values:\n    revision: 1-21-2\n    revisionTags: [default]\n    pilot:\n')
        .replace(/istio-injection: "?enabled"?/g, 'istio.io/rev: 1-21-2'),
    );
    repo.set(
      DEFAULTS,
      snapshot.get(DEFAULTS)!.replace('revision: ""', 'revision: 1-21-2').replace('defaultRevision: default', 'defaultRevision: 1-21-2'),
    );
    const run = runUpgrade(repo, { to: TO });
    expect(run.map((s) => s.phase)).toEqual(PHASES);
    const releases = (r: RepoSnapshot) =>
      renderHelmMesh(r, rendered(r).index)
        .releases.map((x) => `${x.name} ${x.revision} [${x.tags.join(',')}]`)
        .sort();
    expect(releases(run[0]!.after)).toEqual(['istiod-1-21-2 1-21-2 [default]', 'istiod-1-22-1 1-22-1 []']);
    expect(releases(run.at(-1)!.after)).toEqual(['istiod-1-22-1 1-22-1 [default]']);
    expect(run.at(-1)!.after.get(PROD)).toContain('istiod_1_22_1:');
    const again = planUpgrade(run.at(-1)!.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done' && p.files.length === 0)).toBe(true);
    // With auto-prune written in the template, the tag handover (prune paused on the old release) cannot be written.
    const pruning = new Map(repo).set(
      OLD_TEMPLATE,
      snapshot
        .get(OLD_TEMPLATE)!
        .replace('name: istiod\n', 'name: istiod-1-21-2\n')
        .replace('releaseName: istiod\n', 'releaseName: istiod-1-21-2\n'),
    );
    expect(() => planUpgrade(pruning, { to: TO })).toThrow(/syncPolicy\.automated\.prune is written in the template/);
  });

  it('refuses, writing nothing, when a second Application renders the same chart (the new template would render in both)', () => {
    const repo = new Map(snapshot);
    const staging = snapshot
      .get('bootstrap/root.yaml')!
      .replace('name: cluster-apps', 'name: cluster-apps-staging')
      .replace(
        '        - values-prod.yaml # prod only\n',
        '      valuesObject:\n        base: {enabled: false}\n        istiod: {enabled: false}\n        gateway: {enabled: false}\n',
      );
    repo.set('bootstrap/staging.yaml', staging);
    expect(() => planUpgrade(repo, { to: TO })).toThrow(UpgradeRefusedError);
    try {
      planUpgrade(repo, { to: TO });
    } catch (error) {
      expect((error as UpgradeRefusedError).code).toBe('helm-chart-shared');
      expect((error as Error).message).toContain('cluster-apps-staging');
    }
  });

  it('refuses a literal field of the template it cannot place on one line, with a typed error and nothing written', () => {
    const literal = new Map(snapshot);
    literal.set(
      OLD_TEMPLATE,
      snapshot.get(OLD_TEMPLATE)!.replace('  name: istiod\n', '  name: istiod\n  labels:\n    app: istiod\n    name: istiod\n'),
    );
    try {
      planUpgrade(literal, { to: TO });
      expect.unreachable();
    } catch (error) {
      expect((error as UpgradeRefusedError).code).toBe('helm-template-literal');
      expect((error as Error).message).toContain('metadata.name');
    }
  });
});
