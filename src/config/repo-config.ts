import { parse } from 'yaml';
import { z } from 'zod';
import { MAX_CANARY } from '../core/command.js';
import { DEFAULT_POD_BUDGET } from '../core/phase-ids.js';
import { PLATFORMS, type Platform } from '../core/platform.js';
import { CLEANUP_MODES, STRATEGY_SETTINGS } from '../core/upgrade-options.js';
import { DNS_LABEL, inlineCode } from '../core/user-text.js';
import { MeshUpgradeError } from '../model/errors.js';

export const CONFIG_PATH = '.github/mesh-upgrade.yml';

/** GitHub's repository roles, weakest first (maintain counts as write, triage as read, as in the API's `permission`). */
const PERMISSION_LEVELS = ['none', 'read', 'write', 'admin'] as const;
type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

/** Where a cluster runs, for the asmcli flags of manual installs; absent: detected from the repo. */
const PlatformSetting = z.enum(PLATFORMS).optional();

/** The cluster's Kubernetes version, checked against the target release; absent: read from a cluster manifest in the repo. */
const KubernetesVersionSetting = z
  .string()
  .regex(/^v?1\.\d{1,2}(\.\d+)?$/, 'a Kubernetes version like 1.29 or v1.29.3')
  .optional();

/**
 * Limits of the durations (README, "Repo config"): each ends in a timer or a poll, so none may be
 * long enough to overflow one (Node's timers stop at 2^31-1 ms, about 24.8 days) or short enough to
 * become a request storm.
 */
export const DURATION_LIMITS = {
  scaleDownGraceHours: { min: 0, max: 720, unit: 'hours (30 days)' },
  stabilityWindowSeconds: { min: 0, max: 3600, unit: 'seconds' },
  phaseTimeoutMinutes: { min: 1, max: 1440, unit: 'minutes (24 hours)' },
  pollSeconds: { min: 1, max: 600, unit: 'seconds' },
  maxPollSeconds: { min: 1, max: 3600, unit: 'seconds' },
} as const;

function duration(key: keyof typeof DURATION_LIMITS) {
  const { min, max, unit } = DURATION_LIMITS[key];
  const message = `must be between ${min} and ${max} ${unit}`;
  return z.number(message).min(min, message).max(max, message);
}

/** Canary namespaces: at most MAX_CANARY names, each a DNS-1123 label. */
const CanaryList = z
  .array(
    z.string().regex(DNS_LABEL, 'a canary namespace is a namespace name (a DNS-1123 label: lowercase letters, digits and -, at most 63)'),
  )
  .max(MAX_CANARY, `at most ${MAX_CANARY} canary namespaces`);

export const ClusterConfig = z.strictObject({
  name: z
    .string()
    .max(63, 'a cluster name has at most 63 characters')
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a cluster name is lowercase letters, digits and -'),
  /** Directory of this cluster's manifests in the repo ('' = the whole repo). */
  path: z.string().default(''),
  argocd: z.strictObject({ applications: z.array(z.string()).default([]) }).optional(),
  canary: CanaryList.optional(),
  /** Where this cluster runs (overrides the top-level `platform`). */
  platform: PlatformSetting,
  /** This cluster's Kubernetes version (overrides the top-level one). */
  kubernetesVersion: KubernetesVersionSetting,
});
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export const RepoConfig = z.strictObject({
  clusters: z
    .array(ClusterConfig)
    .min(1)
    .default([{ name: 'default', path: '' }]),
  /** Namespaces moved first in their own wave (per cluster `canary` wins). */
  canary: CanaryList.default([]),
  podBudget: z.number().int().positive().default(DEFAULT_POD_BUDGET),
  /**
   * How workloads restart onto the new revision: `annotation`, the only way, writes a restart
   * annotation into each moving pod template in git (Argo CD or Flux rolls them out). Kept so that
   * configs written from earlier examples stay valid.
   */
  restartStrategy: z
    .literal('annotation', {
      error:
        'restartStrategy is `annotation` (restarts are pod-template annotations in git, which GitOps rolls out); restarting by hand is not supported',
    })
    .optional(),
  /** `relabel` namespaces, or move the `tag`s they follow; `auto`: tag when every meshed namespace follows one. */
  strategy: z.enum(STRATEGY_SETTINGS).default('auto'),
  permission: z.enum(['read', 'write', 'admin']).default('write'),
  gate: z.enum(['manual', 'argocd']).default('manual'),
  /** `scale-then-delete`: scale the old istiod to zero first, delete it after `scaleDownGraceHours`. */
  cleanupMode: z.enum(CLEANUP_MODES).default('delete'),
  /** `gke` or `multicloud` (Anthos on bare metal, VMware, other clouds); absent: detected from the repo. */
  platform: PlatformSetting,
  kubernetesVersion: KubernetesVersionSetting,
  scaleDownGraceHours: duration('scaleDownGraceHours').default(24),
  /** Argo CD gate timing. */
  gateTiming: z
    .strictObject({
      stabilityWindowSeconds: duration('stabilityWindowSeconds').int().default(60),
      phaseTimeoutMinutes: duration('phaseTimeoutMinutes').default(30),
      pollSeconds: duration('pollSeconds').default(10),
      maxPollSeconds: duration('maxPollSeconds').default(60),
    })
    .default({ stabilityWindowSeconds: 60, phaseTimeoutMinutes: 30, pollSeconds: 10, maxPollSeconds: 60 }),
  /** The branch whose manifests are planned and that phase PRs target (absent: the default branch, where this file is read). */
  baseBranch: z.string().optional(),
  /**
   * People (`login`) and teams (`org/team`) told, with the requester, when it is a person's turn
   * (a PR to review, manual steps, a failed gate, a pause).
   */
  reviewers: z
    .array(
      z
        .string()
        .regex(/^@?[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:\/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})?$/, {
          error: 'a reviewer is a GitHub login (alice) or a team (my-org/platform)',
        })
        .transform((login) => login.replace(/^@/, '')),
    )
    .max(10)
    .default([]),
  /** Labels of the tracking issue and the phase PRs; `mesh-upgrade` is always among them (running upgrades are found by it). */
  labels: z.array(z.string()).default(['mesh-upgrade']),
});
export type RepoConfig = z.infer<typeof RepoConfig>;

export class ConfigError extends MeshUpgradeError {
  constructor(message: string) {
    super(`${CONFIG_PATH}: ${message}`);
  }
}

/** Parses the repo config (absent file → defaults). Typos are rejected with the offending key named. */
export function parseRepoConfig(text: string | null): RepoConfig {
  if (text === null) return RepoConfig.parse({});
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    const line = (error as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    throw new ConfigError(`not valid YAML${line ? ` (line ${line})` : ''}.`);
  }
  const result = RepoConfig.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    // Keys and values come from a file anyone with push access writes: shown only as inline code.
    const at = issue.path.length > 0 ? inlineCode(issue.path.join('.')) : 'top level';
    const keys =
      issue.code === 'unrecognized_keys'
        ? ` unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys
            .slice(0, 5)
            .map((k) => inlineCode(k))
            .join(', ')}`
        : '';
    throw new ConfigError(`${keys ? `${keys.trim()} at ${at}` : `${at}: ${issue.message}`}. Valid keys: ${validKeys(issue.path)}.`);
  }
  const names = result.data.clusters.map((c) => c.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new ConfigError(`cluster ${inlineCode(duplicate)} is listed twice.`);
  return result.data;
}

function validKeys(path: readonly PropertyKey[]): string {
  const inCluster = path[0] === 'clusters';
  const shape = inCluster ? (path.includes('argocd') ? { applications: 0 } : ClusterConfig.shape) : RepoConfig.shape;
  return Object.keys(shape).join(', ');
}

/** The Kubernetes version to check a cluster's target against: its own, else the top-level one. */
export function kubernetesVersionFor(config: RepoConfig, cluster: ClusterConfig): string | undefined {
  return cluster.kubernetesVersion ?? config.kubernetesVersion;
}

/** The platform to plan a cluster with: its own, else the top-level one, else undefined (detect it from the repo). */
export function platformFor(config: RepoConfig, cluster: ClusterConfig): Platform | undefined {
  return cluster.platform ?? config.platform;
}

export function meetsPermission(actual: PermissionLevel, required: RepoConfig['permission']): boolean {
  return PERMISSION_LEVELS.indexOf(actual) >= PERMISSION_LEVELS.indexOf(required);
}
