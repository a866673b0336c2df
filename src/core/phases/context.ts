import type { Construct } from 'constructs';
import type { IndexedObject } from '../../model/objects.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { RawFileEdit } from '../../model/snapshot.js';
import type { InstalledRevision, MeshInventory } from '../inventory.js';
import type { Platform } from '../platform.js';
import type { YamlIndex } from '../repo-index.js';
import type { Revision } from '../revision.js';
import type { Strategy } from '../upgrade-options.js';

/** Everything a phase builder reads: the repo as indexed, the mesh found in it, from and to. */
export interface PlanContext {
  readonly index: YamlIndex;
  readonly inventory: MeshInventory;
  readonly from: Revision;
  /** The old revision as installed from git, or null when installed outside the repo. */
  readonly installed: InstalledRevision | null;
  readonly to: Revision;
  readonly canary: readonly string[];
  /**
   * `relabel`: namespaces are relabelled to the new revision; `tag`: namespaces keep following
   * their tags, which move (canary namespaces first move to a `canary` tag).
   */
  readonly strategy: Strategy;
  readonly podBudget: number;
  /** Where the cluster runs, for the asmcli flags of manual installs (given, or detected from the repo). */
  readonly platform: Platform;
  /** Objects created by earlier phases that later phases edit (e.g. the new istiod Helm release). */
  readonly created: Map<string, IndexedObject>;
  readonly warn: (warning: PlanWarning) => void;
  /** An IstioOperator overlay file in the repo that rendered manifests are generated from (not applied). */
  readonly renderOverlay?: string | null;
}

/** What one phase wants, before it is written into the repo. */
export interface PhaseDraft {
  readonly id: string;
  readonly title: string;
  /** One paragraph: what the phase changes and why, for the plan and the PR body. */
  readonly why: string;
  readonly objects: readonly PlacedObject[];
  readonly deletions: readonly IndexedObject[];
  readonly manual: readonly string[];
  /** True when what the manual steps do is already visible in the repo. */
  readonly manualDone: boolean;
  /**
   * Where the result of the manual steps shows: `repo` — files a person commits (the phase passes
   * only once the repo shows them); `cluster` — outside git (a maintainer confirms it).
   * @default 'cluster'
   */
  readonly manualResult?: 'repo' | 'cluster';
  readonly pods: number;
  readonly namespaces: readonly string[];
  readonly estimatedMinutes: number;
  /** Checks to run against the cluster before the PR is merged (the PR body's "Before merging"). */
  readonly beforeMerge?: readonly string[];
  /** Checks to run once Argo CD has synced the merge. */
  readonly verify: readonly string[];
  readonly rollback: readonly string[];
  /** What still uses the old revision after the earlier phases (cleanup only). */
  readonly blockedBy?: readonly string[];
  /** Files written as text after the objects (twin kustomize patches and their `patches:` entries). */
  readonly rawFiles?: readonly RawFileEdit[];
}

/** A phase's cdk8s scope and a helper that keeps construct ids unique and readable. */
export interface DraftScope {
  readonly phaseId: string;
  readonly scope: Construct;
  id(...parts: ReadonlyArray<string | null>): string;
}

export function podsOf(workloads: ReadonlyArray<{ replicas: number; optedOut: boolean }>): number {
  return workloads.reduce((sum, w) => sum + (w.optedOut ? 0 : w.replicas), 0);
}

/** Records an object a phase creates, so that later phases edit it as if it were already in the repo. */
export function registerCreated(
  ctx: PlanContext,
  key: string,
  json: { readonly apiVersion: string; readonly kind: string; readonly metadata: { readonly name: string; readonly namespace?: string } },
  file: string,
): void {
  ctx.created.set(key, {
    file,
    documentIndex: 0,
    apiVersion: json.apiVersion,
    kind: json.kind,
    namespace: json.metadata.namespace ?? null,
    name: json.metadata.name,
    body: json as unknown as IndexedObject['body'],
    isPatch: false,
  });
}
