import { renderedRevision } from '../../demo/prepared-render.js';
import { planUpgrade } from '../../src/core/plan.js';
import { applyFileChanges, type RepoSnapshot } from '../../src/model/snapshot.js';
import { kustomizeBuild } from './upgrade-run.js';

/**
 * The person's side of the first canary on fixture rendered-kustomize-patches (a rendered install
 * customised by a kustomize overlay): what its manual steps ask them to commit.
 */

export const TO = '1-22-1';

/** The overlay's build, as Argo CD renders it. */
export const build = (repo: RepoSnapshot) => kustomizeBuild(repo, 'overlays/prod');

const INJECTOR_VALUES = `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio-sidecar-injector-${TO}
  namespace: istio-system
  labels:
    istio.io/rev: ${TO}
data:
  values: |-
    {"global":{"hub":"docker.io/istio","tag":"1.22.1","istioNamespace":"istio-system"},"revision":"${TO}","sidecarInjectorWebhook":{"enableNamespacesByDefault":false}}
`;

/** The control-plane pull request: the bot's twin patches, and the person's commit of the render, as its manual steps say. */
export function withManualControlPlane(repo: RepoSnapshot): RepoSnapshot {
  const next = new Map(applyFileChanges(repo, planUpgrade(repo, { to: TO }).phases.find((p) => p.id === 'control-plane')!.files));
  next.set(`base/istio-system/${TO}/istiod.yaml`, renderedRevision(TO, '1.22.1') + INJECTOR_VALUES);
  const k = 'base/istio-system/kustomization.yaml';
  next.set(k, next.get(k)!.replace('  - rendered/istio.yaml', `  - ${TO}/istiod.yaml\n  - rendered/istio.yaml`));
  return next;
}

/** The person's regeneration of the pinned gateway, as the gateways phase's manual steps say. */
export function withRegeneratedGateway(repo: RepoSnapshot): RepoSnapshot {
  const file = 'base/istio-ingress/gateway.yaml';
  const text = repo
    .get(file)!
    .replace('proxyv2:1.21.2', 'proxyv2:1.22.1')
    .replace('istiod.istio-system.svc:15012', `istiod-${TO}.istio-system.svc:15012`);
  return new Map(repo).set(file, text);
}
