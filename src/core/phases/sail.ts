import { type App, Chart } from 'cdk8s';
import { DesiredObject } from '../../constructs/desired-object.js';
import { NamespaceInjection } from '../../constructs/namespace-injection.js';
import { WorkloadRestart } from '../../constructs/workload-restart.js';
import { UpgradeRefusedError } from '../../model/errors.js';
import { describe as describeObject } from '../../model/kube.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { MeshInventory, MeshNamespace, Workload } from '../inventory.js';
import { DEFAULT_POD_BUDGET, restartMinutes } from '../phase-ids.js';
import type { YamlIndex } from '../repo-index.js';
import { IstioVersion, type Revision } from '../revision.js';
import { discoverSail, type SailControlPlane, sailRevisionName } from '../sources/sail.js';
import { evaluateUpgradePolicy } from '../upgrade-policy.js';
import type { PhaseDraft } from './context.js';
import { rolloutStatusChecks } from './rollout.js';

export interface SailPlanOptions {
  readonly to: string;
  readonly version?: string;
  readonly downgrade?: boolean;
  readonly podBudget?: number;
  readonly rollback?: boolean;
}

export interface SailDrafts {
  readonly from: Revision | null;
  readonly to: Revision;
  readonly direction: 'upgrade' | 'downgrade' | 'same-version' | 'none';
  /** `tag` when every meshed namespace follows the Istio (istio-injection or a tag), else `relabel`. */
  readonly strategy: 'relabel' | 'tag';
  readonly drafts: readonly PhaseDraft[];
}

/**
 * The target of a Sail upgrade, as the user names it: the release (`--to v1.24.3`, `--to 1.24.3`),
 * an OSS revision name (`--to 1-24-3`), or the IstioRevision name Sail will create
 * (`--to default-v1-24-3`); with InPlace, the Istio's own name plus `--version`. Whatever the form,
 * the target revision is the name Sail gives it: `<istio>-v1-24-3` (RevisionBased) or `<istio>`
 * (InPlace).
 */
export function sailTarget(plane: SailControlPlane, to: string, explicitVersion?: string): { version: string; revision: string } {
  const fail = (why: string): never => {
    throw new UpgradeRefusedError(
      `--to ${to}: ${why}. For the Sail Operator's Istio ${plane.name}, name the release (--to v1.24.3 or --to 1-24-3) or the IstioRevision Sail creates for it (--to ${sailRevisionName(plane.name, 'RevisionBased', 'v1.24.3')}).`,
      'sail-target',
    );
  };
  let version: string | null = null;
  const asVersion = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(to);
  const asName = /^(?:(.*)-)?v?(\d+)-(\d+)-(\d+)$/.exec(to);
  if (asVersion) version = `${Number(asVersion[1])}.${Number(asVersion[2])}.${Number(asVersion[3])}`;
  else if (asName) {
    const prefix = asName[1];
    if (prefix !== undefined && prefix !== plane.name) fail(`the revision names another Istio than ${plane.name}`);
    version = `${Number(asName[2])}.${Number(asName[3])}.${Number(asName[4])}`;
  } else if (to !== plane.name) fail('it names no release');
  if (explicitVersion !== undefined) {
    const parsed = IstioVersion.safeParse(explicitVersion);
    if (!parsed.success) fail(`--version ${explicitVersion} is not a release like 1.24.3`);
    const explicit = parsed.data!.replace(/-.*$/, '');
    if (version && version !== explicit) fail(`it says ${version} but --version says ${explicit}`);
    version = explicit;
  }
  if (!version) return fail('it names no release; pass --version X.Y.Z');
  return { version, revision: sailRevisionName(plane.name, plane.strategy, `v${version}`) };
}

/**
 * Plans an upgrade of a Sail Operator install, or returns null when the repo has no `Istio`
 * resource. The phases are the bot's (control-plane, gateways, workloads[-n], cleanup), mapped onto
 * what the operator does by itself and what it leaves undone: it installs the new revision and
 * moves tags that follow the Istio, and prunes an unused revision; it restarts nothing, relabels
 * nothing and upgrades no IstioCNI, so the plan does.
 */
export function draftSailUpgrade(
  index: YamlIndex,
  inventory: MeshInventory,
  app: App,
  options: SailPlanOptions,
  warn: (w: PlanWarning) => void,
): SailDrafts | null {
  const planes = discoverSail(index);
  if (planes.length === 0) return null;
  if (planes.length > 1) {
    throw new UpgradeRefusedError(
      `several Sail Operator Istio resources (${planes.map((p) => `${p.name} in ${p.istio.file}`).join('; ')}): the bot upgrades one control plane at a time and cannot tell which is meant. Keep one Istio per repo path (--path).`,
      'sail-several-istios',
    );
  }
  const plane = planes[0]!;
  if (options.rollback) {
    throw new UpgradeRefusedError(
      `the Sail Operator installs the revisions of Istio ${plane.name}: go back by reverting the merged phase pull requests, newest first (the control-plane revert sets spec.version back; with RevisionBased the operator keeps the old IstioRevision while anything uses it).`,
      'sail-rollback',
    );
  }
  const target = sailTarget(plane, options.to, options.version);
  // The name a RevisionBased revision of a version gets: also the restart marker, which must differ per release even when InPlace keeps one revision name.
  const markerOf = (version: string) => sailRevisionName(plane.name, 'RevisionBased', `v${version}`);
  const marker = markerOf(target.version);
  const to: Revision = { name: target.revision, version: target.version, flavor: plane.strategy === 'RevisionBased' ? 'oss' : 'named' };

  if (!plane.version) {
    warn({
      code: 'sail-version-alias',
      message: `Istio ${plane.name} runs spec.version ${plane.versionText || '(none)'}, an alias whose release moves when the operator is upgraded; the plan pins it to v${target.version}.`,
      file: plane.istio.file,
    });
  }
  // Where the upgrade comes from: the Istio's release while it is not the target; afterwards an
  // older revision the repo still names (pinned namespaces, an IstioCNI not yet upgraded).
  let from: Revision | null = null;
  if (plane.version !== target.version) {
    from = { name: plane.activeRevision, version: plane.version, flavor: plane.strategy === 'RevisionBased' ? 'oss' : 'named' };
  } else if (plane.inactiveRevisions.length > 0) {
    const name = plane.inactiveRevisions[plane.inactiveRevisions.length - 1]!;
    const m = /-v(\d+)-(\d+)-(\d+)$/.exec(name);
    from = { name, version: m ? `${m[1]}.${m[2]}.${m[3]}` : null, flavor: 'oss' };
    if (plane.inactiveRevisions.length > 1) {
      warn({
        code: 'several-revisions',
        message: `the repo names several older revisions of Istio ${plane.name} (${plane.inactiveRevisions.join(', ')}); moving everything on them to ${to.name}.`,
        file: null,
      });
    }
  }
  let direction: SailDrafts['direction'] = 'none';
  if (from) {
    const policyFrom = { ...from, name: from.version ? markerOf(from.version) : from.name };
    const decision = evaluateUpgradePolicy(policyFrom, { ...to, name: marker }, { downgrade: options.downgrade ?? false });
    if (decision.kind === 'refuse') throw new UpgradeRefusedError(decision.reason, decision.code);
    if (decision.kind === 'allow') {
      direction = decision.direction;
      for (const w of decision.warnings) warn({ ...w, file: null });
    }
  }
  if (plane.updateWorkloads) {
    warn({
      code: 'sail-update-workloads',
      message: `Istio ${plane.name} sets updateStrategy.updateWorkloads: true; the bot does not rely on it and relabels and restarts the workloads itself in the workloads phases (a second restart by the operator is harmless).`,
      file: plane.istio.file,
    });
  }
  if (plane.strategy === 'InPlace' && from) {
    warn({
      code: 'sail-in-place',
      message: `Istio ${plane.name} uses the InPlace update strategy: the control-plane phase replaces istiod ${from.version ?? ''} with ${to.version} in one step, with no canary beside it; every proxy reconnects to the new istiod at once. Switch updateStrategy.type to RevisionBased first for a canary.`,
      file: plane.istio.file,
    });
  }

  const oldNames = new Set([...(from ? [from.name] : []), ...plane.inactiveRevisions].filter((n) => n !== to.name));
  const scope = (id: string) => new Chart(app, `sail-${id}`, { disableResourceNameHashes: true });
  const idOf = (...parts: Array<string | null>) => parts.filter((p) => p).join('-');
  const onMesh = (revision: string | null) => revision !== null && (revision === to.name || oldNames.has(revision));

  // control-plane: spec.version of the Istio. The IstioCNI follows at cleanup (Sail: the control plane before the CNI).
  const cp = scope('control-plane');
  const cpObjects: PlacedObject[] = [
    {
      desired: new DesiredObject(cp, idOf('Istio', plane.name), {
        apiVersion: plane.istio.apiVersion,
        kind: 'Istio',
        name: plane.name,
        body: { spec: { version: `v${target.version}` } },
        mode: { kind: 'patch' },
      }),
      targets: [plane.istio],
    },
  ];
  const followingTags = plane.tags.filter((t) => t.targetKind === 'Istio').map((t) => t.tag);
  const controlPlane: PhaseDraft = {
    id: 'control-plane',
    title: `Install ${to.name} (Istio ${plane.name} spec.version v${to.version})`,
    why:
      plane.strategy === 'RevisionBased'
        ? `Sets spec.version of the Sail Operator's Istio ${plane.name} to v${to.version}. The operator creates IstioRevision ${to.name} (istiod-${to.name}) beside ${from?.name ?? 'the running one'} and makes it the active revision${followingTags.length ? `; the IstioRevisionTag${followingTags.length > 1 ? 's' : ''} ${followingTags.join(', ')} follow${followingTags.length > 1 ? '' : 's'} it at once, so new pods in namespaces on ${followingTags.includes('default') ? 'istio-injection=enabled or ' : ''}those tags get the ${to.version} proxy from this merge on` : ''}. Running pods keep their proxy and their istiod until they restart (the operator restarts nothing): the next phases restart them. There is no default-revision phase: the tags follow the Istio.`
        : `Sets spec.version of the Sail Operator's Istio ${plane.name} (InPlace) to v${to.version}. The operator upgrades istiod ${plane.name} in place: there is no canary revision beside the old one, so the gateways and workloads phases only restart pods onto the ${to.version} proxy (the operator restarts nothing), and cleanup has nothing to remove.`,
    objects: cpObjects,
    deletions: [],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 5,
    beforeMerge: [`kubectl get istio ${plane.name} -o jsonpath='{.status.state}'   # expect Healthy`],
    verify: [
      `kubectl wait istio/${plane.name} --for=condition=Ready --timeout=5m`,
      `kubectl get istio ${plane.name} -o jsonpath='{.status.activeRevisionName}'   # expect ${to.name}`,
      `kubectl get istiorevisions   # ${plane.strategy === 'RevisionBased' ? `${from?.name ?? 'the old revision'} and ${to.name}, both Ready` : `${to.name} at v${to.version}`}`,
      ...(plane.tags.length ? ['kubectl get istiorevisiontags   # REVISION column'] : []),
    ],
    rollback: [
      `Revert this pull request: spec.version goes back to ${plane.versionText}${plane.strategy === 'RevisionBased' ? ` and ${from?.name ?? 'the old revision'} is active again (the operator prunes ${to.name} once unused)` : ' and istiod is downgraded in place'}.`,
    ],
  };

  const podBudget = options.podBudget ?? DEFAULT_POD_BUDGET;
  // A namespace pinned by name to an old revision is relabelled; one on a tag or istio-injection follows the Istio by itself.
  const pinnedToOld = (ns: MeshNamespace | undefined) => ns?.injection.mode === 'revision' && oldNames.has(ns.injection.value);
  const namespaceByName = new Map(inventory.namespaces.map((n) => [n.name, n]));
  const restart = (chart: Chart, w: Workload): PlacedObject => ({
    desired: new WorkloadRestart(chart, idOf(w.object.kind, w.object.namespace, w.object.name), {
      apiVersion: w.object.apiVersion,
      kind: w.object.kind as 'Deployment',
      namespace: w.object.namespace ?? '',
      name: w.object.name,
      // The marker names the release (InPlace keeps the revision name), the pod label the revision.
      revision: marker,
      // A pod pinned by name to an old revision is relabelled in the same edit (RevisionBased: the marker is the revision).
      podRevisionLabel: marker === to.name && w.podRevision !== null && oldNames.has(w.podRevision),
    }),
    targets: [w.object],
  });
  const relabelNamespace = (chart: Chart, ns: MeshNamespace): PlacedObject => ({
    desired: new NamespaceInjection(chart, idOf('Namespace', ns.name), { namespace: ns.name, revision: to.name }),
    targets: ns.definitions,
  });

  // gateways
  const gw = scope('gateways');
  const gatewayObjects: PlacedObject[] = [];
  const gateways = inventory.gateways.filter((g) => onMesh(g.revision));
  const gatewayNamespaces = [...new Set(gateways.map((g) => g.object.namespace ?? ''))].sort();
  for (const name of gatewayNamespaces) {
    const ns = namespaceByName.get(name);
    if (ns && pinnedToOld(ns) && !inventory.workloads.some((w) => w.object.namespace === name))
      gatewayObjects.push(relabelNamespace(gw, ns));
  }
  for (const g of gateways) {
    if (g.optedOut) continue;
    gatewayObjects.push(restart(gw, g));
    if (g.pinned?.image) {
      warn({
        code: 'gateway-pinned-proxy',
        message: `gateway ${describeObject(g.object)} has its proxy image written out (${g.pinned.image}); a restart does not change it. Regenerate it for ${to.version}.`,
        file: g.object.file,
      });
    }
  }
  const gatewayPods = gateways.reduce((n, g) => n + (g.optedOut ? 0 : g.replicas), 0);
  const gatewaysDraft: PhaseDraft = {
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

  // workloads, in waves of at most podBudget pods
  const byNamespace = new Map<string, Workload[]>();
  for (const w of inventory.workloads) {
    const list = byNamespace.get(w.object.namespace ?? '') ?? [];
    list.push(w);
    byNamespace.set(w.object.namespace ?? '', list);
  }
  interface Unit {
    readonly name: string;
    readonly ns: MeshNamespace | null;
    readonly workloads: readonly Workload[];
    readonly pods: number;
  }
  const units: Unit[] = [];
  for (const ns of inventory.namespaces) {
    if (!onMesh(ns.revision)) continue;
    const workloads = byNamespace.get(ns.name) ?? [];
    if (gatewayNamespaces.includes(ns.name) && workloads.length === 0) continue;
    units.push({ name: ns.name, ns, workloads, pods: workloads.reduce((n, w) => n + (w.optedOut ? 0 : w.replicas), 0) });
  }
  for (const [name, workloads] of byNamespace) {
    if (units.some((u) => u.name === name)) continue;
    const own = workloads.filter((w) => onMesh(w.podRevision));
    if (own.length) units.push({ name, ns: null, workloads: own, pods: own.reduce((n, w) => n + (w.optedOut ? 0 : w.replicas), 0) });
  }
  units.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const waves: Unit[][] = [];
  let current: Unit[] = [];
  let pods = 0;
  for (const unit of units) {
    if (current.length > 0 && pods + unit.pods > podBudget) {
      waves.push(current);
      current = [];
      pods = 0;
    }
    current.push(unit);
    pods += unit.pods;
  }
  if (current.length) waves.push(current);
  const workloadDrafts: PhaseDraft[] = waves.map((wave, i) => {
    const id = waves.length === 1 ? 'workloads' : `workloads-${i + 1}`;
    const chart = scope(id);
    const objects: PlacedObject[] = [];
    const manual: string[] = [];
    for (const unit of wave) {
      if (unit.ns && pinnedToOld(unit.ns)) objects.push(relabelNamespace(chart, unit.ns));
      for (const w of unit.workloads) {
        if (w.optedOut) continue;
        objects.push(restart(chart, w));
      }
      if (unit.workloads.length === 0) {
        manual.push(`kubectl -n ${unit.name} rollout restart deployment,statefulset,daemonset   # its workloads are not in this repo`);
        warn({
          code: 'workloads-not-in-repo',
          message: `namespace ${unit.name} is meshed but none of its workloads are in the repo; restart them by hand after merging.`,
          file: unit.ns?.definitions[0]?.file ?? null,
        });
      }
    }
    const names = wave.map((u) => u.name);
    const wavePods = wave.reduce((n, u) => n + u.pods, 0);
    const pinned = wave.filter((u) => u.ns && pinnedToOld(u.ns)).map((u) => u.name);
    const following = wave.filter((u) => u.ns && !pinnedToOld(u.ns)).map((u) => u.name);
    return {
      id,
      title: `Move workloads to ${to.name}${waves.length > 1 ? ` (wave ${i + 1} of ${waves.length}: ${names.join(', ')})` : ''}`,
      why: [
        pinned.length ? `Relabels ${pinned.join(', ')} from the old revision's name to istio.io/rev=${to.name}.` : '',
        following.length
          ? `${following.join(', ')} follow${following.length > 1 ? '' : 's'} Istio ${plane.name} (istio-injection or an IstioRevisionTag) and already inject${following.length > 1 ? '' : 's'} new pods with ${to.name}.`
          : '',
        `Restarts their ${wavePods} pod(s) so that they are re-injected with the ${to.version} proxy: injection only happens when a pod is created, and the Sail Operator restarts nothing.`,
      ]
        .filter(Boolean)
        .join(' '),
      objects,
      deletions: [],
      manual,
      manualDone: true,
      pods: wavePods,
      namespaces: names,
      estimatedMinutes: restartMinutes(wavePods),
      verify: [
        `kubectl get namespace ${names.join(' ')} -L istio-injection -L istio.io/rev`,
        ...wave.flatMap((u) =>
          rolloutStatusChecks(u.name, u.workloads.length ? u.workloads.filter((w) => !w.optedOut).map((w) => w.object) : null),
        ),
      ],
      rollback: [
        `Revert this pull request: the namespaces go back and the pods restart${plane.strategy === 'RevisionBased' ? ` onto ${from?.name ?? 'the old revision'} (still installed while used)` : ''}.`,
      ],
    };
  });
  const workloads = workloadDrafts.length
    ? workloadDrafts
    : [
        {
          ...gatewaysDraft,
          id: 'workloads',
          title: `Move workloads to ${to.name}`,
          why: `No namespace in the repo runs on Istio ${plane.name}; nothing to move.`,
          objects: [],
          pods: 0,
          namespaces: [],
          estimatedMinutes: 0,
          verify: [],
          rollback: [],
        },
      ];

  // cleanup: the IstioCNI follows the control plane; the operator prunes the old IstioRevision.
  const cl = scope('cleanup');
  const cniObjects: PlacedObject[] = plane.cni.map((c) => ({
    desired: new DesiredObject(cl, idOf('IstioCNI', c.name), {
      apiVersion: c.apiVersion,
      kind: 'IstioCNI',
      name: c.name,
      body: { spec: { version: `v${target.version}` } },
      mode: { kind: 'patch' },
    }),
    targets: [c],
  }));
  const moved = new Set(
    [...gatewayObjects, ...workloadDrafts.flatMap((d) => d.objects)].flatMap((o) => o.targets.map((t) => `${t.file}#${t.documentIndex}`)),
  );
  const isMoved = (o: { file: string; documentIndex: number }) => moved.has(`${o.file}#${o.documentIndex}`);
  const blockedBy: string[] = [];
  for (const ns of inventory.namespaces) if (pinnedToOld(ns) && !ns.definitions.some(isMoved)) blockedBy.push(`namespace ${ns.name}`);
  for (const w of [...inventory.workloads, ...inventory.gateways])
    if (w.podRevision && oldNames.has(w.podRevision) && !w.optedOut && !isMoved(w.object))
      blockedBy.push(`pod label on ${describeObject(w.object)}`);
  for (const t of plane.tags)
    if (t.targetKind === 'IstioRevision' && oldNames.has(t.targetName))
      blockedBy.push(`IstioRevisionTag ${t.tag} (targetRef IstioRevision ${t.targetName}: point it at the Istio ${plane.name})`);
  const grace = plane.gracePeriodSeconds ?? 30;
  const old = [...oldNames];
  const cleanup: PhaseDraft = {
    id: 'cleanup',
    title: plane.cni.length
      ? `Upgrade IstioCNI to v${to.version}; the operator prunes ${old.join(', ') || 'the old revision'}`
      : `Check that the operator pruned ${old.join(', ') || 'the old revision'}`,
    why: `Nothing of the old control plane is in git: ${
      plane.strategy === 'RevisionBased'
        ? `the Sail Operator deletes IstioRevision ${old.join(', ') || '(the old one)'} ${grace} s (inactiveRevisionDeletionGracePeriodSeconds) after nothing uses it any more (InUse false: no namespace, pod or tag names it)`
        : 'InPlace upgraded istiod where it runs'
    }.${plane.cni.length ? ` ${plane.cni.map((c) => `IstioCNI ${c.name}`).join(', ')} go${plane.cni.length > 1 ? '' : 'es'} to v${to.version} now: Sail upgrades the control plane before the CNI, and a CNI is compatible with its own minor and the next control-plane minor only, so it waits until no older control plane is in use.` : ''}`,
    objects: cniObjects,
    deletions: [],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: Math.max(1, Math.ceil(grace / 60)),
    beforeMerge: old.length
      ? [
          `kubectl get istiorevision ${old.join(' ')} -o 'custom-columns=NAME:.metadata.name,IN-USE:.status.conditions[?(@.type=="InUse")].status'   # IN-USE: expect False (or NotFound)`,
        ]
      : [],
    verify: [
      `kubectl get istiorevisions   # only ${to.name}${old.length ? ` (${old.join(', ')} deleted after ${grace} s unused)` : ''}`,
      ...(plane.cni.length ? [`kubectl wait istiocni/${plane.cni[0]!.name} --for=condition=Ready --timeout=5m`] : []),
      `istioctl proxy-status   # every proxy at ${to.version}`,
    ],
    rollback: plane.cni.length
      ? [
          `Revert this pull request: the IstioCNI goes back to ${plane.cni.map((c) => String((c.body.spec as { version?: unknown } | undefined)?.version ?? '')).join(', ')}.`,
        ]
      : [],
    blockedBy,
  };

  const strategy = units.some((u) => u.ns && pinnedToOld(u.ns)) ? 'relabel' : 'tag';
  return { from, to, direction, strategy, drafts: [controlPlane, gatewaysDraft, ...workloads, cleanup] };
}
