import { NamespaceInjection } from '../../constructs/namespace-injection.js';
import { RevisionTag } from '../../constructs/revision-tag.js';
import { WorkloadRestart } from '../../constructs/workload-restart.js';
import { UpgradeRefusedError } from '../../model/errors.js';
import { describe } from '../../model/kube.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { MeshNamespace, Workload } from '../inventory.js';
import { restartMinutes } from '../phase-ids.js';
import { inlineCode } from '../user-text.js';
import { type DraftScope, type PhaseDraft, type PlanContext, podsOf } from './context.js';
import { restartedWorkloads, rolloutStatusChecks } from './rollout.js';

/** A namespace's worth of work: its relabel and the restarts of its workloads. */
interface MigrationUnit {
  readonly namespace: string;
  /** Already on the target (moved earlier in this upgrade): kept for stable wave ids, nothing to do. */
  readonly done: boolean;
  readonly definition: MeshNamespace | null;
  readonly workloads: readonly Workload[];
  readonly pods: number;
}

/**
 * Phase 3: application namespaces move to the new revision and their workloads restart (a
 * relabel alone changes no running pod). Canary namespaces go first in their own wave; the rest
 * are packed into waves of at most `podBudget` pods (a namespace larger than the budget is a wave
 * of its own).
 */
export function draftWorkloadWaves(
  ctx: PlanContext,
  scopeFor: (id: string) => DraftScope,
  gatewayNamespaces: ReadonlySet<string>,
): PhaseDraft[] {
  const units = migrationUnits(ctx, gatewayNamespaces);
  const canary = new Set(ctx.canary);
  // A typo must not quietly run the upgrade without its canary wave.
  const unknown = ctx.canary.filter((name) => !units.some((u) => u.namespace === name));
  if (unknown.length > 0) {
    const valid = units.map((u) => u.namespace);
    throw new UpgradeRefusedError(
      `canary namespace${unknown.length > 1 ? 's' : ''} ${unknown
        .slice(0, 5)
        .map((n) => inlineCode(n))
        .join(
          ', ',
        )} ${unknown.length > 1 ? 'are' : 'is'} not a meshed namespace moving from ${ctx.from.name} to ${ctx.to.name}; canary namespaces can be: ${valid.slice(0, 30).join(', ')}${valid.length > 30 ? ', …' : ''}.`,
      'unknown-canary-namespace',
    );
  }
  if (units.length === 0) return [];
  const waves: MigrationUnit[][] = [];
  const canaryUnits = units.filter((u) => canary.has(u.namespace));
  if (canaryUnits.length > 0) waves.push(canaryUnits);

  let current: MigrationUnit[] = [];
  let currentPods = 0;
  for (const unit of units.filter((u) => !canary.has(u.namespace))) {
    if (unit.pods > ctx.podBudget) {
      ctx.warn({
        code: 'wave-over-budget',
        message: `namespace ${unit.namespace} runs ${unit.pods} pods, more than the wave budget of ${ctx.podBudget}; it gets a wave of its own (about ${restartMinutes(unit.pods)} min of restarts).`,
        file: unit.definition?.definitions[0]?.file ?? null,
      });
      if (current.length > 0) waves.push(current);
      waves.push([unit]);
      current = [];
      currentPods = 0;
      continue;
    }
    if (currentPods + unit.pods > ctx.podBudget && current.length > 0) {
      waves.push(current);
      current = [];
      currentPods = 0;
    }
    current.push(unit);
    currentPods += unit.pods;
  }
  if (current.length > 0) waves.push(current);

  return waves.map((wave, i) =>
    draftWave(
      ctx,
      scopeFor(waves.length === 1 ? 'workloads' : `workloads-${i + 1}`),
      wave,
      i,
      waves.length,
      canaryUnits.length > 0 && i === 0,
    ),
  );
}

/** The tag canary namespaces follow under the tag strategy. */
const CANARY_TAG = 'canary';

/** Creates the canary tag (→ new revision) once, in the canary wave, shaped after an existing tag. */
function ensureCanaryTag(ctx: PlanContext, s: DraftScope): PlacedObject[] {
  if (ctx.inventory.tags.some((t) => t.tag === CANARY_TAG)) return [];
  const template = ctx.inventory.tags.find((t) => t.tag === 'default') ?? ctx.inventory.tags[0];
  if (!template) {
    ctx.warn({
      code: 'no-tag-to-copy',
      message:
        'the tag strategy needs a revision tag in git to shape the canary tag after; canary namespaces are relabelled to the new revision instead.',
      file: null,
    });
    return [];
  }
  const file = `${template.object.file.replace(/[^/]+$/, '')}istio-revision-tag-${CANARY_TAG}.yaml`;
  return [
    {
      desired: new RevisionTag(s.scope, s.id('MutatingWebhookConfiguration', CANARY_TAG), {
        template: template.object.body,
        tag: CANARY_TAG,
        revision: ctx.to.name,
        file,
      }),
      targets: [],
    },
  ];
}

function migrationUnits(ctx: PlanContext, gatewayNamespaces: ReadonlySet<string>): MigrationUnit[] {
  const { inventory, from } = ctx;
  const byNamespace = new Map<string, Workload[]>();
  for (const workload of inventory.workloads) {
    const ns = workload.object.namespace ?? '';
    const list = byNamespace.get(ns) ?? [];
    list.push(workload);
    byNamespace.set(ns, list);
  }
  const units: MigrationUnit[] = [];
  const seen = new Set<string>();
  // Namespaces already on the target stay in the waves (as done work), so wave ids do not shift
  // while an upgrade is under way.
  const onEitherSide = (revision: string | null) => revision === from.name || revision === ctx.to.name;
  for (const ns of inventory.namespaces) {
    if (!onEitherSide(ns.revision)) continue;
    seen.add(ns.name);
    const workloads = byNamespace.get(ns.name) ?? [];
    // A gateway-only namespace moves with the gateways.
    if ((gatewayNamespaces.has(ns.name) || inventory.gateways.some((g) => g.object.namespace === ns.name)) && workloads.length === 0)
      continue;
    // With tags, a namespace resolves to the target as soon as its tag moves: it is done only once
    // its workloads have restarted.
    const restarted = workloads.every((w) => w.optedOut || w.restartMarker === ctx.to.name);
    const done = ns.revision === ctx.to.name && (ctx.strategy === 'relabel' || restarted);
    units.push({ namespace: ns.name, definition: ns, workloads, pods: podsOf(workloads), done });
  }
  // Workloads that pick their revision by pod label, in namespaces without an injection label.
  for (const [namespace, workloads] of byNamespace) {
    if (seen.has(namespace)) continue;
    const own = workloads.filter((w) => onEitherSide(w.podRevision));
    if (own.length > 0)
      units.push({ namespace, definition: null, workloads: own, pods: podsOf(own), done: own.every((w) => w.podRevision === ctx.to.name) });
  }
  return units.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
}

function draftWave(
  ctx: PlanContext,
  s: DraftScope,
  wave: readonly MigrationUnit[],
  index: number,
  total: number,
  isCanary: boolean,
): PhaseDraft {
  const { from, to, inventory } = ctx;
  const objects: PlacedObject[] = [];
  const manual: string[] = [];
  const tags = ctx.strategy === 'tag';
  const canaryTag = tags && isCanary && wave.some((u) => !u.done) ? ensureCanaryTag(ctx, s) : [];
  const canaryLabel = canaryTag.length > 0 || inventory.tags.some((t) => t.tag === CANARY_TAG) ? CANARY_TAG : to.name;
  objects.push(...canaryTag);
  for (const unit of wave) {
    if (unit.done) continue;
    const ns = unit.definition;
    // A namespace naming the old revision itself follows no tag: it is relabelled whatever the strategy.
    const namesOldRevision = ns?.injection.mode === 'revision' && ns.injection.value === from.name;
    if (tags && ns && ns.injection.mode !== 'none' && !namesOldRevision) {
      // Tag strategy: the namespace keeps following its tag (which moves in default-revision);
      // canary namespaces move to the canary tag, which already points at the new revision.
      if (isCanary)
        objects.push({
          desired: new NamespaceInjection(s.scope, s.id('Namespace', ns.name), { namespace: ns.name, revision: canaryLabel }),
          targets: ns.definitions,
        });
    } else if (ns && ns.injection.mode !== 'none') {
      if (ns.injection.mode === 'revision' && ns.injection.value !== from.name) {
        ctx.warn({
          code: 'tag-bypassed',
          message: `namespace ${ns.name} follows tag '${ns.injection.value}'; it is relabelled to the revision ${to.name} directly, and the tag moves in the default-revision phase.`,
          file: ns.definitions[0]?.file ?? null,
        });
      }
      objects.push({
        desired: new NamespaceInjection(s.scope, s.id('Namespace', ns.name), { namespace: ns.name, revision: to.name }),
        targets: ns.definitions,
      });
    }
    for (const workload of unit.workloads) {
      const { object } = workload;
      if (workload.optedOut) continue;
      objects.push({
        desired: new WorkloadRestart(s.scope, s.id(object.kind, object.namespace, object.name), {
          apiVersion: object.apiVersion,
          kind: object.kind as 'Deployment',
          namespace: unit.namespace,
          name: object.name,
          revision: to.name,
          podRevisionLabel: ns === null || (ns.injection.mode === 'none' && workload.podRevision === from.name),
        }),
        targets: [object],
      });
    }
    if (unit.workloads.length === 0) {
      manual.push(`kubectl -n ${unit.namespace} rollout restart deployment,statefulset,daemonset   # its workloads are not in this repo`);
      ctx.warn({
        code: 'workloads-not-in-repo',
        message: `namespace ${unit.namespace} is meshed but none of its workloads are in the repo; restart them by hand after merging.`,
        file: ns?.definitions[0]?.file ?? null,
      });
    }
  }
  const pods = wave.reduce((sum, u) => sum + u.pods, 0);
  const names = wave.map((u) => u.namespace);
  const optedOut = wave.flatMap((u) => u.workloads.filter((w) => w.optedOut));
  const label =
    total === 1 ? '' : isCanary ? ` (canary wave: ${names.join(', ')})` : ` (wave ${index + 1} of ${total}: ${names.join(', ')})`;
  return {
    id: s.phaseId,
    title: `Move workloads to ${to.name}${label}`,
    why: `${
      tags
        ? isCanary
          ? `Moves ${names.join(', ')} to the \`${canaryLabel}\` tag, which points at ${to.name}, and restarts their ${pods} pod(s)`
          : `Restarts the ${pods} pod(s) of ${names.join(', ')}: they follow a tag that now points at ${to.name}, and are re-injected`
        : `Relabels ${names.join(', ')} to istio.io/rev=${to.name} (dropping istio-injection, which would win over it) and restarts their ${pods} pod(s)`
    } so that they are re-injected with the ${to.version ?? to.name} proxy. Injection only happens when a pod is created.${optedOut.length ? ` Not restarted (opted out of injection): ${optedOut.map((w) => describe(w.object)).join(', ')}.` : ''}`,
    objects,
    deletions: [],
    manual,
    manualDone: true,
    pods,
    namespaces: names,
    estimatedMinutes: restartMinutes(pods),
    verify: [
      `kubectl get namespace ${names.join(' ')} -L istio-injection -L istio.io/rev`,
      ...wave.flatMap((u) => rolloutStatusChecks(u.namespace, restartedWorkloads(u.workloads))),
      `istioctl proxy-status | grep -E '\\.(${names.join('|')}) ' | ${from.name === 'default' ? `grep -vc ' istiod-${to.name}-'` : `grep -cE 'istiod-${from.name}-[a-z0-9]+-[a-z0-9]{5}( |$)'`}   # expect 0`,
    ],
    rollback: [
      `Revert this pull request: the namespaces go back to ${from.name} and the pods restart onto it (${from.name} is still installed).`,
    ],
  };
}
