import { describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { build, TO, withManualControlPlane, withRegeneratedGateway } from '../../helpers/rendered-kustomize-patches.js';
import { hasKubectl, runUpgrade } from '../../helpers/upgrade-run.js';

const K = 'overlays/prod/kustomization.yaml';
const TARGET_FIRST = '  # istiod sized for prod\n  - target:\n      kind: Deployment\n      name: istiod\n    path: istiod.yaml\n';
const variants: Record<string, { edit: (t: string) => string; entry: string }> = {
  'a patches item with target: first': {
    edit: (t) => t.replace('  # istiod sized for prod\n  - path: istiod.yaml\n', TARGET_FIRST),
    entry: TARGET_FIRST,
  },
  'a patchesStrategicMerge item': {
    edit: (t) =>
      `${t.replace('  # istiod sized for prod\n  - path: istiod.yaml\n', '')}patchesStrategicMerge:\n  # istiod sized for prod\n  - istiod.yaml\n`,
    entry: '  # istiod sized for prod\n  - istiod.yaml\n',
  },
};
// Fixture rendered-kustomize-patches with the name-keyed istiod patch listed in other forms.
describe('cleanup deletes a name-keyed patch of a deleted object together with its kustomization entry', () => {
  for (const [name, { edit, entry }] of Object.entries(variants)) {
    it(`${name}: the entry goes (only its lines), and the overlay still builds`, async () => {
      const snapshot = new Map(await loadFixture('rendered-kustomize-patches'));
      snapshot.set(K, edit(snapshot.get(K)!));
      const steps = runUpgrade(snapshot, { to: TO }, (phase, repo) =>
        phase === 'control-plane' ? withManualControlPlane(repo) : phase === 'gateways' ? withRegeneratedGateway(repo) : null,
      );
      const cleanup = steps.find((s) => s.phase === 'cleanup')!;
      expect(cleanup.after.has('overlays/prod/istiod.yaml')).toBe(false);
      expect(cleanup.before.get(K)).toContain(entry);
      const after = cleanup.after.get(K)!;
      expect(after).not.toContain(entry);
      expect(after).toContain('  - path: istiod-1-22-1.yaml\n');
      // Only whole lines go: what is left is the old text with lines dropped.
      const before = cleanup.before.get(K)!.split('\n');
      let at = 0;
      for (const line of after.split('\n')) {
        while (at < before.length && before[at] !== line) at++;
        expect(at, line).toBeLessThan(before.length);
        at++;
      }
      if (hasKubectl) for (const s of steps) await build(s.after);
    });
  }
});

describe('a patch that cleanup makes stop applying is reported (patch-stops-applying)', () => {
  it('an inline strategic-merge patch of the deleted istiod (kustomize would fail on it) and a targeted one (it would patch nothing)', async () => {
    const inline =
      '  # pods of istiod on the platform nodes\n  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata:\n        name: istiod\n        namespace: istio-system\n      spec:\n        template:\n          spec:\n            nodeSelector:\n              pool: platform\n';
    const clean = runUpgrade(new Map(await loadFixture('rendered-kustomize-patches')), { to: TO }, (phase, repo) =>
      phase === 'control-plane' ? withManualControlPlane(repo) : phase === 'gateways' ? withRegeneratedGateway(repo) : null,
    );
    const atCleanup = (repo: RepoSnapshot) => planUpgrade(repo, { to: TO }).warnings.filter((w) => w.code === 'patch-stops-applying');
    const before = clean.find((s) => s.phase === 'cleanup')!.before;
    expect(atCleanup(before)).toEqual([]);
    const withInline = new Map(before).set(K, `${before.get(K)!}${inline}`);
    const warnings = atCleanup(withInline);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.file).toBe(K);
    expect(warnings[0]!.message).toContain('Deployment istiod');
    expect(warnings[0]!.message).toContain('cleanup');
    const targeted = new Map(before).set(
      K,
      `${before.get(K)!}  - target: {kind: Deployment, name: istiod}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/nodeSelector\n        value: {pool: platform}\n`,
    );
    expect(atCleanup(targeted).map((w) => w.message)).toEqual([expect.stringContaining('patches nothing')]);
  });
});
