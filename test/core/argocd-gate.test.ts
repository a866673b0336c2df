import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateArgoGate, type AppObservation, type ArgoGateInput } from '../../src/core/argocd-gate.js';
import { ArgoApplication, ResourceTree } from '../../src/core/argocd-status.js';

const healthy = ArgoApplication.parse(JSON.parse(readFileSync(new URL('../fixtures/argocd/istio-system-synced-healthy.json', import.meta.url), 'utf8')));
const MERGED = new Date('2026-11-22T10:00:50Z');

/** The healthy application with some status fields changed (null removes one). */
function app(change: (a: ReturnType<typeof structuredClone<typeof healthy>>) => void): ArgoApplication {
  const copy = structuredClone(healthy);
  change(copy);
  return ArgoApplication.parse(copy);
}

const tree = (...nodes: object[]) => ResourceTree.parse({ nodes });
const gatewayPod = (image: string) => ({ kind: 'Pod', namespace: 'istio-ingress', name: 'istio-ingressgateway-7d9f', health: { status: 'Healthy' }, images: [image] });

function input(observations: Partial<AppObservation>[], overrides: Partial<ArgoGateInput> = {}): ArgoGateInput {
  return {
    apps: observations.map((o) => ({ name: 'prod-mesh', app: healthy, ancestry: 'identical', tree: tree(), ...o })),
    expectations: { healthy: [], absent: [], migratedNamespaces: [], oldProxyTag: null },
    now: new Date('2026-11-22T10:05:00Z'),
    mergedAt: MERGED,
    healthySince: new Date('2026-11-22T10:02:00Z'),
    wasHealthy: true,
    stabilityWindowMs: 60_000,
    timeoutMs: 30 * 60_000,
    ...overrides,
  };
}

describe('evaluateArgoGate', () => {
  it('passes when the merge commit is synced, healthy and has held for the stability window', () => {
    const result = evaluateArgoGate(input([{}]));
    expect(result.decision).toEqual({ status: 'pass', summary: 'prod-mesh Synced and Healthy at the merge commit for 180 s' });
  });

  it('accepts a later commit that contains the merge commit', () => {
    expect(evaluateArgoGate(input([{ ancestry: 'ahead' }])).decision.status).toBe('pass');
  });

  it('holds a first healthy sighting for the stability window', () => {
    const result = evaluateArgoGate(input([{}], { healthySince: null, wasHealthy: false }));
    expect(result.decision).toEqual({ status: 'wait', reason: 'Synced and Healthy at the merge commit; holding for another 60 s (2/2 checks)' });
    expect(result.healthySince).toEqual(new Date('2026-11-22T10:05:00Z'));
  });

  it.each<[string, Partial<AppObservation>, RegExp, boolean]>([
    ['Argo CD has not seen X', { ancestry: 'behind' }, /has not seen the merge commit yet/, true],
    ['no revision yet', { ancestry: null }, /has not seen the merge commit yet/, true],
    ['a sync is requested', { app: app((a) => void ((a as { operation?: unknown }).operation = { sync: {} })) }, /a sync is requested/, false],
    ['a sync is running', { app: app((a) => void delete (a.status.operationState as { finishedAt?: string }).finishedAt) }, /sync Succeeded/, false],
    ['health predates the sync (stale reconciledAt)', { app: app((a) => void (a.status.reconciledAt = '2026-11-22T10:01:03Z')) }, /reconciledAt < finishedAt/, true],
    ['OutOfSync with auto-sync on', { app: app((a) => void (a.status.sync!.status = 'OutOfSync')) }, /auto-sync will apply it/, false],
    ['Progressing', { app: app((a) => void (a.status.health!.status = 'Progressing')) }, /Progressing/, false],
  ])('waits when %s', (_name, observation, reason, refresh) => {
    const result = evaluateArgoGate(input([observation], { healthySince: null, wasHealthy: false }));
    expect(result.decision.status).toBe('wait');
    expect(result.decision.status === 'wait' && result.decision.reason).toMatch(reason);
    expect(result.refresh).toEqual(refresh ? ['prod-mesh'] : []);
    expect(result.healthySince).toBeNull();
  });

  it.each<[string, Partial<AppObservation>, RegExp]>([
    ['the tracked revision diverged from X', { ancestry: 'diverged' }, /does not contain the merge commit/],
    ['the sync failed', { app: app((a) => void ((a.status.operationState as { phase?: string }).phase = 'Failed')) }, /sync Failed: successfully synced/],
    ['a ComparisonError condition', { app: app((a) => void a.status.conditions!.push({ type: 'ComparisonError', message: 'rpc error: manifest generation failed' })) }, /ComparisonError: rpc error/],
    ['a SyncError condition', { app: app((a) => void a.status.conditions!.push({ type: 'SyncError', message: 'Failed last sync attempt to MERGE_SHA' })) }, /Failed last sync attempt/],
    [
      'prune-only OutOfSync with prune off',
      {
        app: app((a) => {
          a.status.sync!.status = 'OutOfSync';
          a.spec.syncPolicy!.automated = { prune: false, selfHeal: true };
          a.status.resources = [{ kind: 'Deployment', namespace: 'istio-system', name: 'istiod-asm-1130-0', status: 'OutOfSync', requiresPruning: true }];
        }),
      },
      /only deletions are pending and automated prune is off/,
    ],
    ['OutOfSync without auto-sync', { app: app((a) => { a.status.sync!.status = 'OutOfSync'; a.spec.syncPolicy = {}; }) }, /auto-sync is off/],
  ])('fails when %s', (_name, observation, reason) => {
    const result = evaluateArgoGate(input([observation]));
    expect(result.decision.status).toBe('fail');
    expect(result.decision.status === 'fail' && result.decision.reason).toMatch(reason);
  });

  it('fails on Degraded after having been healthy, naming the degraded resource', () => {
    const degraded = app((a) => {
      a.status.health!.status = 'Degraded';
      a.status.resources![0]!.health = { status: 'Degraded', message: 'Deployment "istio-ingressgateway" exceeded its progress deadline' };
    });
    const result = evaluateArgoGate(input([{ app: degraded }]));
    expect(result.decision).toEqual({
      status: 'fail',
      reason: 'prod-mesh: Degraded after having been healthy',
      resources: [{ kind: 'Deployment', namespace: 'istio-ingress', name: 'istio-ingressgateway', message: 'Deployment "istio-ingressgateway" exceeded its progress deadline' }],
    });
    // Right after the merge, Degraded gets a grace period first.
    const early = evaluateArgoGate(input([{ app: degraded }], { wasHealthy: false, healthySince: null, now: new Date('2026-11-22T10:01:30Z') }));
    expect(early.decision.status).toBe('wait');
  });

  it('waits for the phase’s own resources and for the last old proxies, then times out', () => {
    const expectations = { healthy: [{ kind: 'Deployment', namespace: 'istio-system', name: 'istiod-asm-1140-0' }], absent: [], migratedNamespaces: ['istio-ingress'], oldProxyTag: '1.13.0-asm.0' };
    const missing = evaluateArgoGate(input([{}], { expectations, healthySince: null }));
    expect(missing.decision.status === 'wait' && missing.decision.reason).toMatch(/Deployment istio-system\/istiod-asm-1140-0 is not in the resource tree yet \(1\/2 checks\)/);

    const istiod = { kind: 'Deployment', namespace: 'istio-system', name: 'istiod-asm-1140-0', health: { status: 'Healthy' } };
    const oldProxies = evaluateArgoGate(input([{ tree: tree(istiod, gatewayPod('gcr.io/gke-release/asm/proxyv2:1.13.0-asm.0')) }], { expectations, healthySince: null }));
    expect(oldProxies.decision.status === 'wait' && oldProxies.decision.reason).toContain('1 pod(s) still run the old proxy 1.13.0-asm.0: istio-ingress/istio-ingressgateway-7d9f');

    const ok = evaluateArgoGate(input([{ tree: tree(istiod, gatewayPod('gcr.io/gke-release/asm/proxyv2:1.14.0-asm.0')) }], { expectations }));
    expect(ok.decision.status).toBe('pass');

    const late = evaluateArgoGate(input([{ ancestry: 'behind' }], { now: new Date('2026-11-22T10:40:00Z') }));
    expect(late.decision.status === 'fail' && late.decision.reason).toMatch(/^timed out after 30 min: prod-mesh: Argo CD has not seen the merge commit yet/);
  });
});
