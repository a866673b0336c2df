import { NamespaceInjection } from '../../constructs/namespace-injection.js';
import { describe as describeObject } from '../../model/kube.js';
import type { PlacedObject } from '../../model/placed-object.js';
import { restartMinutes } from '../phase-ids.js';
import type { PhaseDraft } from './context.js';
import { rolloutStatusChecks } from './rollout.js';
import { onMesh, pinnedToOld, relabelNamespace, restartWorkload, type SailContext, sailScope } from './sail-context.js';

export interface SailGateways {
  readonly draft: PhaseDraft;
  /** Namespaces of the gateways: a namespace with only gateways in it is moved here, not in a workloads wave. */
  readonly namespaces: readonly string[];
}

/** gateways: restart the injected gateways of this Istio (the operator restarts nothing). */
export function draftSailGateways(ctx: SailContext): SailGateways {
  const { plane, inventory, from, to, warn } = ctx;
  const namespaceByName = new Map(inventory.namespaces.map((n) => [n.name, n]));
  const gw = sailScope(ctx, 'gateways');
  const gatewayObjects: PlacedObject[] = [];
  const gateways = inventory.gateways.filter((g) => onMesh(ctx, g.revision));
  const gatewayNamespaces = [...new Set(gateways.map((g) => g.object.namespace ?? ''))].sort();
  for (const name of gatewayNamespaces) {
    const ns = namespaceByName.get(name);
    if (ns && pinnedToOld(ctx, ns) && !inventory.workloads.some((w) => w.object.namespace === name))
      gatewayObjects.push(relabelNamespace(ctx, gw, ns));
  }
  for (const g of gateways) {
    if (g.optedOut) continue;
    gatewayObjects.push(restartWorkload(ctx, gw, g));
    if (g.pinned?.image) {
      warn({
        code: 'gateway-pinned-proxy',
        message: `gateway ${describeObject(g.object)} has its proxy image written out (${g.pinned.image}); a restart does not change it. Regenerate it for ${to.version}.`,
        file: g.object.file,
      });
    }
  }
  const gatewayPods = gateways.reduce((n, g) => n + (g.optedOut ? 0 : g.replicas), 0);
  const draft: PhaseDraft = {
    id: 'gateways',
    title: `Move gateways to ${to.name}`,
    why: gateways.length
      ? `Restarts the injected gateways (${gateways.map((g) => describeObject(g.object)).join(', ')})${gatewayObjects.some((o) => o.desired instanceof NamespaceInjection) ? ', relabelling the namespaces pinned to the old revision,' : ''} so that they are re-injected with the ${to.version} proxy by ${to.name}. The Sail Operator does not restart them.`
      : `No injected gateway in the repo runs on Istio ${plane.name}; nothing to move.`,
    objects: gatewayObjects,
    deletions: [],
    manual: [],
    manualDone: true,
    pods: gatewayPods,
    namespaces: gatewayNamespaces,
    estimatedMinutes: gateways.length ? restartMinutes(gatewayPods) : 0,
    verify: gatewayNamespaces.flatMap((ns) =>
      rolloutStatusChecks(
        ns,
        gateways.filter((g) => g.object.namespace === ns && !g.optedOut).map((g) => g.object),
      ),
    ),
    rollback: [`Revert this pull request: the gateways restart onto ${from?.name ?? 'the old revision'} while it is still installed.`],
  };
  return { draft, namespaces: gatewayNamespaces };
}
