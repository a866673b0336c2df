import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadAll } from 'js-yaml';
import { planUpgrade } from '../../src/core/plan.js';
import type { PlanOptions } from '../../src/core/plan-types.js';
import { applyFileChanges, type RepoSnapshot } from '../../src/model/snapshot.js';

/** Whether `kubectl kustomize` can run here (tests that need it are skipped otherwise). */
export const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

export interface UpgradeStep {
  readonly phase: string;
  readonly before: RepoSnapshot;
  readonly after: RepoSnapshot;
}

/**
 * Runs an upgrade as the bot does: plan the repo as it is, merge the first pending phase, plan
 * again. `manual` stands for the person's commit of a phase whose result is files (a rendered
 * control plane); without it such a phase's own files are merged. A pending phase with nothing to
 * merge is one whose steps happen in the cluster: it counts as confirmed (`/upgrade continue`).
 */
export function runUpgrade(
  start: RepoSnapshot,
  options: PlanOptions,
  manual?: (phase: string, repo: RepoSnapshot) => RepoSnapshot | null,
): UpgradeStep[] {
  const steps: UpgradeStep[] = [];
  let repo = start;
  const confirmed = new Set<string>();
  for (let guard = 0; guard < 20; guard++) {
    const plan = planUpgrade(repo, options);
    const next = plan.phases.find((p) => p.status === 'pending' && !confirmed.has(p.id));
    if (!next) return steps;
    const after = manual?.(next.id, repo) ?? (next.files.length > 0 ? applyFileChanges(repo, next.files) : repo);
    if (after === repo && next.manualResult === 'repo') throw new Error(`phase ${next.id} waits for files that nobody commits`);
    // Steps in the cluster are done by a person once the phase is merged, who then confirms it.
    if (next.manualResult === 'cluster' && (after === repo || next.manual.length > 0)) confirmed.add(next.id);
    steps.push({ phase: next.id, before: repo, after });
    repo = after;
  }
  throw new Error('upgrade did not converge');
}

export interface BuiltObject {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  readonly spec?: { template?: { metadata?: { labels?: Record<string, string> } } } & Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** `kubectl kustomize <root>` over the snapshot written to a temporary directory. */
export async function kustomizeBuild(repo: RepoSnapshot, root: string): Promise<BuiltObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'kustomize-'));
  try {
    for (const [path, text] of repo) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    const output = execFileSync('kubectl', ['kustomize', join(dir, root)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return (loadAll(output) as BuiltObject[]).filter(Boolean);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `Kind/namespace/name` of an object, for set comparisons between builds. */
export const objectKey = (o: BuiltObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Every file a step of the run wrote, with its new text (for schema validation of what the bot writes). */
export function changedFiles(steps: readonly UpgradeStep[]): Array<{ path: string; content: string }> {
  return steps.flatMap((s) =>
    [...s.after].filter(([path, text]) => s.before.get(path) !== text).map(([path, content]) => ({ path, content })),
  );
}
