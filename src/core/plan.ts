import { App, Chart } from 'cdk8s';
import { MeshNotFoundError, planHint, said, settingHint, UnknownPhaseError, UpgradeRefusedError } from '../model/errors.js';
import type { PlanWarning } from '../model/plan-warning.js';
import { applyFileChanges, diffSnapshots, type FileChange, type RepoSnapshot } from '../model/snapshot.js';
import { chooseCurrentRevision, describeRevision, resolveStrategy } from './current-revision.js';
import { assertMeshFound, discoverMesh } from './discover.js';
import { toHelmRelease } from './helm-release-values.js';
import type { MeshInventory } from './inventory.js';
import { DEFAULT_POD_BUDGET } from './phase-ids.js';
import { withAdmissionPolicies } from './phases/admission-policies.js';
import { draftCleanup, draftOperatorCleanup } from './phases/cleanup.js';
import type { DraftScope, PlanContext } from './phases/context.js';
import { draftControlPlane } from './phases/control-plane.js';
import { draftDefaultRevision } from './phases/default-revision.js';
import { draftGateways } from './phases/gateways.js';
import { forcedStrategy } from './phases/helm-nonrevisioned.js';
import { adaptManagedCleanup, adaptManagedDefaultRevision, draftManagedControlPlane } from './phases/managed.js';
import { adaptOperatorToHelmCleanup, adaptOperatorToHelmDefaultRevision, adaptOperatorToHelmGateways } from './phases/operator-to-helm.js';
import { draftSailUpgrade } from './phases/sail.js';
import { draftScaleDown, draftScaleUp } from './phases/scale-down.js';
import { draftWorkloadWaves } from './phases/workloads.js';
import {
  assertNoMeshParameters,
  assertNonRevisionedSupported,
  assertOperatorCanReach,
  assertReadableHelmSources,
  fluxSecretWarnings,
} from './plan-refusals.js';
import type { PlanOptions, UpgradePlan } from './plan-types.js';
import { alreadyThere, emptyWorkloads, findRenderOverlay, remainingReferences, toPlannedPhase } from './planned-phase.js';
import { detectPlatform } from './platform.js';
import { collectPreflightWarnings } from './preflight.js';
import { renderPhase } from './render-phase.js';
import { parseRevision, type Revision } from './revision.js';
import { applicationSetWarnings, isGitParamsFile } from './sources/applicationset.js';
import { chartValueFilesWarnings } from './sources/chart-value-files.js';
import { renderLocalCharts, withLocalCharts } from './sources/helm-app-of-apps.js';
import { applyPhaseWithCharts } from './sources/helm-app-of-apps-apply.js';
import { twinIstioOperatorPatches } from './sources/iop-name-keyed-patches.js';
import { routeNamespaceMoves } from './sources/json-patch-moves.js';
import { warnInjectionLabelsFromTransformers, warnUnreadableSelectors } from './sources/json-patches.js';
import { assertKustomizationsBuild } from './sources/kustomize-build.js';
import { withImageOverrides } from './sources/kustomize-images.js';
import { assertNoDuplicateInBuild, duplicateDefinitionRefusal } from './sources/kustomize-reach.js';
import {
  assertManagedMove,
  assertManagedTarget,
  assumedDefaultChannel,
  detectManagedMesh,
  followsUnseenDefault,
} from './sources/managed.js';
import { applyRawFileEdits, twinNameKeyedPatches, withRawFiles } from './sources/name-keyed-patches.js';
import { namespaceDataWarnings } from './sources/namespace-data.js';
import { assertSingleNonRevisioned, firstCanaryStrategy, isFirstCanaryFromIop } from './sources/operator-nonrevisioned.js';
import { warnPatchesThatStopApplying } from './sources/patch-stops-applying.js';
import { followSetters, resolvePlaceholders } from './sources/placeholders.js';
import { sidecarPatchBlockers, withSidecarPatches } from './sources/sidecar-patches.js';
import { evaluateUpgradePolicy } from './upgrade-policy.js';
import { assertVersionSkew } from './version-skew.js';
import { buildYamlIndex } from './yaml-index.js';

/**
 * Plans a canary upgrade from the repo as it is: finds the mesh, checks the upgrade path, drafts
 * each phase's desired objects with cdk8s constructs and writes them, phase after phase, into the
 * repo text. A phase whose edits are already in the repo comes out `done`, so planning again after
 * any number of merged phases picks up where the repo is.
 */
export function planUpgrade(snapshot: RepoSnapshot, options: PlanOptions): UpgradePlan {
  try {
    return planUpgradeOnce(snapshot, options);
  } catch (error) {
    // Two definitions of one object (two overlays planned together): a refusal naming the files.
    const twice =
      error instanceof Error && !(error instanceof UpgradeRefusedError)
        ? /There is already a Construct with name '([A-Za-z]+)-(.+)' in/.exec(error.message)
        : null;
    const refusal = twice ? duplicateDefinitionRefusal(buildYamlIndex(resolvePlaceholders(snapshot).snapshot), twice[1]!, twice[2]!) : null;
    throw refusal ?? error;
  }
}

function planUpgradeOnce(snapshot: RepoSnapshot, options: PlanOptions): UpgradePlan {
  // Placeholders are not revisions: discovery reads kpt setter values instead (and ignores the rest).
  const resolved = resolvePlaceholders(snapshot);
  const files = buildYamlIndex(resolved.snapshot);
  assertKustomizationsBuild(resolved.snapshot, files);
  assertNoDuplicateInBuild(files);
  // Applications rendered by a local chart (app-of-apps) are read from its templates and values files.
  const charts = renderLocalCharts(snapshot, files);
  const index = withLocalCharts(files, charts);
  const managed = detectManagedMesh(index);
  const assumedDefault = assumedDefaultChannel(managed, index, options.to, options.from ?? undefined);
  // A managed mesh whose namespaces only say istio-injection=enabled: they follow the default tag,
  // whatever it serves; that revision is planned as `default` and reported as unknown (null).
  const unseenDefault = assumedDefault === null && followsUnseenDefault(managed, index, options.to, options.from === null);
  const inventory = discoverMesh(index, { defaultTag: assumedDefault ?? (unseenDefault ? 'default' : null) });
  assertSingleNonRevisioned(
    index,
    inventory.operators,
    [...index.ofKind('Application'), ...index.ofKind('HelmRelease')]
      .map((o) => toHelmRelease(o, index))
      .filter((r): r is NonNullable<typeof r> => r !== null),
  );
  const appSetWarnings = applicationSetWarnings(index);
  const valueFileWarnings = chartValueFilesWarnings(index);
  if (!unseenDefault) assertMeshFound(inventory);
  assertNoMeshParameters(inventory);
  assertReadableHelmSources(index);
  const sail = planSail(snapshot, index, inventory, options);
  if (sail) return sail;
  assertManagedTarget(options.to, options.version);
  const requested = parseRevision(options.to, options.version);
  const warnings: PlanWarning[] = index.skipped
    .filter((s) => !isGitParamsFile(index, s.file))
    .map((s) => ({ code: 'skipped-file', message: `skipped: ${s.reason}`, file: s.file }));
  warnings.push(...resolved.warnings);
  for (const w of fluxSecretWarnings(inventory)) warnings.push(w);
  if (unseenDefault) {
    warnings.push({
      code: 'default-revision-unseen',
      message: `no revision is named in git: namespaces labelled istio-injection=enabled follow the default tag, whatever it serves today (istioctl tag list shows it). The plan moves them to ${options.to} by relabelling; the old control plane is not named in any command.`,
      file: managed?.evidence[0] ?? null,
    });
  }
  if (assumedDefault) {
    warnings.push({
      code: 'default-tag-assumed',
      message: `namespaces labelled istio-injection=enabled follow the default tag, which is not in git; read as ${assumedDefault}, the only managed channel the repo names. Check with istioctl tag list before merging the workload phases.`,
      file: managed?.evidence[0] ?? null,
    });
  }
  warnings.push(...appSetWarnings);
  warnings.push(...valueFileWarnings);
  const seen = new Set<string>();
  const warn = (w: PlanWarning) => {
    const key = `${w.code}\0${w.message}\0${w.file}`;
    if (seen.has(key)) return;
    seen.add(key);
    warnings.push(w);
  };

  let to = requested;
  let fromName: string | null;
  if (options.rollback) {
    // Back from `requested` to the revision it replaced, while that one is still in the repo.
    const present =
      inventory.revisions.some((r) => r.name === requested.name) || inventory.namespaces.some((n) => n.revision === requested.name);
    if (options.rollbackNeedsTarget && !present) {
      throw new UpgradeRefusedError(
        said`nothing to roll back: ${requested.name} is not in the repo (no control plane istiod-${requested.name} and no namespace on it), so no upgrade to it ran here. ${planHint(requested.name)} plans the upgrade instead.`,
        'rollback-target-missing',
      );
    }
    const back = chooseCurrentRevision(inventory, requested.name, warn);
    if (back === 'default') {
      throw new UpgradeRefusedError(
        `${requested.name} replaced a non-revisioned control plane; the bot does not plan the way back to it. Revert the merged phase pull requests, newest first (each is one commit: the default-revision revert re-activates istio-sidecar-injector and removes the default tag together).`,
        'rollback-non-revisioned',
      );
    }
    if (back === null) {
      throw new UpgradeRefusedError(
        said`nothing to roll back to: ${requested.name} is the only revision left in the repo (the cleanup phase already removed the old one). Go back with a new canary instead: ${planHint('<older revision>', { downgrade: true })}.`,
        'rollback-after-cleanup',
      );
    }
    to = describeRevision(back, inventory.revisions.find((r) => r.name === back) ?? null);
    fromName = requested.name;
  } else {
    // The bot's re-plans pass the revision the upgrade started from: a control plane outside git whose
    // last reference in the repo has moved is still the one being upgraded from.
    const started = typeof options.from === 'string' && options.from !== to.name ? options.from : null;
    fromName = chooseCurrentRevision(inventory, to.name, warn) ?? started ?? (unseenDefault ? 'default' : null);
  }
  if (fromName === null) {
    const here = inventory.revisions.some((r) => r.name === to.name) || inventory.namespaces.some((n) => n.revision === to.name);
    if (!here)
      throw new MeshNotFoundError(said`no revision to upgrade from and ${to.name} is not installed either; check ${settingHint('path')}.`);
    return alreadyThere(snapshot, inventory, to, warnings);
  }
  const installed = inventory.revisions.find((r) => r.name === fromName) ?? null;
  // The revision behind an unseen default tag is a control plane outside git, like a channel's.
  const from: Revision =
    unseenDefault && fromName === 'default' ? { name: 'default', flavor: 'managed', version: null } : describeRevision(fromName, installed);
  assertNonRevisionedSupported(installed, inventory, options);
  assertManagedMove(from, to);

  // A channel has no release to compare: Google picks it.
  const decision =
    to.flavor === 'managed'
      ? ({ kind: 'allow', direction: 'upgrade', warnings: [] } as const)
      : evaluateUpgradePolicy(from, to, { downgrade: (options.downgrade ?? false) || (options.rollback ?? false) });
  if (decision.kind === 'refuse') throw new UpgradeRefusedError(decision.reason, decision.code);
  assertOperatorCanReach(installed, to, index);
  if (!options.rollback) assertVersionSkew(index, from, to, options.kubernetesVersion);
  if (decision.kind === 'allow') for (const w of decision.warnings) warn({ ...w, file: null });

  const app = new App();
  const prefix = options.rollback ? 'rollback-' : '';
  const scopeFor = (id: string): DraftScope => {
    const phaseId = `${prefix}${id}`;
    const chart = new Chart(app, phaseId, { disableResourceNameHashes: true });
    return { phaseId, scope: chart, id: (...parts) => parts.filter((p) => p !== null && p !== '').join('-') };
  };
  const ctx: PlanContext = {
    index,
    inventory,
    from,
    installed,
    to,
    canary: options.canary ?? [],
    // A first canary from an IstioOperator or a Helm release relabels (their injector and the default
    // tag cannot change hands in one apply); so do managed channels (Google's procedure).
    strategy: isFirstCanaryFromIop(installed)
      ? firstCanaryStrategy(options.strategy ?? 'auto', warn)
      : (forcedStrategy(installed, options.strategy) ??
        ((to.flavor === 'managed' || from.flavor === 'managed') && (options.strategy ?? 'auto') === 'auto'
          ? 'relabel'
          : resolveStrategy(inventory, [from.name, to.name], options.strategy ?? 'auto'))),
    podBudget: options.podBudget ?? DEFAULT_POD_BUDGET,
    platform: options.platform ?? detectPlatform(index),
    created: new Map(),
    warn,
    renderOverlay: installed?.name === 'default' && installed.install === 'manifests' ? findRenderOverlay(snapshot) : null,
  };
  collectPreflightWarnings(ctx);
  if (!options.rollback) for (const w of namespaceDataWarnings(snapshot, index, to)) warn(w);
  const twins = options.rollback ? [] : [...twinNameKeyedPatches(ctx), ...twinIstioOperatorPatches(ctx)];
  warnInjectionLabelsFromTransformers(index, snapshot, warn);
  warnUnreadableSelectors(index, snapshot, warn);

  const controlPlane = options.rollback
    ? null
    : to.flavor === 'managed'
      ? draftManagedControlPlane(ctx, managed)
      : { ...draftControlPlane(ctx, scopeFor('control-plane')), rawFiles: twins };
  // kustomize `images:` overrides of Istio's proxy move with what they reach (sources/kustomize-images.ts).
  const gateways = withImageOverrides(
    ctx,
    snapshot,
    [adaptOperatorToHelmGateways(ctx, draftGateways(ctx, scopeFor('gateways')))],
    'gateways',
  )[0]!;
  const waves = draftWorkloadWaves(ctx, scopeFor, new Set(gateways.namespaces));
  const unpatched = waves.length > 0 ? waves : [emptyWorkloads(ctx, `${prefix}workloads`)];
  // Pre-injected sidecars written by kustomize patches follow the workloads (sources/sidecar-patches.ts).
  // On the way back (from and to swapped) an images override returns to the old tag with the workloads.
  const workloads = withImageOverrides(
    ctx,
    snapshot,
    options.rollback ? unpatched : withSidecarPatches(ctx, snapshot, unpatched),
    'workloads',
  );
  const defaultRevisionScope = scopeFor('default-revision');
  const defaultRevision = adaptOperatorToHelmDefaultRevision(
    ctx,
    defaultRevisionScope,
    adaptManagedDefaultRevision(ctx, draftDefaultRevision(ctx, defaultRevisionScope)),
  );
  const references = remainingReferences(ctx, [gateways, ...waves, defaultRevision]);
  const cleanup = adaptOperatorToHelmCleanup(
    ctx,
    adaptManagedCleanup(
      ctx,
      draftCleanup(ctx, options.rollback ? references : [...references, ...sidecarPatchBlockers(ctx, snapshot)]),
      managed,
    ),
  );
  const operatorCleanup = options.rollback ? null : draftOperatorCleanup(ctx);
  const afterCleanup = operatorCleanup ? [operatorCleanup] : [];
  const scaleDown =
    options.cleanupMode === 'scale-then-delete' && !options.rollback ? [draftScaleDown(ctx, scopeFor('scale-down'), references)] : [];
  const scaleUp = options.rollback ? draftScaleUp(ctx, scopeFor('scale-up')) : null;
  // With tags, the tag moves before the restarts that pick it up (Istio's order for istio-injection
  // and tag labels); only the canary wave, which gets its own tag, goes before.
  const canaryFirst = ctx.canary.length > 0 && waves.length > 1 ? workloads.slice(0, 1) : [];
  const tagOrder = [...canaryFirst, defaultRevision, ...workloads.slice(canaryFirst.length)];
  // The way back runs the other way round: applications first, then gateways, then what names the
  // default, and the new control plane goes last.
  const drafts = options.rollback
    ? [
        ...(scaleUp ? [scaleUp] : []),
        ...(ctx.strategy === 'tag'
          ? [defaultRevision, ...workloads, gateways, cleanup]
          : [...workloads, gateways, defaultRevision, cleanup]),
      ].map((d) => ({
        ...d,
        id: d.id.startsWith(prefix) ? d.id : `${prefix}${d.id}`,
        title: `Roll back: ${d.title}`,
      }))
    : withAdmissionPolicies(
        ctx,
        ctx.strategy === 'tag'
          ? [controlPlane!, gateways, ...tagOrder, ...scaleDown, cleanup, ...afterCleanup]
          : [controlPlane!, gateways, ...workloads, defaultRevision, ...scaleDown, cleanup, ...afterCleanup],
        scopeFor,
      );

  // One working copy, edited phase after phase; each phase keeps only its own file changes.
  const working = new Map(snapshot);
  const phases = drafts.map((unrouted) => {
    // Namespace labels a JSON6902 patch decides are moved in that patch.
    const draft = routeNamespaceMoves(index, unrouted);
    warnPatchesThatStopApplying(index, snapshot, inventory, unrouted, warn);
    const before = resolved.fields.length > 0 ? new Map(working) : working;
    const applied = applyPhaseWithCharts(working, { objects: draft.objects, deletions: draft.deletions }, charts);
    // Setter-fed fields: the kpt setter follows the edit (or a warning says render would revert it).
    const setters = resolved.fields.length > 0 ? followSetters(before, working, to.name, draft.id) : { files: [], warnings: [] };
    for (const f of setters.files) working.set(f.path, f.content!);
    for (const w of setters.warnings) warn(w);
    const raw = draft.rawFiles ? applyRawFileEdits(working, draft.rawFiles) : [];
    return toPlannedPhase(draft, applied.changes, withRawFiles([...applied.files, ...setters.files], raw));
  });

  return {
    from: { revision: unseenDefault ? null : from.name, version: from.version },
    to: { revision: to.name, version: to.version },
    install: installed?.install ?? (from.flavor === 'managed' ? 'managed' : 'external'),
    strategy: ctx.strategy,
    direction: decision.kind === 'allow' ? decision.direction : 'none',
    phases,
    warnings,
    original: snapshot,
    inventory,
  };
}

/** A Sail Operator install (an `Istio` resource): its own phases (phases/sail.ts), or null. */
function planSail(
  snapshot: RepoSnapshot,
  index: ReturnType<typeof buildYamlIndex>,
  inventory: MeshInventory,
  options: PlanOptions,
): UpgradePlan | null {
  const warnings: PlanWarning[] = index.skipped.map((s) => ({ code: 'skipped-file', message: `skipped: ${s.reason}`, file: s.file }));
  const warn = (w: PlanWarning) => {
    if (!warnings.some((x) => x.code === w.code && x.message === w.message && x.file === w.file)) warnings.push(w);
  };
  const sail = draftSailUpgrade(index, inventory, new App(), options, warn);
  if (!sail) return null;
  const working = new Map(snapshot);
  const phases = sail.drafts.map((draft) => {
    const applied = renderPhase(working, { objects: draft.objects, deletions: draft.deletions });
    return toPlannedPhase(draft, applied.changes, applied.files);
  });
  return {
    from: { revision: sail.from?.name ?? null, version: sail.from?.version ?? null },
    to: { revision: sail.to.name, version: sail.to.version },
    install: 'sail-operator',
    strategy: sail.strategy,
    direction: sail.direction,
    phases,
    warnings,
    original: snapshot,
    inventory,
  };
}

/** Net file changes of phases 1..`phaseId` against the repo the plan was made from. */
export function renderThrough(plan: UpgradePlan, phaseId: string): FileChange[] {
  const position = plan.phases.findIndex((p) => p.id === phaseId);
  if (position < 0)
    throw new UnknownPhaseError(
      phaseId,
      plan.phases.map((p) => p.id),
    );
  return diffSnapshots(plan.original, snapshotAfter(plan, position + 1));
}

/** The repo once the first `count` phases are applied. */
export function snapshotAfter(plan: UpgradePlan, count: number): RepoSnapshot {
  return applyFileChanges(
    plan.original,
    plan.phases.slice(0, count).flatMap((p) => p.files),
  );
}
