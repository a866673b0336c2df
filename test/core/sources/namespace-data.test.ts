import { describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import { findNamespaceLabelsInData } from '../../../src/core/sources/namespace-data.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { loadFixture } from '../../helpers/fixtures.js';

describe('namespace labels kept as data (fixture kustomize-null-patches, tenants/eu.yaml)', () => {
  it('finds namespaces whose mesh labels live in a data file, as a map or a list, and not in a chart’s values', async () => {
    const repo = new Map(await loadFixture('kustomize-null-patches'));
    repo.set(
      'teams/list.yaml',
      'namespaces:\n  - name: search\n    labels: {istio-injection: enabled}\n  - name: Not_A_Namespace\n    labels: {istio-injection: enabled}\n',
    );
    repo.set('charts/shop/Chart.yaml', 'apiVersion: v2\nname: shop\nversion: 0.1.0\n');
    repo.set('charts/shop/values.yaml', 'shop:\n  labels:\n    istio-injection: enabled\n');
    const found = findNamespaceLabelsInData(repo, buildYamlIndex(repo)).map((n) => `${n.file} ${n.namespace} ${JSON.stringify(n.labels)}`);
    expect(found).toEqual([
      'tenants/eu.yaml analytics {"istio-injection":"enabled"}',
      'tenants/eu.yaml billing-batch {"istio.io/rev":"1-21-2"}',
      'tenants/eu.yaml sandbox {"istio-injection":"disabled"}',
      'teams/list.yaml search {"istio-injection":"enabled"}',
    ]);
  });

  it('warns once per file with the namespaces on the old revision and the two-step change, and edits nothing there', async () => {
    const repo = await loadFixture('kustomize-null-patches');
    const plan = planUpgrade(repo, { to: '1-22-1' });
    const warnings = plan.warnings.filter((w) => w.code === 'namespace-labels-in-data');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.file).toBe('tenants/eu.yaml');
    expect(warnings[0]!.message).toContain('namespaces analytics, billing-batch as data');
    expect(warnings[0]!.message).toContain(
      'kubectl label namespace analytics billing-batch istio-injection- istio.io/rev=1-22-1 --overwrite',
    );
    expect(plan.phases.flatMap((p) => p.files).map((f) => f.path)).not.toContain('tenants/eu.yaml');
  });
});
