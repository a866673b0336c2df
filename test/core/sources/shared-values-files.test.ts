import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import { renderLocalCharts } from '../../../src/core/sources/helm-app-of-apps.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { runUpgrade } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const PROD = 'apps/platform/values-prod.yaml';
const SHARED = 'apps/common/mesh.yaml';
const ROOT = 'bootstrap/root.yaml';

/**
 * The helm-app-of-apps fixture with the gateway's revision moved into `apps/common/mesh.yaml`, a
 * values file that a second Application (`observability`, its own local chart) lists too.
 */
function withSharedFile(base: RepoSnapshot, prodLast: boolean): RepoSnapshot {
  const repo = new Map(base);
  repo.set(PROD, base.get(PROD)!.replace('gateway:\n  version: 1.21.2\n  revision: 1-21-2\n', 'gateway:\n  version: 1.21.2\n'));
  repo.set(SHARED, '# Read by the platform and observability charts.\ngateway:\n  revision: 1-21-2 # dashboards filter on it\n');
  const files = prodLast
    ? '        - values.yaml\n        - ../common/mesh.yaml\n        - values-prod.yaml'
    : '        - values.yaml\n        - values-prod.yaml\n        - ../common/mesh.yaml';
  repo.set(ROOT, base.get(ROOT)!.replace(/ {8}- values\.yaml\n {8}- values-prod\.yaml[^\n]*/, files));
  repo.set('apps/observability/Chart.yaml', 'apiVersion: v2\nname: observability\nversion: 0.3.0\n');
  repo.set(
    'apps/observability/templates/dashboards.yaml',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mesh-dashboards\n  namespace: monitoring\ndata:\n  gateway-revision: {{ .Values.gateway.revision | quote }}\n',
  );
  repo.set(
    'bootstrap/observability.yaml',
    'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: observability\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://git.example.com/acme/cluster-config.git\n    targetRevision: main\n    path: apps/observability\n    helm:\n      valueFiles:\n        - ../common/mesh.yaml\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: monitoring\n',
  );
  return repo;
}

describe('Argo CD values files shared by two Applications (helm-app-of-apps with apps/common/mesh.yaml)', () => {
  let base: RepoSnapshot;
  beforeAll(async () => {
    base = await loadFixture('helm-app-of-apps');
  });

  it('reads the shared file as a layer of both charts', () => {
    const repo = withSharedFile(base, true);
    const charts = renderLocalCharts(repo, buildYamlIndex(repo)).charts;
    expect(charts.map((c) => [c.app.name, c.layers.map((l) => l.file)])).toEqual([
      ['platform', ['apps/platform/values.yaml', SHARED, PROD]],
      ['observability', [SHARED]],
    ]);
  });

  it("writes a value of the shared file as an override in the Application's own later values file, leaving the shared file as it is", () => {
    const repo = withSharedFile(base, true);
    const steps = runUpgrade(repo, { to: TO });
    for (const step of steps) expect(step.after.get(SHARED), step.phase).toBe(repo.get(SHARED));
    const gateways = steps.find((s) => s.phase === 'gateways')!;
    expect(gateways.after.get(PROD)).toBe(
      gateways.before.get(PROD)!.replace('gateway:\n  version: 1.21.2\n', `gateway:\n  version: 1.22.1\n  revision: ${TO}\n`),
    );
    // The rendered gateway Application follows the override; the other chart still reads the shared value.
    const charts = renderLocalCharts(gateways.after, buildYamlIndex(gateways.after));
    const ingress = charts.objects.find((o) => o.kind === 'Application' && o.name === 'istio-ingress')!;
    expect((ingress.body as Doc).spec.source.helm.valuesObject.revision).toBe(TO);
    expect((charts.objects.find((o) => o.name === 'mesh-dashboards')!.body as Doc).data['gateway-revision']).toBe('1-21-2');
    // Idempotent: the override is where the value is read from now.
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
  });

  it('refuses, naming the shared file and the other Application, when no file of its own comes after the shared one', () => {
    const repo = withSharedFile(base, false);
    let error: unknown;
    try {
      planUpgrade(repo, { to: TO });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    expect((error as UpgradeRefusedError).code).toBe('helm-values-file-shared');
    expect((error as Error).message).toContain(SHARED);
    expect((error as Error).message).toContain('Application observability (bootstrap/observability.yaml)');
    expect((error as Error).message).toContain('gateway.revision');
  });
});
