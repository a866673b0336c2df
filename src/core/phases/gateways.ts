import { HelmValues } from '../../constructs/helm-release.js';
import { NamespaceInjection } from '../../constructs/namespace-injection.js';
import { RevisionLabel } from '../../constructs/revision-label.js';
import { WorkloadRestart } from '../../constructs/workload-restart.js';
import { getPath, ISTIO_SYSTEM, labelsOf, podTemplateOf, REV_LABEL, stringMap } from '../../model/kube.js';
import type { MergePatch } from '../../model/merge-patch.js';
import type { PlacedObject } from '../../model/placed-object.js';
import { revisionSelectedBy } from '../discover.js';
import type { Gateway } from '../inventory.js';
import { restartMinutes } from '../phase-ids.js';
import { imagePinOverrides, mergeValues } from '../sources/image-pins.js';
import { type DraftScope, type PhaseDraft, type PlanContext, podsOf } from './context.js';
import { chartVersionMove, helmGatewayMoves } from './helm-nonrevisioned.js';
import { firstCanaryGatewayMoves } from './operator-first-canary.js';
import { restartedGateways, rolloutStatusChecks } from './rollout.js';

/**
 * Phase 2: gateways move first (Istio's order), while every application still runs the old
 * revision: a gateway on the new proxy in front of old sidecars is the supported skew.
 */
export function draftGateways(ctx: PlanContext, s: DraftScope): PhaseDraft {
  const { from, to, inventory } = ctx;
  const objects: PlacedObject[] = [];
  const manual: string[] = [];
  const moving: Gateway[] = [];
  const namespaces = new Set<string>();
  const namespaceByName = new Map(inventory.namespaces.map((n) => [n.name, n]));

  for (const gateway of inventory.gateways) {
    if (gateway.revision !== from.name) continue;
    const { object } = gateway;
    const namespace = object.namespace ?? '';
    if (gateway.pinned) {
      // Its proxy image and CA address are written out: a restart keeps it on the old revision,
      // and cleanup would leave it without a control plane. It needs its manifest regenerated.
      const what = [
        gateway.pinned.image ? `image ${gateway.pinned.image}` : null,
        gateway.pinned.caAddress ? `CA_ADDR ${gateway.pinned.caAddress}` : null,
      ]
        .filter(Boolean)
        .join(' and ');
      ctx.warn({
        code: 'gateway-pinned-proxy',
        message: `${object.kind} ${namespace}/${object.name} pins its proxy (${what}); relabelling and restarting do not move it to ${to.name}, and cleanup stays blocked until it no longer names ${from.name}. Regenerate it for ${to.name}, or switch it to injection (annotation inject.istio.io/templates: gateway, image: auto).`,
        file: object.file,
      });
      // Same component, name and namespace as today, nothing else rendered: the Deployment it
      // prints replaces the pinned one in place (its selector is immutable, its name has no revision).
      const component = podTemplateOf(object.body).labels.istio === 'egressgateway' ? 'egressGateways' : 'ingressGateways';
      const set = (key: string, value: string) => `--set '${key}=${value}'`;
      manual.push(
        `# ${namespace}/${object.name} (${object.file}) pins ${what}: regenerate it with the istioctl of ${to.version ?? to.name} and the overlay it was rendered from (OVERLAY below)`,
        [
          `istioctl manifest generate -f OVERLAY --set revision=${to.name}`,
          set('components.base.enabled', 'false'),
          set('components.pilot.enabled', 'false'),
          set(`components.${component}[0].name`, object.name),
          set(`components.${component}[0].namespace`, namespace),
          set(`components.${component}[0].enabled`, 'true'),
          `> ${object.name}-${to.name}.yaml   # replace the Deployment ${namespace}/${object.name} in ${object.file} with the one in this file, and commit`,
        ].join(' '),
      );
      continue;
    }
    if (gateway.style === 'pod-label' && stringMap(getPath(object.body, ['spec', 'selector', 'matchLabels']))[REV_LABEL]) {
      ctx.warn({
        code: 'gateway-selector-pins-revision',
        message: `${object.kind} ${namespace}/${object.name} selects its pods by istio.io/rev; the selector is immutable, so move it with a canary Deployment (see Istio's gateway canary upgrade) instead of relabelling.`,
        file: object.file,
      });
      manual.push(
        `Create a canary gateway Deployment for ${namespace}/${object.name} with pod label istio.io/rev=${to.name}, shift replicas to it, then delete the old one.`,
      );
      continue;
    }
    moving.push(gateway);
    if (gateway.style === 'namespace-label') {
      const ns = namespaceByName.get(namespace);
      if (ns && !namespaces.has(namespace)) {
        objects.push({
          desired: new NamespaceInjection(s.scope, s.id('Namespace', namespace), { namespace, revision: to.name }),
          targets: ns.definitions,
        });
      }
    }
    namespaces.add(namespace);
    objects.push({
      desired: new WorkloadRestart(s.scope, s.id(object.kind, namespace, object.name), {
        apiVersion: object.apiVersion,
        kind: object.kind as 'Deployment',
        namespace,
        name: object.name,
        revision: to.name,
        podRevisionLabel: gateway.style === 'pod-label',
        // The Deployment's own label mirrors the pods' (IstioOperator and Helm gateways carry both).
        workloadRevisionLabel: labelsOf(object.body)[REV_LABEL] === from.name,
      }),
      targets: [object],
    });
  }

  for (const release of inventory.helmGateways) {
    // A gateway release without `revision` is on the non-revisioned control plane (`default`); one
    // whose `revision` is a tag is on the tag's revision.
    const value = typeof release.values.revision === 'string' && release.values.revision !== '' ? release.values.revision : null;
    const onRevision = value === null ? (from.name === 'default' ? 'default' : undefined) : revisionSelectedBy(inventory, value);
    if (onRevision !== from.name) continue;
    const { object } = release;
    if (value !== null && value !== from.name) {
      // Pinned for the move: a gateway goes before its clients and before the tag, and moving the tag
      // would not restart it (nothing in its pod template changes).
      ctx.warn({
        code: 'gateway-tag-pinned',
        message: `gateway release ${object.name} follows tag ${value} (${from.name} today); the gateways phase sets its revision to ${to.name} so that it moves before the applications and is restarted. Set revision back to ${value} after the upgrade if it should follow the tag again (the tag then points at ${to.name}: one more restart, same revision).`,
        file: object.file,
      });
    }
    const moves = helmGatewayMoves(ctx, s, release);
    objects.push(...moves.objects);
    // A version from a Flux variable moves at its source when only this release uses it, else it is pinned.
    const move =
      release.chartVersionPath && to.version && from.version && release.chartVersion === from.version
        ? chartVersionMove(ctx, s, release, to.version)
        : null;
    if (move) objects.push(...move.objects);
    const chartVersion = move?.chartVersion ?? undefined;
    objects.push({
      desired: new HelmValues(s.scope, s.id(object.kind, object.name), {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.name,
        namespace: object.namespace,
        valuesPath: release.valuesPath,
        // An explicit proxy tag of the running release moves with the gateway (variant kept); a digest is refused.
        values: mergeValues(
          { revision: to.name },
          imagePinOverrides(release.values, from, to, { file: object.file, prefix: release.valuesPath.join('.') }),
        ) as MergePatch,
        ...(chartVersion ? { chartVersion } : {}),
        ...(moves.also ? { also: moves.also } : {}),
        ...(moves.remove.length > 0 ? { remove: moves.remove } : {}),
      }),
      targets: [object],
    });
    const destination = String(
      getPath(object.body, ['spec', 'destination', 'namespace']) ??
        getPath(object.body, ['spec', 'targetNamespace']) ??
        (object.kind === 'HelmRelease' ? object.namespace : null) ??
        '',
    );
    if (destination) namespaces.add(destination);
  }

  // Istio config labelled with the old revision is read by the old istiod only: once a gateway
  // (or, later, a sidecar) moves, the new istiod must see it too. Unlabelled config is read by
  // every revision, so the label goes before the first client moves.
  const unlabelled: string[] = [];
  for (const config of inventory.revisionedConfig) {
    if (labelsOf(config.body)[REV_LABEL] !== from.name) continue;
    unlabelled.push(`${config.kind} ${config.namespace ? `${config.namespace}/` : ''}${config.name}`);
    objects.push({
      desired: new RevisionLabel(s.scope, s.id(config.kind, config.namespace, config.name), {
        apiVersion: config.apiVersion,
        kind: config.kind,
        namespace: config.namespace,
        name: config.name,
        revision: null,
        onlyLabel: Object.keys(labelsOf(config.body)).length === 1,
      }),
      targets: [config],
    });
  }

  // From a non-revisioned IstioOperator: its gateway components move to the new IstioOperator.
  const iopGateways = firstCanaryGatewayMoves(ctx, s);
  objects.push(...iopGateways.objects);
  manual.push(...iopGateways.manual);
  if (iopGateways.moved.length > 0) namespaces.add(ISTIO_SYSTEM);
  const pods = podsOf(moving);
  const names = [...namespaces].sort();
  return {
    id: 'gateways',
    title: `Move gateways to ${to.name}`,
    why: `Restarts the gateways onto ${to.name}${names.length ? ` (${names.join(', ')})` : ''} before any application: a newer gateway in front of older sidecars is the supported direction of version skew. Applications keep running on ${from.name}.${unlabelled.length ? ` Istio config labelled istio.io/rev=${from.name} (${unlabelled.join(', ')}) loses the label, so that both control planes serve it while clients move.` : ''}`,
    objects,
    deletions: [],
    manual,
    manualDone: manual.length === 0,
    manualResult: 'repo',
    pods,
    namespaces: names,
    estimatedMinutes: restartMinutes(pods),
    verify: [
      // One check per gateway Deployment restarted here; a Helm release's gateway is not in the repo.
      ...names.flatMap((ns) => rolloutStatusChecks(ns, restartedGateways(moving, ns), ['deployment'])),
      `istioctl proxy-status | grep -E '${names.join('|') || 'gateway'}'   # ISTIOD column: istiod-${to.name}-…`,
      ...names.map(
        (ns) =>
          `kubectl -n ${ns} get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\\t"}{.spec.containers[?(@.name=="istio-proxy")].image}{"\\n"}{end}'   # proxyv2:${to.version ?? to.name}`,
      ),
    ],
    rollback: [`Revert this pull request: the gateways roll back onto ${from.name}, which is still installed and serving.`],
  };
}
