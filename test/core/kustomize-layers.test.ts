import { beforeAll, describe, expect, it } from 'vitest';
import { discoverMesh } from '../../src/core/discover.js';
import { planUpgrade } from '../../src/core/plan.js';
import { buildYamlIndex } from '../../src/core/yaml-index.js';
import type { RepoSnapshot } from '../../src/model/snapshot.js';
import { loadFixture } from '../helpers/fixtures.js';
import { hasKubectl, kustomizeBuild, runUpgrade, type UpgradeStep } from '../helpers/upgrade-run.js';

const TO = '1-22-1';

describe('kustomize patches that delete a base label (fixture kustomize-null-patches)', () => {
  let repo: RepoSnapshot;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    repo = await loadFixture('kustomize-null-patches');
    steps = runUpgrade(repo, { to: TO });
  });

  it('reads the effective labels: `key: null` in a patch deletes the base label', () => {
    const payments = discoverMesh(buildYamlIndex(repo)).namespaces.find((n) => n.name === 'payments')!;
    expect(payments.labels).toEqual({ 'platform.example.com/tier': 'standard', 'istio.io/rev': '1-21-2' });
    expect(payments.injection).toEqual({ mode: 'revision', value: '1-21-2' });
    expect(payments.hasBothLabels).toBe(false);
  });

  it('honours `$patch: replace` and `$patch: delete` in label patches', () => {
    const base = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n    team: a\n';
    const replace = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    $patch: replace\n    istio.io/rev: 1-21-2\n';
    const kustomization = 'resources:\n  - base.yaml\npatches:\n  - path: patch.yaml\n';
    const index = buildYamlIndex(
      new Map([
        ['base.yaml', base],
        ['patch.yaml', replace],
        ['kustomization.yaml', kustomization],
      ]),
    );
    expect(discoverMesh(index).namespaces[0]!.labels).toEqual({ 'istio.io/rev': '1-21-2' });
    const deleted = buildYamlIndex(
      new Map([
        ['base.yaml', base],
        ['patch.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n$patch: delete\n'],
        ['kustomization.yaml', kustomization],
      ]),
    );
    expect(discoverMesh(deleted).namespaces[0]!.labels).toEqual({});
  });

  it('moves the namespace in the patch that decides its revision, keeping the null that deletes the base label, and leaves the vendored base alone', () => {
    const workloads = steps.find((s) => s.phase === 'workloads')!;
    expect(workloads.after.get('clusters/eu/namespace-revisions.yaml')).toBe(
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n    istio-injection: null # deletes the base's label\n    istio.io/rev: 1-22-1\n",
    );
    for (const [path, text] of steps.at(-1)!.after) if (path.startsWith('vendor/')) expect(text, path).toBe(repo.get(path));
  });

  it.skipIf(!hasKubectl)('builds with kubectl kustomize after every phase without payments getting istio-injection back', async () => {
    for (const step of steps) {
      const built = await kustomizeBuild(step.after, 'clusters/eu');
      const payments = built.find((o) => o.kind === 'Namespace' && o.metadata.name === 'payments')!;
      expect(payments.metadata.labels?.['istio-injection'], step.phase).toBeUndefined();
      expect(payments.metadata.labels?.['istio.io/rev'], step.phase).toBe(
        ['control-plane', 'gateways'].includes(step.phase) ? '1-21-2' : TO,
      );
    }
  });

  it('is idempotent', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
  });
});
