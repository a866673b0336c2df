import { diffLines } from 'diff';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlanJson } from '../../../src/cli/plan-json.js';
import { planUpgrade, snapshotAfter } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { isPlaceholderRevision, revisionFields } from '../../../src/core/sources/placeholders.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { hasKubectl, kustomizeBuild, objectKey } from '../../helpers/upgrade-run.js';
import { defaultTag, revisionInjector } from './cluster-webhooks.js';

const FROM = 'asm-1190-3';
const TO = 'asm-1201-1';
const PHASES = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];

/** What `kpt fn render` does to the revision fields: every setter-fed field gets its setter's value. */
function kptRender(repo: RepoSnapshot): RepoSnapshot {
  const out = new Map(repo);
  for (const field of revisionFields(repo)) {
    if (!field.rendered) continue;
    const lines = out.get(field.file)!.split('\n');
    lines[field.line - 1] = lines[field.line - 1]!.replace(field.literal, field.rendered);
    out.set(field.file, lines.join('\n'));
  }
  return out;
}

describe('asmcli in-cluster asm-1190-3 with kpt setter placeholders (fixture asmcli-kpt)', () => {
  let repo: RepoSnapshot;
  let plan: UpgradePlan;
  let states: Array<{ phase: string; repo: RepoSnapshot }>;
  beforeAll(async () => {
    repo = await loadFixture('asmcli-kpt');
    plan = planUpgrade(repo, { to: TO, version: '1.20.1-asm.1' });
    states = [{ phase: 'start', repo }, ...plan.phases.map((p, i) => ({ phase: p.id, repo: snapshotAfter(plan, i + 1) }))];
  });

  it('reads the revision from the Kptfile setters, never from the placeholders', () => {
    const json = toPlanJson(plan);
    expect(json.from).toEqual({ revision: FROM, version: '1.19.0-asm.3' });
    expect(json.to).toEqual({ revision: TO, version: '1.20.1-asm.1' });
    expect(json.install).toBe('external');
    expect(json.phases.map((p) => p.id)).toEqual(PHASES);
    const placeholders = json.warnings.filter((w) => w.code === 'placeholder-revision');
    expect(placeholders.map((w) => w.file).sort()).toEqual(['asm/asm-ingress/namespace.yaml', 'asm/istio-system/istiod-service.yaml']);
    expect(placeholders[0]!.message).toMatch(/setter (mesh-rev|anthos\.servicemesh\.rev) in asm\/Kptfile/);
    const commands = json.phases.flatMap((p) => p.manual).join('\n');
    expect(commands).toContain(`istioctl uninstall --revision ${FROM} -y`);
    expect(commands).not.toMatch(/MESH-REV|ASM_REV/);
  });

  it('ignores a placeholder no setter feeds, with a warning naming the file', () => {
    const broken = new Map(repo);
    broken.set('asm/Kptfile', repo.get('asm/Kptfile')!.replace(/^\s+mesh-rev:.*\n/m, ''));
    const again = planUpgrade(broken, { to: TO, version: '1.20.1-asm.1' });
    expect(again.from.revision).toBe(FROM);
    const warning = again.warnings.find((w) => w.code === 'placeholder-revision' && w.file === 'asm/asm-ingress/namespace.yaml')!;
    expect(warning.message).toContain('kpt setter mesh-rev, which no Kptfile above asm/asm-ingress/namespace.yaml sets');
    expect(again.phases.flatMap((p) => p.manual).join('\n')).not.toContain('MESH-REV');
    expect(isPlaceholderRevision('MESH-REV')).toBe(true);
    expect(isPlaceholderRevision('${mesh-rev}')).toBe(true);
    expect(isPlaceholderRevision('{{ .Values.revision }}')).toBe(true);
    expect(isPlaceholderRevision(FROM)).toBe(false);
  });

  it('moves each setter with the phase that moves every field it feeds', () => {
    const gateways = plan.phases.find((p) => p.id === 'gateways')!;
    const kptfileAfterGateways = snapshotAfter(plan, 2).get('asm/Kptfile')!;
    expect(gateways.files.map((f) => f.path)).toContain('asm/Kptfile');
    expect(kptfileAfterGateways).toContain(`mesh-rev: ${TO} # the gateway namespace's revision`);
    expect(kptfileAfterGateways).toContain(`anthos.servicemesh.rev: ${FROM} # the istiod Service's revision`);
    const defaultRevision = plan.phases.find((p) => p.id === 'default-revision')!;
    expect(defaultRevision.files.map((f) => f.path).sort()).toEqual(['asm/Kptfile', 'asm/istio-system/istiod-service.yaml']);
    expect(snapshotAfter(plan, 4).get('asm/Kptfile')).toContain(`anthos.servicemesh.rev: ${TO} # the istiod Service's revision`);
    expect(snapshotAfter(plan, 4).get('asm/istio-system/istiod-service.yaml')).toContain(
      `istio.io/rev: ${TO} # kpt-set: \${anthos.servicemesh.rev}`,
    );
    expect(plan.warnings.filter((w) => w.code === 'kpt-setter-edit')).toEqual([]);
  });

  it('after every phase, kpt fn render gives what the phase wrote (no edit reverted)', () => {
    for (const { phase, repo: state } of states) {
      const rendered = kptRender(state);
      for (const field of revisionFields(state)) {
        if (isPlaceholderRevision(field.literal)) continue;
        expect(rendered.get(field.file), `${field.file} after ${phase}`).toBe(state.get(field.file));
      }
    }
  });

  it.skipIf(!hasKubectl)('keeps one injector per meshed pod after every phase (rendered with kpt), and removes nothing', async () => {
    const initial = new Set((await kustomizeBuild(kptRender(repo), '.')).map(objectKey));
    for (const [i, { phase, repo: state }] of states.entries()) {
      const objects = await kustomizeBuild(kptRender(state), '.');
      for (const k of initial) expect(new Set(objects.map(objectKey)).has(k), `${k} after ${phase}`).toBe(true);
      const cluster = [revisionInjector(FROM), ...(i >= 1 ? [revisionInjector(TO)] : []), defaultTag(i >= 4 ? TO : FROM)];
      const all = [...objects, ...cluster] as never[];
      for (const [ns, labels] of [
        ['asm-ingress', { asm: 'ingressgateway' }],
        ['checkout', { app: 'checkout-api' }],
        ['search', { app: 'search-api' }],
      ] as const) {
        const hits = injectorsFor(all, ns, labels);
        expect(hits.length, `${ns} after ${phase}: ${hits.join(', ')}`).toBe(1);
        if (phase === 'start') expect(hits[0]).toContain(`istiod-${FROM}`);
        if (i >= 3) expect(hits[0]).toContain(`istiod-${TO}`);
      }
      expect(injectorsFor(all, 'batch', { app: 'export' })).toEqual([]);
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'istiod') as unknown as {
        spec: { selector: Record<string, string> };
      };
      expect(service.spec.selector['istio.io/rev']).toBe(i >= 4 ? TO : FROM);
    }
  });

  it('is idempotent: planning over the final repo reports every phase done and no files', () => {
    const again = planUpgrade(states.at(-1)!.repo, { to: TO, version: '1.20.1-asm.1' });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    expect(again.warnings.filter((w) => w.code === 'kpt-setter-drift')).toEqual([]);
  });

  it('changes only revision values and restart markers, comments kept', () => {
    const allowed = /asm-1201-1|restarted-for-revision|annotations:/;
    for (const [i, phase] of plan.phases.entries()) {
      const before = i === 0 ? repo : snapshotAfter(plan, i);
      for (const file of phase.files) {
        const changed = diffLines(before.get(file.path) ?? '', file.content ?? '')
          .filter((p) => p.added || p.removed)
          .flatMap((p) => p.value.split('\n').filter(Boolean));
        for (const line of changed.filter((l) => !before.get(file.path)!.includes(l)))
          expect(line, `${phase.id} ${file.path}`).toMatch(allowed);
      }
    }
    expect(states.at(-1)!.repo.get('asm/asm-ingress/namespace.yaml')).toContain(`istio.io/rev: ${TO} # kpt-set: \${mesh-rev}`);
  });

  it('writes only schema-valid objects', async () => {
    const written = plan.phases.flatMap((p, i) => p.files.map((f) => ({ path: f.path, content: snapshotAfter(plan, i + 1).get(f.path)! })));
    const report = await validateYamlFiles(written);
    expect(report.errors).toEqual([]);
    expect(report.validated.length).toBeGreaterThan(0);
  });
});
