import { diffLines } from 'diff';
import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { renderLocalCharts } from '../../../src/core/sources/helm-app-of-apps.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const VALUES = 'apps/platform/values-prod.yaml';

interface Rendered {
  istiod: Array<{ name: string; revision: string; version: string; tags: string[] }>;
  base: { version: string; defaultRevision: string };
  gateway: { version: string; revision: string };
  namespaces: Record<string, Record<string, string>>;
}

/** The chart as Argo CD would render it, read with the bot's own evaluator. */
function render(repo: RepoSnapshot): Rendered {
  const { objects, unread } = renderLocalCharts(repo, buildYamlIndex(repo));
  expect(unread.map((u) => u.file)).toEqual(['apps/platform/templates/monitoring.yaml']);
  const apps = objects.filter((o) => o.kind === 'Application');
  const source = (o: (typeof apps)[number]) =>
    (o.body.spec as { source: { targetRevision: string; helm?: { valuesObject?: Record<string, unknown> } } }).source;
  const base = apps.find((a) => a.name === 'istio-base')!;
  const gateway = apps.find((a) => a.name === 'istio-ingress')!;
  return {
    istiod: apps
      .filter((a) => a.name.startsWith('istiod-'))
      .map((a) => ({
        name: a.name,
        revision: String(source(a).helm!.valuesObject!.revision),
        version: source(a).targetRevision,
        tags: source(a).helm!.valuesObject!.revisionTags as string[],
      })),
    base: { version: source(base).targetRevision, defaultRevision: String(source(base).helm!.valuesObject!.defaultRevision) },
    gateway: { version: source(gateway).targetRevision, revision: String(source(gateway).helm!.valuesObject!.revision) },
    namespaces: Object.fromEntries(
      objects.filter((o) => o.kind === 'Namespace').map((n) => [n.name, { ...(n.body.metadata.labels ?? {}) }]),
    ),
  };
}

/** Which istiod releases inject a namespace: its revision label, following the revision tags the releases own. */
function injectors(state: Rendered, namespace: string): string[] {
  const label = state.namespaces[namespace]?.['istio.io/rev'];
  if (!label) return [];
  return state.istiod.filter((r) => r.revision === label || r.tags.includes(label)).map((r) => r.name);
}

describe('Argo CD app-of-apps rendered by Helm (fixture helm-app-of-apps)', () => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture('helm-app-of-apps');
    plan = planUpgrade(snapshot, { to: TO });
    steps = runUpgrade(snapshot, { to: TO });
  });

  it('finds the control plane in the rendered chart and plans every phase', () => {
    expect(plan.from).toEqual({ revision: '1-21-2', version: '1.21.2' });
    expect(plan.to).toEqual({ revision: TO, version: '1.22.1' });
    expect(plan.install).toBe('helm');
    expect(plan.phases.map((p) => p.id)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
  });

  it('warns about the template it cannot read, with file and line, and reads the others', () => {
    const skipped = plan.warnings.filter((w) => w.code === 'skipped-file');
    expect(skipped.map((w) => w.file)).toEqual(['apps/platform/templates/monitoring.yaml']);
    expect(skipped[0]!.message).toContain('line 9');
  });

  it('writes every chart edit into the values file that sets it, the restarts into the Deployments', () => {
    for (const phase of plan.phases) {
      const files = phase.files.map((f) => f.path);
      expect(
        files.filter((f) => f.startsWith('apps/platform/')),
        phase.id,
      ).toEqual([VALUES]);
    }
    expect(plan.phases[2]!.files.map((f) => f.path)).toEqual([
      'apps/platform/values-prod.yaml',
      'apps/workloads/catalog/deploy.yaml',
      'apps/workloads/shop/deploy.yaml',
    ]);
    const all = steps.flatMap((s) => [...s.after].filter(([p, t]) => s.before.get(p) !== t).map(([p]) => p));
    expect(all.some((p) => p.includes('/templates/') || p === 'apps/platform/values.yaml')).toBe(false);
  });

  it('keeps the mesh correct after every phase (rendered chart): one injector per namespace, old istiod kept until cleanup', () => {
    const states = [render(snapshot), ...steps.map((s) => render(s.after))];
    for (const [i, state] of states.entries()) {
      const label = i === 0 ? 'start' : steps[i - 1]!.phase;
      for (const ns of ['shop', 'catalog']) expect(injectors(state, ns), `${label} ${ns}`).toHaveLength(1);
      expect(
        state.istiod.filter((r) => r.tags.includes('default')),
        label,
      ).toHaveLength(1);
      const beforeCleanup = i < states.length - 1;
      if (beforeCleanup)
        expect(
          state.istiod.map((r) => r.name),
          label,
        ).toContain('istiod-1-21-2');
    }
    expect(states[1]!.istiod).toEqual([
      { name: 'istiod-1-21-2', revision: '1-21-2', version: '1.21.2', tags: ['default'] },
      { name: 'istiod-1-22-1', revision: '1-22-1', version: '1.22.1', tags: [] },
    ]);
    expect(states[1]!.base).toEqual({ version: '1.22.1', defaultRevision: '1-21-2' });
    expect(states[2]!.gateway).toEqual({ version: '1.22.1', revision: TO });
    expect(states[3]!.namespaces).toEqual({ shop: { 'istio.io/rev': TO, team: 'shop' }, catalog: { team: 'catalog', 'istio.io/rev': TO } });
    expect(states[4]!.istiod.map((r) => r.tags)).toEqual([[], ['default']]);
    expect(states[4]!.base.defaultRevision).toBe(TO);
    const end = states[5]!;
    expect(end.istiod).toEqual([{ name: 'istiod-1-22-1', revision: TO, version: '1.22.1', tags: ['default'] }]);
  });

  it('is idempotent: planning the result reports every phase done and no files', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done' && p.files.length === 0)).toBe(true);
  });

  it('edits byte-exactly: only the lines of the changed values, comments kept, the new element copied from the old', () => {
    const changed = (s: UpgradeStep) =>
      diffLines(s.before.get(VALUES)!, s.after.get(VALUES)!)
        .filter((d) => d.added || d.removed)
        .map((d) => `${d.added ? '+' : '-'}${d.value}`);
    expect(changed(steps[0]!)).toEqual([
      '-  version: 1.21.2 # base chart\n',
      '+  version: 1.22.1 # base chart\n',
      '+    - name: 1-22-1   # istiod 1-22-1\n      version: 1.22.1\n      tags: []\n',
    ]);
    expect(changed(steps[1]!)).toEqual(['-  version: 1.21.2\n  revision: 1-21-2\n', '+  version: 1.22.1\n  revision: 1-22-1\n']);
    expect(changed(steps[2]!)).toEqual([
      '-      istio.io/rev: 1-21-2\n',
      '+      istio.io/rev: 1-22-1\n',
      '-      istio.io/rev: "1-21-2"\n',
      '+      istio.io/rev: "1-22-1"\n',
    ]);
    expect(changed(steps[4]!)).toEqual(['-    - name: 1-21-2   # istiod 1-21-2\n      version: 1.21.2\n      tags: []\n']);
  });

  it('renders schema-valid Applications and Namespaces after every phase', async () => {
    for (const step of steps) {
      const files: Array<{ path: string; content: string }> = [];
      const { objects } = renderLocalCharts(step.after, buildYamlIndex(step.after));
      files.push({ path: `rendered-${step.phase}.yaml`, content: objects.map((o) => JSON.stringify(o.body)).join('\n---\n') });
      const report = await validateYamlFiles(files);
      expect(report.errors, step.phase).toEqual([]);
      expect(report.validated.length, step.phase).toBeGreaterThan(0);
    }
  });

  it('refuses a value two Applications read (istio.version for base and gateway) with a typed error, writing nothing', () => {
    const shared = new Map(snapshot);
    shared.set(VALUES, snapshot.get(VALUES)!.replace('gateway:\n  version: 1.21.2\n', 'gateway:\n'));
    expect(() => planUpgrade(shared, { to: TO })).toThrow(UpgradeRefusedError);
    try {
      planUpgrade(shared, { to: TO });
    } catch (error) {
      expect((error as UpgradeRefusedError).code).toBe('helm-values-shared');
      expect((error as Error).message).toContain('istio-ingress');
    }
  });

  it('never crashes on a template it cannot read: an unreadable istiod template is a warning with its line, not a guess', () => {
    const broken = new Map(snapshot);
    const file = 'apps/platform/templates/istiod.yaml';
    broken.set(file, snapshot.get(file)!.replace('{{ .version | quote }}', '{{ printf "%s" .version }}'));
    const { unread } = renderLocalCharts(broken, buildYamlIndex(broken));
    expect(unread.map((u) => [u.file, u.reason.match(/line \d+/)?.[0]])).toContainEqual([file, 'line 19']);
    // istiod unread: the revision the namespaces name counts as installed outside git, and the plan says why.
    const partial = planUpgrade(broken, { to: TO });
    expect(partial.install).toBe('external');
    expect(partial.warnings.filter((w) => w.code === 'skipped-file').map((w) => w.file)).toContain(file);
  });
});
