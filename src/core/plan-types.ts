import type { ObjectChange } from '../model/placed-object.js';
import type { PlanWarning } from '../model/plan-warning.js';
import type { FileChange, RepoSnapshot } from '../model/snapshot.js';
import type { InstallStyle, MeshInventory } from './inventory.js';
import type { PhaseDraft } from './phases/context.js';
import type { Platform } from './platform.js';
import type { CleanupMode, Strategy, StrategySetting } from './upgrade-options.js';

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
  /** With `rollback`: `to` must be in the repo (a control plane or a namespace on it); a rollback asked of a repo that never ran it is refused. */
  readonly rollbackNeedsTarget?: boolean;
  /**
   * `relabel` namespaces to the new revision, or move the `tag`s they follow (canary namespaces go
   * to a `canary` tag first); `auto` picks tag when every meshed namespace follows a tag.
   * @default 'auto'
   */
  readonly strategy?: StrategySetting;
  /** `scale-then-delete`: a `scale-down` phase (old istiod to zero) comes before `cleanup`. @default 'delete' */
  readonly cleanupMode?: CleanupMode;
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
  readonly strategy: Strategy;
  readonly direction: 'upgrade' | 'downgrade' | 'same-version' | 'none';
  readonly phases: readonly PlannedPhase[];
  readonly warnings: readonly PlanWarning[];
  /** The repo the plan was made from. */
  readonly original: RepoSnapshot;
  /** The mesh as found in that repo. */
  readonly inventory: MeshInventory;
}
