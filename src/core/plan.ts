import semver from 'semver';
import { App, Chart } from 'cdk8s';
import { renderPhase } from './render-phase.js';
import { type ObjectChange } from '../model/placed-object.js';
import { assertMeshFound, discoverMesh, revisionSelectedBy, toHelmRelease, type InstallStyle, type InstalledRevision, type MeshInventory } from './discover.js';
import { MeshNotFoundError, UnknownPhaseError, UpgradeRefusedError } from '../model/errors.js';
import { getPath } from '../model/kube.js';
import { DEFAULT_POD_BUDGET } from './phase-ids.js';
import { withAdmissionPolicies } from './phases/admission-policies.js';
import { draftCleanup, draftLeftoverOperatorCleanup, draftOperatorCleanup } from './phases/cleanup.js';
import type { DraftScope, PhaseDraft, PlanContext, PlanWarning } from './phases/context.js';
import { draftControlPlane } from './phases/control-plane.js';
import { draftDefaultRevision } from './phases/default-revision.js';
import { draftGateways } from './phases/gateways.js';
import { draftSailUpgrade } from './phases/sail.js';
import { applyRawFileEdits, twinNameKeyedPatches, withRawFiles } from './sources/name-keyed-patches.js';
import { twinIstioOperatorPatches } from './sources/iop-name-keyed-patches.js';
import { forcedStrategy } from './phases/helm-nonrevisioned.js';
import { draftScaleDown, draftScaleUp } from './phases/scale-down.js';
import { draftWorkloadWaves } from './phases/workloads.js';
import { countProxiesOn } from './phases/naming.js';
import { detectPlatform, type Platform } from './platform.js';
import { collectPreflightWarnings, operatorGateways } from './preflight.js';
import { parseRevision, type Revision } from './revision.js';
import { applyFileChanges, diffSnapshots, type FileChange, type RepoSnapshot } from '../model/snapshot.js';
import { evaluateUpgradePolicy } from './upgrade-policy.js';
import { namespaceDataWarnings } from './sources/namespace-data.js';
import { chartValueFilesWarnings } from './sources/chart-value-files.js';
import { assertVersionSkew } from './version-skew.js';
import { buildYamlIndex } from './yaml-index.js';
import { assertSingleNonRevisioned, firstCanaryStrategy, isFirstCanaryFromIop } from './sources/operator-nonrevisioned.js';
import { assertManagedMove, assertManagedTarget, assumedDefaultChannel, detectManagedMesh, followsUnseenDefault } from './sources/managed.js';
import { followSetters, resolvePlaceholders } from './sources/placeholders.js';
import { adaptManagedCleanup, adaptManagedDefaultRevision, draftManagedControlPlane } from './phases/managed.js';
import { applyPhaseWithCharts, renderLocalCharts, withLocalCharts } from './sources/helm-app-of-apps.js';
import { applicationSetWarnings, isGitParamsFile } from './sources/applicationset.js';
import { adaptOperatorToHelmCleanup, adaptOperatorToHelmDefaultRevision, adaptOperatorToHelmGateways, helmHomeOrRefuse } from './phases/operator-to-helm.js';
import { isOperatorToHelm } from './sources/iop-to-helm.js';
import { assertKustomizationsBuild } from './sources/kustomize-build.js';
import { assertNoDuplicateInBuild, duplicateDefinitionRefusal } from './sources/kustomize-reach.js';
import { withImageOverrides } from './sources/kustomize-images.js';
import { routeNamespaceMoves, warnInjectionLabelsFromTransformers, warnUnreadableSelectors } from './sources/json-patches.js';
import { warnPatchesThatStopApplying } from './sources/patch-stops-applying.js';
import { sidecarPatchBlockers, withSidecarPatches } from './sources/sidecar-patches.js';

export type { PlanWarning } from './phases/context.js';

export interface PlanOptions {
  /** Target revision name, e.g. `asm-1140-0` or `1-22-1`. */
  readonly to: string;
  /** Target release, required for revision names that do not encode one. */
  readonly version?: string;
  /** Going to an older release is refused unless asked for. */
  readonly downgrade?: boolean;
  /** Namespaces moved first, in a wave of their own. */
  readonly canary?: readonly string[];
  /** Largest number of pods restarted by one workload wave. @default 100 */
  readonly podBudget?: number;
  /**
   * Plan the way back instead: `to` names the revision of the upgrade being rolled back, and the
   * phases return every namespace, gateway, tag and Service to the other installed revision, then
   * remove `to`'s control plane.
   */
  readonly rollback?: boolean;
  /**
   * `relabel` namespaces to the new revision, or move the `tag`s they follow (canary namespaces go
   * to a `canary` tag first); `auto` picks tag when every meshed namespace follows a tag.
   * @default 'auto'
   */
  readonly strategy?: 'relabel' | 'tag' | 'auto';
  /** `scale-then-delete`: a `scale-down` phase (old istiod to zero) comes before `cleanup`. @default 'delete' */
  readonly cleanupMode?: 'delete' | 'scale-then-delete';
  /**
   * Where the cluster runs, for the asmcli flags of manual installs: `gke`, or `multicloud` (Anthos
   * on bare metal, VMware, other clouds). Detected from the repo when not given; else `gke`.
   */
  readonly platform?: Platform;
  /**
   * The cluster's Kubernetes version (`1.29`), checked against the target's supported range. Read
   * from a cluster manifest in the repo when not given; unchecked when neither says.
   */
  readonly kubernetesVersion?: string;
  /**
   * The revision the upgrade started from, as the bot recorded it: planning from it again once the
   * repo no longer names it (the last namespace on a control plane outside git has moved). `null`:
   * it started from a default tag whose revision git never named (a managed mesh).
   */
  readonly from?: string | null;
}

/** A drafted phase as written into the repo: its description, plus what it changes there. */
export interface PlannedPhase
  extends Pick<PhaseDraft, 'id' | 'title' | 'why' | 'manual' | 'estimatedMinutes' | 'pods' | 'namespaces' | 'verify' | 'rollback'> {
  readonly status: 'pending' | 'done';
  /** Where the result of the manual steps shows: committed files (`repo`) or the cluster only. */
  readonly manualResult: 'repo' | 'cluster';
  /** Checks to run against the cluster before the PR is merged (empty for most phases). */
  readonly beforeMerge: readonly string[];
  readonly changes: readonly ObjectChange[];
  /** File-level result of this phase alone, applied after the phases before it. */
  readonly files: readonly FileChange[];
  /** What still uses the old revision (cleanup only): the phase must not be opened while this is not empty. */
  readonly blockedBy: readonly string[];
}

export interface UpgradePlan {
  readonly from: { readonly revision: string | null; readonly version: string | null };
  readonly to: { readonly revision: string; readonly version: string | null };
  readonly install: InstallStyle;
  /** How namespaces move: relabelled to the revision, or by moving the tags they follow. */
  readonly strategy: 'relabel' | 'tag';
  readonly direction: 'upgrade' | 'downgrade' | 'same-version' | 'none';
  readonly phases: readonly PlannedPhase[];
  readonly warnings: readonly PlanWarning[];
  /** The repo the plan was made from. */
  readonly original: RepoSnapshot;
  /** The mesh as found in that repo. */
  readonly inventory: MeshInventory;
}

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
    const twice = error instanceof Error && !(error instanceof UpgradeRefusedError) ? /There is already a Construct with name '([A-Za-z]+)-(.+)' in/.exec(error.message) : null;
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
  assertSingleNonRevisioned(index, inventory.operators, [...index.ofKind('Application'), ...index.ofKind('HelmRelease')].map((o) => toHelmRelease(o, index)).filter((r): r is NonNullable<typeof r> => r !== null));
  const appSetWarnings = applicationSetWarnings(index);
  const valueFileWarnings = chartValueFilesWarnings(index);
  if (!unseenDefault) assertMeshFound(inventory);
  assertNoMeshParameters(inventory);
  assertReadableHelmSources(index);
  const sail = planSail(snapshot, index, inventory, options);
  if (sail) return sail;
  assertManagedTarget(options.to, options.version);
  const requested = parseRevision(options.to, options.version);
  const warnings: PlanWarning[] = index.skipped.filter((s) => !isGitParamsFile(index, s.file)).map((s) => ({ code: 'skipped-file', message: `skipped: ${s.reason}`, file: s.file }));
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
    const back = chooseCurrentRevision(inventory, requested.name, warn);
    if (back === 'default') {
      throw new UpgradeRefusedError(
        `${requested.name} replaced a non-revisioned control plane; the bot does not plan the way back to it. Revert the merged phase pull requests, newest first (each is one commit: the default-revision revert re-activates istio-sidecar-injector and removes the default tag together).`,
        'rollback-non-revisioned',
      );
    }
    if (back === null) {
      throw new UpgradeRefusedError(
        `nothing to roll back to: ${requested.name} is the only revision left in the repo (the cleanup phase already removed the old one). Go back with a new canary instead: /upgrade <older revision> --downgrade.`,
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
    if (!here) throw new MeshNotFoundError(`no revision to upgrade from and ${to.name} is not installed either; check --path.`);
    return alreadyThere(snapshot, inventory, to, warnings);
  }
  const installed = inventory.revisions.find((r) => r.name === fromName) ?? null;
  // The revision behind an unseen default tag is a control plane outside git, like a channel's.
  const from: Revision = unseenDefault && fromName === 'default' ? { name: 'default', flavor: 'managed', version: null } : describeRevision(fromName, installed);
  assertNonRevisionedSupported(installed, inventory, options);
  assertManagedMove(from, to);

  // A channel has no release to compare: Google picks it.
  const decision = to.flavor === 'managed' ? ({ kind: 'allow', direction: 'upgrade', warnings: [] } as const) : evaluateUpgradePolicy(from, to, { downgrade: (options.downgrade ?? false) || (options.rollback ?? false) });
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

  const controlPlane = options.rollback ? null : to.flavor === 'managed' ? draftManagedControlPlane(ctx, managed) : { ...draftControlPlane(ctx, scopeFor('control-plane')), rawFiles: twins };
  // kustomize `images:` overrides of Istio's proxy move with what they reach (sources/kustomize-images.ts).
  const gateways = withImageOverrides(ctx, snapshot, [adaptOperatorToHelmGateways(ctx, draftGateways(ctx, scopeFor('gateways')))], 'gateways')[0]!;
  const waves = draftWorkloadWaves(ctx, scopeFor, new Set(gateways.namespaces));
  const unpatched = waves.length > 0 ? waves : [emptyWorkloads(ctx, `${prefix}workloads`)];
  // Pre-injected sidecars written by kustomize patches follow the workloads (sources/sidecar-patches.ts).
  // On the way back (from and to swapped) an images override returns to the old tag with the workloads.
  const workloads = withImageOverrides(ctx, snapshot, options.rollback ? unpatched : withSidecarPatches(ctx, snapshot, unpatched), 'workloads');
  const defaultRevisionScope = scopeFor('default-revision');
  const defaultRevision = adaptOperatorToHelmDefaultRevision(ctx, defaultRevisionScope, adaptManagedDefaultRevision(ctx, draftDefaultRevision(ctx, defaultRevisionScope)));
  const references = remainingReferences(ctx, [gateways, ...waves, defaultRevision]);
  const cleanup = adaptOperatorToHelmCleanup(ctx, adaptManagedCleanup(ctx, draftCleanup(ctx, options.rollback ? references : [...references, ...sidecarPatchBlockers(ctx, snapshot)]), managed));
  const operatorCleanup = options.rollback ? null : draftOperatorCleanup(ctx);
  const afterCleanup = operatorCleanup ? [operatorCleanup] : [];
  const scaleDown = options.cleanupMode === 'scale-then-delete' && !options.rollback ? [draftScaleDown(ctx, scopeFor('scale-down'), references)] : [];
  const scaleUp = options.rollback ? draftScaleUp(ctx, scopeFor('scale-up')) : null;
  // With tags, the tag moves before the restarts that pick it up (Istio's order for istio-injection
  // and tag labels); only the canary wave, which gets its own tag, goes before.
  const canaryFirst = ctx.canary.length > 0 && waves.length > 1 ? workloads.slice(0, 1) : [];
  const tagOrder = [...canaryFirst, defaultRevision, ...workloads.slice(canaryFirst.length)];
  // The way back runs the other way round: applications first, then gateways, then what names the
  // default, and the new control plane goes last.
  const drafts = options.rollback
    ? [...(scaleUp ? [scaleUp] : []), ...(ctx.strategy === 'tag' ? [defaultRevision, ...workloads, gateways, cleanup] : [...workloads, gateways, defaultRevision, cleanup])].map((d) => ({
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
function planSail(snapshot: RepoSnapshot, index: ReturnType<typeof buildYamlIndex>, inventory: MeshInventory, options: PlanOptions): UpgradePlan | null {
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
  if (position < 0) throw new UnknownPhaseError(phaseId, plan.phases.map((p) => p.id));
  return diffSnapshots(plan.original, snapshotAfter(plan, position + 1));
}

/** The repo once the first `count` phases are applied. */
export function snapshotAfter(plan: UpgradePlan, count: number): RepoSnapshot {
  return applyFileChanges(plan.original, plan.phases.slice(0, count).flatMap((p) => p.files));
}

function toPlannedPhase(draft: PhaseDraft, changes: readonly ObjectChange[], files: readonly FileChange[]): PlannedPhase {
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
 * The revision being upgraded from: of the revisions other than the target, the one the `default`
 * tag points at, else the one the `istiod` Service selects, else the one most namespaces use.
 */
function chooseCurrentRevision(inventory: MeshInventory, target: string, warn: (w: PlanWarning) => void): string | null {
  const candidates = [...new Set([...inventory.revisions.map((r) => r.name), ...inventory.externalRevisions])].filter((r) => r !== target);
  if (candidates.length <= 1) return candidates[0] ?? null;
  const byDefaultTag = inventory.tags.find((t) => t.tag === 'default' && candidates.includes(t.revision))?.revision ?? helmDefaultRevision(inventory, candidates);
  const serviceRevision = inventory.istiodService?.body.metadata.labels?.['istio.io/rev'];
  const byService = serviceRevision && candidates.includes(serviceRevision) ? serviceRevision : undefined;
  const counts = new Map<string, number>();
  for (const ns of inventory.namespaces) if (ns.revision && candidates.includes(ns.revision)) counts.set(ns.revision, (counts.get(ns.revision) ?? 0) + 1);
  const byNamespaces = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  // Mid-upgrade (the target installed, `default` already on it), namespaces moving away must not
  // switch the upgrade to another old revision: it goes on from the newest one below the target.
  const midUpgrade = inventory.revisions.some((r) => r.name === target) ? newestBelow(inventory, candidates, target) : undefined;
  const chosen = byDefaultTag ?? byService ?? midUpgrade ?? byNamespaces ?? candidates.sort()[0]!;
  warn({
    code: 'several-revisions',
    message: `the repo holds several revisions besides ${target} (${candidates.join(', ')}); upgrading from ${chosen}. Finish or clean up the others first if that is not what you want.`,
    file: null,
  });
  return chosen;
}

/** The revision whose Helm release holds the `default` tag (`revisionTags`), or base's `defaultRevision`. */
function helmDefaultRevision(inventory: MeshInventory, candidates: readonly string[]): string | undefined {
  const tagged = inventory.revisions.find((r) => candidates.includes(r.name) && Array.isArray(r.helm?.values.revisionTags) && (r.helm.values.revisionTags as unknown[]).includes('default'));
  const base = inventory.helmBase?.values.defaultRevision;
  return tagged?.name ?? (typeof base === 'string' && candidates.includes(base) ? base : undefined);
}

function newestBelow(inventory: MeshInventory, candidates: readonly string[], target: string): string | undefined {
  const version = (name: string) => inventory.revisions.find((r) => r.name === name)?.version ?? null;
  const top = version(target);
  const known = candidates.filter((c) => version(c) && (!top || semver.lt(version(c)!, top)));
  return known.sort((a, b) => semver.rcompare(version(a)!, version(b)!))[0];
}

function describeRevision(name: string, installed: InstalledRevision | null): Revision {
  try {
    const parsed = parseRevision(name);
    return installed?.version ? { ...parsed, version: installed.version } : parsed;
  } catch {
    return { name, flavor: 'named', version: installed?.version ?? null };
  }
}

/** What still names the old revision once the phases before cleanup are merged. */
/** Tag strategy when asked, or (auto) when every namespace on either revision follows a tag. */
function resolveStrategy(inventory: MeshInventory, revisions: readonly string[], requested: 'relabel' | 'tag' | 'auto'): 'relabel' | 'tag' {
  if (requested !== 'auto') return requested;
  // Gateway namespaces move by relabelling in the gateways phase whatever the strategy: they do not decide it.
  const gatewayNamespaces = new Set(inventory.gateways.filter((g) => g.style === 'namespace-label').map((g) => g.object.namespace));
  const meshed = inventory.namespaces.filter((n) => n.revision !== null && revisions.includes(n.revision) && !(revisions[0] === 'default' && gatewayNamespaces.has(n.name)));
  const followsTag = (n: (typeof meshed)[number]) => n.injection.mode === 'injection-enabled' || (n.injection.mode === 'revision' && !revisions.includes(n.injection.value));
  return meshed.length > 0 && meshed.every(followsTag) ? 'tag' : 'relabel';
}

/**
 * What would still name the old revision once the phases before cleanup are merged: namespaces,
 * pod-level revision labels, tags, the default validator, the `istiod` Service, Istio config
 * labelled with it, gateways. Cleanup is only proposed when this is empty (the InUse rule of Istio's
 * Sail operator, applied to the repo).
 */
function remainingReferences(ctx: PlanContext, drafts: readonly PhaseDraft[]): string[] {
  const old = ctx.from.name;
  const moved = new Set(drafts.flatMap((d) => d.objects.flatMap((o) => o.targets.map((t) => `${t.file}#${t.documentIndex}`))));
  const isMoved = (o: { file: string; documentIndex: number }) => moved.has(`${o.file}#${o.documentIndex}`);
  const { inventory } = ctx;
  const left: string[] = [];
  // With tags, a namespace that follows a tag moves when the tag does (default-revision).
  const followsMovedTag = (ns: (typeof inventory.namespaces)[number]) =>
    ctx.strategy === 'tag' && (ns.injection.mode === 'injection-enabled' || (ns.injection.mode === 'revision' && ns.injection.value !== old));
  for (const ns of inventory.namespaces) {
    if (ns.revision === old && !ns.definitions.some(isMoved) && !followsMovedTag(ns)) left.push(`namespace ${ns.name}`);
  }
  for (const workload of inventory.workloads) {
    if (workload.podRevision === old && !workload.optedOut && !isMoved(workload.object)) left.push(`pod label on ${workload.object.kind} ${workload.object.namespace}/${workload.object.name}`);
  }
  for (const tag of inventory.tags) if (tag.revision === old && !isMoved(tag.object)) left.push(`tag ${tag.tag}`);
  const validator = inventory.defaultValidator;
  if (validator && validator.body.metadata.labels?.['istio.io/rev'] === old && !isMoved(validator)) left.push('istiod-default-validator');
  const service = inventory.istiodService;
  const selector = service ? (getPath(service.body, ['spec', 'selector']) as Record<string, unknown> | undefined)?.['istio.io/rev'] : undefined;
  // The non-revisioned `istiod` Service selects no revision (`istio: pilot`): it names `default`.
  if (service && (selector === old || (old === 'default' && selector === undefined)) && !isMoved(service)) left.push('Service istiod');
  for (const config of inventory.revisionedConfig) {
    if (config.body.metadata.labels?.['istio.io/rev'] === old && !isMoved(config)) left.push(`${config.kind} ${config.namespace ?? ''}/${config.name}`);
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
    for (const name of operatorGateways(ctx.installed.installer)) left.push(`gateway ${name} of IstioOperator ${ctx.installed.installer.name}`);
  }
  return left;
}

function emptyWorkloads(ctx: PlanContext, id = 'workloads'): PhaseDraft {
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

/**
 * Istio's in-cluster operator ended with 1.23: an IstioOperator it reconciles cannot go past 1.23.x
 * (istioctl 1.24 has no `operator init`, and there is no operator image to run).
 * @see https://istio.io/latest/blog/2024/in-cluster-operator-deprecation-announcement/
 */
function assertOperatorCanReach(installed: InstalledRevision | null, to: Revision, index: ReturnType<typeof buildYamlIndex>): void {
  if (installed?.install !== 'istio-operator' || !to.version) return;
  // Past 1.23 the operator install moves to Helm releases (phases/operator-to-helm.ts), where the repo's GitOps style allows.
  if (isOperatorToHelm(installed, to)) {
    helmHomeOrRefuse({ index, installed, to });
    return;
  }
  // istioctl install -f of an IstioOperator outlives the in-cluster operator.
  if (installed.name === 'default' && !installed.operator) return;
  const target = semver.parse(to.version);
  if (!target || target.major > 1 || (target.major === 1 && target.minor <= 23)) return;
  throw new UpgradeRefusedError(
    `${to.name} (${to.version}) is past Istio 1.23, the last release of the in-cluster operator that reconciles IstioOperator ${installed.installer?.name ?? ''}. Upgrade to a 1.23 release with the operator, or migrate the control plane to Helm first (istioctl manifest translate), then upgrade.`,
    'operator-end-of-life',
  );
}

/** The repo already runs only the target: every phase is done. */
function alreadyThere(snapshot: RepoSnapshot, inventory: MeshInventory, to: Revision, warnings: PlanWarning[]): UpgradePlan {
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
    phases: ids.map((id): PlannedPhase => ({
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
    })).concat(leftover),
    warnings,
    original: snapshot,
    inventory,
  };
}

/**
 * The first canary from a non-revisioned control plane (revision `default`) is planned for rendered
 * manifests only; other styles are refused with what to do instead, never half planned.
 */
function assertNonRevisionedSupported(installed: InstalledRevision | null, inventory: MeshInventory, options: PlanOptions): void {
  if (installed?.name !== 'default') return;
  void options;
  if (installed.install === 'manifests' && inventory.nonRevisionInjector) return;
  if (isFirstCanaryFromIop(installed)) return;
  // Helm istiod release without `revision`: Istio's Helm canary, namespaces relabelled (phases/helm-nonrevisioned.ts).
  if (installed.install === 'helm' && installed.helm?.chart === 'istiod') return;
  throw new UpgradeRefusedError(
    'the control plane in this repo is non-revisioned (istiod without a revision); its first canary upgrade is not supported yet. Install the target revision beside it by hand (istioctl manifest generate --set revision=<target>), then plan again.',
    'non-revisioned-unsupported',
  );
}

/**
 * A chart version read from a Flux substitution ConfigMap while Secrets sit in the same
 * `substituteFrom`: a Secret that sets the variable would win, and git cannot show it.
 */
function fluxSecretWarnings(inventory: MeshInventory): PlanWarning[] {
  const releases = [...inventory.revisions.map((r) => r.helm), ...inventory.helmGateways, inventory.helmBase].filter((r): r is NonNullable<typeof r> => r !== null && r !== undefined);
  const seen = new Set<string>();
  const out: PlanWarning[] = [];
  for (const { chartVersionSubstitution: sub } of releases) {
    if (!sub || sub.source !== 'configmap' || sub.secrets.length === 0 || seen.has(sub.variable)) continue;
    seen.add(sub.variable);
    out.push({
      code: 'flux-substitution-secret',
      message: `\${${sub.variable}} is read as ${sub.value} from ConfigMap ${sub.configMap?.name ?? ''}; Secret ${sub.secrets.join(', ')} in the same postBuild.substituteFrom cannot be read from git and would win if it set ${sub.variable}. Check: kubectl -n ${sub.kustomization?.namespace ?? 'flux-system'} get secret ${sub.secrets[0]} -o jsonpath='{.data.${sub.variable}}'   # expect nothing`,
      file: sub.configMap?.file ?? null,
    });
  }
  return out;
}

/**
 * Istio charts installed through sources the planner does not read yet: an Argo CD Application with
 * `spec.sources` (multi-source) or a Flux HelmRelease with `spec.chartRef` (OCIRepository or
 * HelmChart). Refused by name rather than planned as if the control plane were outside git.
 */
function assertReadableHelmSources(index: ReturnType<typeof buildYamlIndex>): void {
  const ISTIO_CHART = /^(base|istiod|gateway)$/;
  // Istio's chart repositories (and mirrors that keep the name): another chart called `gateway` is not Istio's.
  const ISTIO_REPO = /istio/i;
  const found: string[] = [];
  for (const app of index.ofKind('Application')) {
    const sources = getPath(app.body, ['spec', 'sources']);
    if (app.isPatch || !Array.isArray(sources)) continue;
    if (sources.some((source) => ISTIO_CHART.test(String(getPath(source, ['chart']) ?? '')) && ISTIO_REPO.test(String(getPath(source, ['repoURL']) ?? '')))) found.push(`Application ${app.name} (${app.file}): spec.sources`);
  }
  const charts = new Map([...index.ofKind('OCIRepository'), ...index.ofKind('HelmChart')].map((o) => [`${o.kind}/${o.namespace ?? ''}/${o.name}`, o]));
  for (const release of index.ofKind('HelmRelease')) {
    const ref = getPath(release.body, ['spec', 'chartRef']) as { kind?: unknown; name?: unknown; namespace?: unknown } | undefined;
    if (release.isPatch || !ref || typeof ref.name !== 'string') continue;
    const source = charts.get(`${String(ref.kind)}/${String(ref.namespace ?? release.namespace ?? '')}/${ref.name}`);
    const chart = source ? String(getPath(source.body, ['spec', 'chart']) ?? String(getPath(source.body, ['spec', 'url']) ?? '').split('/').pop()) : '';
    // An OCIRepository names its registry in `url`; a HelmChart its HelmRepository, whose URL says.
    const repoRef = source ? (getPath(source.body, ['spec', 'sourceRef', 'name']) as string | undefined) : undefined;
    const repoUrl = source?.kind === 'OCIRepository' ? String(getPath(source.body, ['spec', 'url']) ?? '') : String(getPath(index.ofKind('HelmRepository').find((r) => r.name === repoRef)?.body, ['spec', 'url']) ?? '');
    if (ISTIO_CHART.test(chart) && ISTIO_REPO.test(repoUrl)) found.push(`HelmRelease ${release.name} (${release.file}): spec.chartRef to ${source!.kind} ${source!.name}`);
  }
  if (found.length === 0) return;
  throw new UpgradeRefusedError(
    `Istio charts installed through sources the planner does not read yet: ${found.join('; ')}. Use spec.source with the chart and inline helm values (Argo CD), or spec.chart.spec with a HelmRepository (Flux), for the Istio releases; or upgrade by hand.`,
    'helm-source-unsupported',
  );
}

/**
 * Argo CD `helm.parameters` win over `valuesObject` and `values`, where the plan writes `revision`,
 * `revisionTags` and the rest: a copy of such an Application would keep the old revision. Refused
 * with the way out rather than planned wrong.
 */
function assertNoMeshParameters(inventory: MeshInventory): void {
  const releases = [...inventory.revisions.map((r) => r.helm), ...inventory.helmGateways, inventory.helmBase].filter((r): r is NonNullable<typeof r> => r !== null && r !== undefined);
  const found = releases.filter((r) => (r.meshParameters ?? []).length > 0);
  if (found.length === 0) return;
  throw new UpgradeRefusedError(
    `${found.map((r) => `${r.object.kind} ${r.object.name} (${r.object.file}) sets ${r.meshParameters!.join(', ')} in spec.source.helm.parameters`).join('; ')}: Argo CD parameters win over valuesObject and values, where the plan writes these values, so a copy for the new revision would keep the old one. Move them into helm.valuesObject (or helm.values), then plan again.`,
    'helm-parameters-override',
  );
}

/**
 * The IstioOperator overlay a rendered control plane is generated from: a YAML file of kind
 * IstioOperator without a revision, which is kept in the repo but not applied (it has no name, or
 * the cluster has no operator). Null when there is none, or more than one.
 */
function findRenderOverlay(snapshot: RepoSnapshot): string | null {
  const found = [...snapshot]
    .filter(([path, text]) => /\.ya?ml$/.test(path) && /^kind:\s*IstioOperator\s*$/m.test(text) && !/^\s+revision:\s*\S/m.test(text))
    .map(([path]) => path);
  return found.length === 1 ? found[0]! : null;
}

