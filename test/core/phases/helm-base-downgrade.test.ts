import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

/** Helm fixtures of every style: revisioned Applications, non-revisioned Argo CD and Flux, app-of-apps. */
const FIXTURES = ['helm-argocd', 'helm-nonrevisioned', 'flux-helm-nonrevisioned', 'helm-app-of-apps'] as const;
const DOWN = { to: '1-20-8', downgrade: true } as const;

/** The base chart's version as the bot reads the repo (its own reading of every Helm style). */
function baseChart(repo: RepoSnapshot): { version: string | null; file: string } {
  const base = planUpgrade(repo, DOWN).inventory.helmBase!;
  return { version: base.chartVersion, file: base.object.file };
}

describe.each(FIXTURES)('a Helm downgrade keeps the newer base chart (fixture %s)', (fixture) => {
  let snapshot: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    snapshot = await loadFixture(fixture);
    plan = planUpgrade(snapshot, DOWN);
    steps = runUpgrade(snapshot, DOWN);
  });

  it('plans a downgrade from 1.21.2 to 1.20.8 through every phase', () => {
    expect(plan.from.version).toBe('1.21.2');
    expect(plan.to).toEqual({ revision: '1-20-8', version: '1.20.8' });
    expect(plan.direction).toBe('downgrade');
    expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup']);
  });

  it('never moves the base chart down, in any phase', () => {
    const start = baseChart(snapshot);
    expect(start.version).toBe('1.21.2');
    for (const step of steps) expect(baseChart(step.after).version, step.phase).toBe('1.21.2');
  });

  it('says so: a warning naming the base release, and the control-plane pull request text', () => {
    const warning = plan.warnings.find((w) => w.code === 'helm-base-kept-newer');
    expect(warning?.message).toMatch(/downgrade to 1\.20\.8: the base chart .* stays at 1\.21\.2; older CRDs could drop fields/);
    expect(warning?.file).toBe(baseChart(snapshot).file);
    const cp = plan.phases.find((p) => p.id === 'control-plane')!;
    expect(cp.why).toMatch(/stays at 1\.21\.2: a downgrade keeps the newer CRDs/);
  });

  it('an upgrade says nothing of the kind', () => {
    const up = planUpgrade(snapshot, { to: '1-22-1' });
    expect(up.warnings.map((w) => w.code)).not.toContain('helm-base-kept-newer');
    expect(up.phases[0]!.why).not.toMatch(/keeps the newer CRDs/);
  });
});
