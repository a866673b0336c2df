import { describe, expect, it } from 'vitest';
import { renderedRevision } from '../../../demo/prepared-render.js';
import { discoverMesh } from '../../../src/core/discover.js';
import { planUpgrade } from '../../../src/core/plan.js';
import { re2ToRegExp } from '../../../src/core/sources/re2-target.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { hasKubectl, kustomizeBuild, runUpgrade } from '../../helpers/upgrade-run.js';

// Variants of fixture kustomize-json-namespace-patches: whole-map operations, test operations, RE2 target names.
const TO = '1-22-1';
const KUSTOMIZATION = 'overlays/prod/kustomization.yaml';
const ORDERS = 'overlays/prod/orders-injection.yaml';

function withManualControlPlane(repo: RepoSnapshot): RepoSnapshot {
  const next = new Map(repo);
  next.set(`base/istio-system/${TO}/istiod.yaml`, renderedRevision(TO, '1.22.1'));
  const k = 'base/istio-system/kustomization.yaml';
  next.set(k, repo.get(k)!.replace('  - rendered/istio.yaml', `  - ${TO}/istiod.yaml\n  - rendered/istio.yaml`));
  return next;
}
function withRegeneratedGateway(repo: RepoSnapshot): RepoSnapshot {
  const file = 'base/istio-ingress/gateway.yaml';
  return new Map(repo).set(
    file,
    repo
      .get(file)!
      .replace('proxyv2:1.21.2', 'proxyv2:1.22.1')
      .replace('istiod.istio-system.svc:15012', `istiod-${TO}.istio-system.svc:15012`),
  );
}
const manual = (phase: string, repo: RepoSnapshot) =>
  phase === 'control-plane' ? withManualControlPlane(repo) : phase === 'gateways' ? withRegeneratedGateway(repo) : null;
const refusal = (fn: () => unknown): UpgradeRefusedError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof UpgradeRefusedError) return e;
    throw e;
  }
  throw new Error('not refused');
};

const ORDERS_WHOLE = `# JSON6902 operations on Namespace orders: the whole labels map.
- op: add
  path: /metadata/labels
  value:
    team: fulfilment   # owners
    istio-injection: enabled
`;
const WEB_INLINE = `  - target:
      kind: Namespace
      name: web
    patch: |-
      - op: add
        path: /metadata/labels/istio-injection
        value: enabled
`;
const WEB_METADATA = `  - target:
      kind: Namespace
      name: (?i)WEB
    patch: |-
      - op: replace
        path: /metadata
        value: {name: web, labels: {team: storefront, istio-injection: enabled}}
`;

async function variant(edit: (repo: Map<string, string>) => void): Promise<Map<string, string>> {
  const repo = new Map(await loadFixture('kustomize-json-namespace-patches'));
  edit(repo);
  return repo;
}

describe('JSON6902 operations on the whole labels map, test operations and RE2 target names', () => {
  it('reads whole-map add/replace/remove of /metadata/labels and /metadata into the effective labels', async () => {
    const repo = await variant((r) => {
      r.set(ORDERS, ORDERS_WHOLE);
      r.set(
        KUSTOMIZATION,
        r
          .get(KUSTOMIZATION)!
          .replace(WEB_INLINE, WEB_METADATA)
          .replace('- op: remove\n        path: /metadata/labels/istio-injection', '- op: remove\n        path: /metadata/labels'),
      );
    });
    const namespaces = discoverMesh(buildYamlIndex(repo)).namespaces;
    const of = (name: string) => namespaces.find((n) => n.name === name)!;
    expect(of('orders').labels).toEqual({ team: 'fulfilment', 'istio-injection': 'enabled' });
    expect(of('web').labels).toEqual({ team: 'storefront', 'istio-injection': 'enabled' });
    expect(of('legacy').labels).toEqual({});
    expect([of('web').revision, of('orders').revision, of('legacy').revision]).toEqual(['default', 'default', null]);
  });

  it('moves namespaces meshed by whole-map operations in those operations, byte for byte, and the overlay builds with one injector', async () => {
    const repo = await variant((r) => {
      r.set(ORDERS, ORDERS_WHOLE);
      r.set(KUSTOMIZATION, r.get(KUSTOMIZATION)!.replace(WEB_INLINE, WEB_METADATA));
    });
    const steps = runUpgrade(repo, { to: TO, strategy: 'relabel' }, manual);
    const workloads = steps.find((s) => s.phase === 'workloads')!;
    expect(workloads.after.get(ORDERS)).toBe(ORDERS_WHOLE.replace('    istio-injection: enabled', `    istio.io/rev: ${TO}`));
    expect(workloads.after.get(KUSTOMIZATION)).toBe(
      repo.get(KUSTOMIZATION)!.replace('istio-injection: enabled}}', `istio.io/rev: ${TO}}}`),
    );
    for (const step of steps) expect(step.after.get('base/apps/namespaces.yaml')).toBe(repo.get('base/apps/namespaces.yaml'));
    const again = planUpgrade(steps.at(-1)!.after, { to: TO, strategy: 'relabel' });
    expect(again.phases.every((p) => p.status === 'done')).toBe(true);
    if (!hasKubectl) return;
    for (const step of steps) {
      const objects = await kustomizeBuild(step.after, 'overlays/prod');
      for (const ns of ['web', 'orders']) expect(injectorsFor(objects as never, ns, {}).length, `${ns} after ${step.phase}`).toBe(1);
    }
    const final = await kustomizeBuild(steps.at(-1)!.after, 'overlays/prod');
    for (const ns of ['web', 'orders']) {
      const labels = final.find((o) => o.kind === 'Namespace' && o.metadata.name === ns)!.metadata.labels;
      expect(labels, ns).toEqual({ team: ns === 'web' ? 'storefront' : 'fulfilment', 'istio.io/rev': TO });
    }
  });

  it('rewrites a test operation after the move so the patch still applies; refuses one it cannot keep true', async () => {
    const tested = `- op: test\n  path: /metadata/labels/istio-injection\n  value: enabled\n`;
    const repo = await variant((r) => r.set(ORDERS, `${r.get(ORDERS)}${tested}`));
    const steps = runUpgrade(repo, { to: TO, strategy: 'relabel' }, manual);
    const after = steps.find((s) => s.phase === 'workloads')!.after.get(ORDERS)!;
    expect(after).toContain(`- op: test\n  path: /metadata/labels/istio.io~1rev\n  value: ${TO}\n`);
    if (hasKubectl) await kustomizeBuild(steps.at(-1)!.after, 'overlays/prod');
    // A test before the operation that decides the label checks what the move changes: refused, naming the file.
    const before = await variant((r) =>
      r.set(
        ORDERS,
        `${tested}${r.get(ORDERS)}`
          .replace(
            '- op: test\n  path: /metadata/labels/istio-injection\n  value: enabled\n',
            '- op: test\n  path: /metadata/labels/team\n  value: fulfilment\n- op: test\n  path: /metadata/labels/istio-injection\n  value: enabled\n',
          )
          .replace('- op: add\n  path: /metadata/labels/istio-injection\n  value: enabled   # meshed since the 2024 migration\n', ''),
      ),
    );
    before.set(
      'base/apps/namespaces.yaml',
      before.get('base/apps/namespaces.yaml')!.replace('    team: fulfilment\n', '    team: fulfilment\n    istio-injection: enabled\n'),
    );
    before.set(ORDERS, `${before.get(ORDERS)}- op: add\n  path: /metadata/labels/owner\n  value: fulfilment\n`);
    // (here the test is the only mention and the base decides: the test follows the base's move)
    const ok = runUpgrade(before, { to: TO, strategy: 'relabel' }, manual);
    expect(ok.find((s) => s.phase === 'workloads')!.after.get(ORDERS)).toContain(`path: /metadata/labels/istio.io~1rev\n  value: ${TO}\n`);
    const early = await variant((r) => r.set(ORDERS, `${tested}${r.get(ORDERS)}`));
    const error = refusal(() => planUpgrade(withManualControlPlane(early), { to: TO, strategy: 'relabel' }));
    expect(error.code).toBe('json-patch-not-editable');
    expect(error.message).toContain(ORDERS);
  });

  it('translates RE2 target names kustomize accepts, and refuses the rest with a code, never a SyntaxError', async () => {
    expect(re2ToRegExp('(?i)WEB')!.test('web')).toBe(true);
    expect(re2ToRegExp('(?P<app>web|orders)')!.test('orders')).toBe(true);
    expect(re2ToRegExp('web\\z')!.test('web')).toBe(true);
    expect(re2ToRegExp('web')!.test('webshop')).toBe(false);
    for (const bad of ['(?i:web)', '[[:alpha:]]+', '\\pL+', '(?=web)', 'web(']) expect(re2ToRegExp(bad), bad).toBeNull();
    const repo = await variant((r) =>
      r.set(KUSTOMIZATION, r.get(KUSTOMIZATION)!.replace('      name: web\n', '      name: "\\\\pLweb"\n')),
    );
    const error = refusal(() => planUpgrade(repo, { to: TO }));
    expect(error.code).toBe('patch-target-unreadable');
    expect(error.message).toContain(KUSTOMIZATION);
  });

  it('reports a patch selected by istio-injection=enabled that the relabel makes stop applying (patch-stops-applying), not with tags', async () => {
    const selected = `  # every meshed namespace gets the mesh owner annotation
  - target:
      kind: Namespace
      labelSelector: istio-injection=enabled
    patch: |-
      - op: add
        path: /metadata/annotations
        value: {mesh.example.com/owner: platform}
`;
    const repo = await variant((r) => r.set(KUSTOMIZATION, `${r.get(KUSTOMIZATION)!}${selected}`));
    const stops = (strategy: 'tag' | 'relabel') =>
      planUpgrade(withManualControlPlane(repo), { to: TO, strategy }).warnings.filter((w) => w.code === 'patch-stops-applying');
    const warnings = stops('relabel');
    expect(warnings.map((w) => w.message.match(/Namespace (\S+)/)![1]).sort()).toEqual(['orders', 'web']);
    for (const w of warnings) {
      expect(w.file).toBe(KUSTOMIZATION);
      expect(w.message).toContain('phase workloads');
      expect(w.message).toContain('istio-injection=enabled');
    }
    expect(stops('tag')).toEqual([]);
    if (!hasKubectl) return;
    // What the warning is about: the build after the relabel no longer annotates them.
    const steps = runUpgrade(repo, { to: TO, strategy: 'relabel' }, manual);
    const annotation = async (r: RepoSnapshot, ns: string) =>
      (await kustomizeBuild(r, 'overlays/prod')).find((o) => o.kind === 'Namespace' && o.metadata.name === ns)!.metadata.annotations?.[
        'mesh.example.com/owner'
      ];
    const workloads = steps.find((s) => s.phase === 'workloads')!;
    expect(await annotation(workloads.before, 'web')).toBe('platform');
    expect(await annotation(workloads.after, 'web')).toBeUndefined();
  });
});
