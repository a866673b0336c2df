import { parse } from 'yaml';
import { z } from 'zod';
import { MeshUpgradeError } from '../core/errors.js';
import { DEFAULT_POD_BUDGET } from '../core/phase-ids.js';
import { PLATFORMS, type Platform } from '../core/platform.js';

export const CONFIG_PATH = '.github/mesh-upgrade.yml';

/** GitHub's repository roles, weakest first (maintain counts as write, triage as read, as in the API's `permission`). */
export const PERMISSION_LEVELS = ['none', 'read', 'write', 'admin'] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

/** Where a cluster runs, for the asmcli flags of manual installs; absent: detected from the repo. */
const PlatformSetting = z.enum(PLATFORMS).optional();

export const ClusterConfig = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a cluster name is lowercase letters, digits and -'),
  /** Directory of this cluster's manifests in the repo ('' = the whole repo). */
  path: z.string().default(''),
  argocd: z.strictObject({ applications: z.array(z.string()).default([]) }).optional(),
  canary: z.array(z.string()).optional(),
  /** Where this cluster runs (overrides the top-level `platform`). */
  platform: PlatformSetting,
});
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export const RepoConfig = z.strictObject({
  clusters: z.array(ClusterConfig).min(1).default([{ name: 'default', path: '' }]),
  /** Namespaces moved first in their own wave (per cluster `canary` wins). */
  canary: z.array(z.string()).default([]),
  podBudget: z.number().int().positive().default(DEFAULT_POD_BUDGET),
  /** `annotation`: the bot restarts workloads with a pod-template marker; `manual`: it lists kubectl commands. */
  restartStrategy: z.enum(['annotation', 'manual']).default('annotation'),
  /** `relabel` namespaces, or move the `tag`s they follow; `auto`: tag when every meshed namespace follows one. */
  strategy: z.enum(['relabel', 'tag', 'auto']).default('auto'),
  permission: z.enum(['read', 'write', 'admin']).default('write'),
  gate: z.enum(['manual', 'argocd']).default('manual'),
  /** `scale-then-delete`: scale the old istiod to zero first, delete it after `scaleDownGraceHours`. */
  cleanupMode: z.enum(['delete', 'scale-then-delete']).default('delete'),
  /** `gke` or `multicloud` (Anthos on bare metal, VMware, other clouds); absent: detected from the repo. */
  platform: PlatformSetting,
  scaleDownGraceHours: z.number().nonnegative().default(24),
  /** Argo CD gate timing. */
  gateTiming: z
    .strictObject({
      stabilityWindowSeconds: z.number().int().nonnegative().default(60),
      phaseTimeoutMinutes: z.number().positive().default(30),
      pollSeconds: z.number().positive().default(10),
      maxPollSeconds: z.number().positive().default(60),
    })
    .default({ stabilityWindowSeconds: 60, phaseTimeoutMinutes: 30, pollSeconds: 10, maxPollSeconds: 60 }),
  baseBranch: z.string().optional(),
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
    throw new ConfigError(`not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = RepoConfig.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const at = issue.path.length > 0 ? `'${issue.path.join('.')}'` : 'top level';
    const keys = issue.code === 'unrecognized_keys' ? ` unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}` : '';
    throw new ConfigError(`${keys ? `${keys.trim()} at ${at}` : `${at}: ${issue.message}`}. Valid keys: ${validKeys(issue.path)}.`);
  }
  const names = result.data.clusters.map((c) => c.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new ConfigError(`cluster '${duplicate}' is listed twice.`);
  return result.data;
}

function validKeys(path: readonly PropertyKey[]): string {
  const inCluster = path[0] === 'clusters';
  const shape = inCluster ? (path.includes('argocd') ? { applications: 0 } : ClusterConfig.shape) : RepoConfig.shape;
  return Object.keys(shape).join(', ');
}

/** The platform to plan a cluster with: its own, else the top-level one, else undefined (detect it from the repo). */
export function platformFor(config: RepoConfig, cluster: ClusterConfig): Platform | undefined {
  return cluster.platform ?? config.platform;
}

export function meetsPermission(actual: PermissionLevel, required: RepoConfig['permission']): boolean {
  return PERMISSION_LEVELS.indexOf(actual) >= PERMISSION_LEVELS.indexOf(required);
}
