import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import { loadFixture } from '../../helpers/fixtures.js';

describe('gateways verify: rollout status per restarted gateway', () => {
  it('names each gateway Deployment the phase restarts, one per rollout status', async () => {
    const plan = planUpgrade(await loadFixture('asm-manifests'), { to: 'asm-1140-0' });
    const checks = plan.phases.find((p) => p.id === 'gateways')!.verify.filter((c) => c.includes('rollout status'));
    expect(checks).toEqual(['kubectl -n istio-ingress rollout status deployment/istio-ingressgateway --timeout=10m']);
  });

  it('loops over the Deployments of the namespace for gateways installed by a Helm release (their Deployment is not in the repo)', async () => {
    const plan = planUpgrade(await loadFixture('helm-argocd'), { to: '1-22-1' });
    const gateways = plan.phases.find((p) => p.id === 'gateways')!;
    const checks = gateways.verify.filter((c) => c.includes('rollout status'));
    expect(checks.length).toBeGreaterThan(0);
    for (const check of checks)
      expect(check).toMatch(
        /^for w in \$\(kubectl -n \S+ get deployment -o name\); do kubectl -n \S+ rollout status "\$w" --timeout=10m; done$/,
      );
  });
});

/** A gateway as `istioctl manifest generate` writes it: the proxy image and its istiod are spelled out. */
const PINNED_GATEWAY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-egressgateway
  namespace: istio-egress
spec:
  replicas: 2
  selector:
    matchLabels: {app: istio-egressgateway, istio: egressgateway}
  template:
    metadata:
      annotations:
        sidecar.istio.io/inject: "false"
      labels:
        app: istio-egressgateway
        istio: egressgateway
        istio.io/rev: asm-1130-0
    spec:
      containers:
        - name: istio-proxy
          image: gcr.io/gke-release/asm/proxyv2:1.13.0-asm.0
          args: [proxy, router]
          env:
            - name: CA_ADDR
              value: istiod-asm-1130-0.istio-system.svc:15012
`;

describe('gateways phase on the ASM manifests fixture', () => {
  it('removes istio.io/rev from revision-labelled Istio config before the first client moves, and nothing relabels it later', async () => {
    const snapshot = await loadFixture('asm-manifests');
    const plan = planUpgrade(snapshot, { to: 'asm-1140-0' });
    const file = 'clusters/prod/apps/bookinfo/istio-config.yaml';
    const gateways = plan.phases.find((p) => p.id === 'gateways')!;
    const after = gateways.files.find((f) => f.path === file)!.content!;
    const reviews = (loadAll(after) as Array<{ kind: string; metadata: { name: string; labels?: Record<string, string> } }>).find(
      (o) => o.kind === 'VirtualService' && o.metadata.name === 'reviews',
    )!;
    expect(reviews.metadata.labels?.['istio.io/rev']).toBeUndefined();
    // Only the label line (and its comment) went; the rest of the file is byte for byte the same.
    expect(after.split('\n').length).toBeGreaterThanOrEqual(snapshot.get(file)!.split('\n').length - 2);
    expect(plan.phases.filter((p) => p.id !== 'gateways').flatMap((p) => p.files.map((f) => f.path))).not.toContain(file);
    expect(plan.phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual([]);
  });

  it('does not pretend to move a gateway whose proxy is pinned: warns, asks for a regenerated manifest, and blocks cleanup', async () => {
    const snapshot = new Map(await loadFixture('asm-manifests'));
    snapshot.set('clusters/prod/istio-egress/gateway.yaml', PINNED_GATEWAY);
    const plan = planUpgrade(snapshot, { to: 'asm-1140-0' });
    const gateways = plan.phases.find((p) => p.id === 'gateways')!;
    expect(gateways.changes.map((c) => c.name)).not.toContain('istio-egressgateway');
    expect(gateways.manual.join('\n')).toContain('istio-egress/istio-egressgateway');
    const warning = plan.warnings.find((w) => w.code === 'gateway-pinned-proxy')!;
    expect(warning.message).toContain('CA_ADDR istiod-asm-1130-0.istio-system.svc:15012');
    expect(plan.phases.find((p) => p.id === 'cleanup')!.blockedBy).toContain('gateway istio-egress/istio-egressgateway');
    // Regenerated for the new revision, it no longer holds cleanup back.
    snapshot.set(
      'clusters/prod/istio-egress/gateway.yaml',
      PINNED_GATEWAY.replaceAll('asm-1130-0', 'asm-1140-0').replace('1.13.0-asm.0', '1.14.0-asm.0'),
    );
    const regenerated = planUpgrade(snapshot, { to: 'asm-1140-0' });
    expect(regenerated.phases.find((p) => p.id === 'cleanup')!.blockedBy).toEqual([]);
  });
});
