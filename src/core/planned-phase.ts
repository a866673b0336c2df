import { getPath } from '../model/kube.js';
import type { ObjectChange } from '../model/placed-object.js';
import type { PlanWarning } from '../model/plan-warning.js';
import type { FileChange, RepoSnapshot } from '../model/snapshot.js';
import { revisionSelectedBy } from './discover.js';
import type { MeshInventory } from './inventory.js';
import { draftLeftoverOperatorCleanup } from './phases/cleanup.js';
import type { PhaseDraft, PlanContext } from './phases/context.js';
import { countProxiesOn } from './phases/naming.js';
import type { PlannedPhase, UpgradePlan } from './plan-types.js';
import { operatorGateways } from './preflight.js';
import { renderPhase } from './render-phase.js';
import type { Revision } from './revision.js';

export function toPlannedPhase(draft: PhaseDraft, changes: readonly ObjectChange[], files: readonly FileChange[]): PlannedPhase {
  return {
    id: draft.id,
    title: draft.title,
    why: draft.why,
    status: files.length === 0 && draft.manualDone ? 'done' : 'pending',
    manualResult: draft.manualResult ?? 'cluster',
    changes,
    files,
    manual: draft.manual,
    estimatedMinutes: draft.estimatedMinutes,
    pods: draft.pods,
    namespaces: draft.namespaces,
    beforeMerge: draft.beforeMerge ?? [],
    verify: draft.verify,
    rollback: draft.rollback,
    blockedBy: draft.blockedBy ?? [],
  };
}

/**
 * What would still name the old revision once the phases before cleanup are merged: namespaces,
 * pod-level revision labels, tags, the default validator, the `istiod` Service, Istio config
 * labelled with it, gateways. Cleanup is only proposed when this is empty (the InUse rule of Istio's
 * Sail operator, applied to the repo).
 */
export function remainingReferences(ctx: PlanContext, drafts: readonly PhaseDraft[]): string[] {
  const old = ctx.from.name;
  const moved = new Set(drafts.flatMap((d) => d.objects.flatMap((o) => o.targets.map((t) => `${t.file}#${t.documentIndex}`))));
  const isMoved = (o: { file: string; documentIndex: number }) => moved.has(`${o.file}#${o.documentIndex}`);
  const { inventory } = ctx;
  const left: string[] = [];
  // With tags, a namespace that follows a tag moves when the tag does (default-revision).
  const followsMovedTag = (ns: (typeof inventory.namespaces)[number]) =>
    ctx.strategy === 'tag' &&
    (ns.injection.mode === 'injection-enabled' || (ns.injection.mode === 'revision' && ns.injection.value !== old));
  for (const ns of inventory.namespaces) {
    if (ns.revision === old && !ns.definitions.some(isMoved) && !followsMovedTag(ns)) left.push(`namespace ${ns.name}`);
  }
  for (const workload of inventory.workloads) {
    if (workload.podRevision === old && !workload.optedOut && !isMoved(workload.object))
      left.push(`pod label on ${workload.object.kind} ${workload.object.namespace}/${workload.object.name}`);
  }
  for (const tag of inventory.tags) if (tag.revision === old && !isMoved(tag.object)) left.push(`tag ${tag.tag}`);
  const validator = inventory.defaultValidator;
  if (validator && validator.body.metadata.labels?.['istio.io/rev'] === old && !isMoved(validator)) left.push('istiod-default-validator');
  const service = inventory.istiodService;
  const selector = service
    ? (getPath(service.body, ['spec', 'selector']) as Record<string, unknown> | undefined)?.['istio.io/rev']
    : undefined;
  // The non-revisioned `istiod` Service selects no revision (`istio: pilot`): it names `default`.
  if (service && (selector === old || (old === 'default' && selector === undefined)) && !isMoved(service)) left.push('Service istiod');
  for (const config of inventory.revisionedConfig) {
    if (config.body.metadata.labels?.['istio.io/rev'] === old && !isMoved(config))
      left.push(`${config.kind} ${config.namespace ?? ''}/${config.name}`);
  }
  for (const gateway of inventory.gateways) {
    if (gateway.revision === old && !isMoved(gateway.object)) left.push(`gateway ${gateway.object.namespace}/${gateway.object.name}`);
  }
  for (const release of inventory.helmGateways) {
    const value = typeof release.values.revision === 'string' && release.values.revision !== '' ? release.values.revision : null;
    const on = value === null ? (old === 'default' ? 'default' : null) : revisionSelectedBy(inventory, value);
    if (on === old && !isMoved(release.object)) left.push(`gateway release ${release.object.name}`);
  }
  // Gateways the old IstioOperator runs go with it at cleanup: they must move out first.
  if (ctx.installed?.install === 'istio-operator' && ctx.installed.installer && !isMoved(ctx.installed.installer)) {
    for (const name of operatorGateways(ctx.installed.installer))
      left.push(`gateway ${name} of IstioOperator ${ctx.installed.installer.name}`);
  }
  return left;
}

export function emptyWorkloads(ctx: PlanContext, id = 'workloads'): PhaseDraft {
  return {
    id,
    title: `Move workloads to ${ctx.to.name}`,
    why: `No namespace or workload in the repo runs on ${ctx.from.name}; nothing to move.`,
    objects: [],
    deletions: [],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 0,
    verify: [`${countProxiesOn(ctx.from.name, ctx.to.name)}   # expect 0`],
    rollback: [],
  };
}

function withFiles(snapshot: RepoSnapshot, draft: PhaseDraft): [readonly ObjectChange[], readonly FileChange[]] {
  const applied = renderPhase(new Map(snapshot), { objects: draft.objects, deletions: draft.deletions });
  return [applied.changes, applied.files];
}

/** The repo already runs only the target: every phase is done. */
export function alreadyThere(snapshot: RepoSnapshot, inventory: MeshInventory, to: Revision, warnings: PlanWarning[]): UpgradePlan {
  const installed = inventory.revisions.find((r) => r.name === to.name);
  const ids = ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'];
  // Cleanup is merged, but the old revision's operator is still in git: it goes last.
  const operatorCleanup = draftLeftoverOperatorCleanup(inventory, to.name);
  const leftover = operatorCleanup ? [toPlannedPhase(operatorCleanup, ...withFiles(snapshot, operatorCleanup))] : [];
  return {
    from: { revision: null, version: null },
    to: { revision: to.name, version: installed?.version ?? to.version },
    install: installed?.install ?? (to.flavor === 'managed' ? 'managed' : 'external'),
    strategy: 'relabel',
    direction: 'none',
    phases: ids
      .map(
        (id): PlannedPhase => ({
          id,
          title: id,
          why: `The repo already runs ${to.name} only.`,
          status: 'done' as const,
          manualResult: 'cluster' as const,
          changes: [],
          files: [],
          manual: [],
          estimatedMinutes: 0,
          pods: 0,
          namespaces: [],
          beforeMerge: [],
          verify: [],
          rollback: [],
          blockedBy: [],
        }),
      )
      .concat(leftover),
    warnings,
    original: snapshot,
    inventory,
  };
}

/**
 * The IstioOperator overlay a rendered control plane is generated from: a YAML file of kind
 * IstioOperator without a revision, which is kept in the repo but not applied (it has no name, or
 * the cluster has no operator). Null when there is none, or more than one.
 */
export function findRenderOverlay(snapshot: RepoSnapshot): string | null {
  const found = [...snapshot]
    .filter(([path, text]) => /\.ya?ml$/.test(path) && /^kind:\s*IstioOperator\s*$/m.test(text) && !/^\s+revision:\s*\S/m.test(text))
    .map(([path]) => path);
  return found.length === 1 ? found[0]! : null;
}
