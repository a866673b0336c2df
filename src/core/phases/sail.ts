import type { App } from 'cdk8s';
import { said, settingHint, UpgradeRefusedError } from '../../model/errors.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { MeshInventory } from '../inventory.js';
import { DEFAULT_POD_BUDGET } from '../phase-ids.js';
import type { YamlIndex } from '../repo-index.js';
import { IstioVersion, type Revision } from '../revision.js';
import { discoverSail, type SailControlPlane, sailRevisionName } from '../sources/sail.js';
import { evaluateUpgradePolicy } from '../upgrade-policy.js';
import type { PhaseDraft } from './context.js';
import { draftSailCleanup } from './sail-cleanup.js';
import type { SailContext } from './sail-context.js';
import { draftSailControlPlane } from './sail-control-plane.js';
import { draftSailGateways } from './sail-gateways.js';
import { draftSailWorkloads } from './sail-workloads.js';

interface SailPlanOptions {
  readonly to: string;
  readonly version?: string;
  readonly downgrade?: boolean;
  readonly podBudget?: number;
  readonly rollback?: boolean;
}

interface SailDrafts {
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
function sailTarget(plane: SailControlPlane, to: string, explicitVersion?: string): { version: string; revision: string } {
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
      said`several Sail Operator Istio resources (${planes.map((p) => `${p.name} in ${p.istio.file}`).join('; ')}): the bot upgrades one control plane at a time and cannot tell which is meant. Keep one Istio per repo path (${settingHint('path')}).`,
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

  const ctx: SailContext = {
    plane,
    inventory,
    app,
    warn,
    from,
    to,
    version: target.version,
    marker,
    oldNames: new Set([...(from ? [from.name] : []), ...plane.inactiveRevisions].filter((n) => n !== to.name)),
  };
  // The charts are created in phase order: control-plane, gateways, workloads[-n], cleanup.
  const controlPlane = draftSailControlPlane(ctx);
  const gateways = draftSailGateways(ctx);
  const workloads = draftSailWorkloads(ctx, gateways.namespaces, options.podBudget ?? DEFAULT_POD_BUDGET);
  const cleanup = draftSailCleanup(ctx, [...gateways.draft.objects, ...workloads.drafts.flatMap((d) => d.objects)]);
  // With nothing to move the plan still has a workloads phase, so its shape stays the same.
  const workloadDrafts = workloads.drafts.length
    ? workloads.drafts
    : [
        {
          ...gateways.draft,
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
  const strategy = workloads.relabels ? 'relabel' : 'tag';
  return { from, to, direction, strategy, drafts: [controlPlane, gateways.draft, ...workloadDrafts, cleanup] };
}
