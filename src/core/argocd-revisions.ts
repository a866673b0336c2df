import type { ArgoApplication } from './argocd-status.js';
import type { GateDecision } from './gate.js';

/**
 * Which commit of the config repo an Argo CD application shows, and how it relates to a merge
 * commit; and the redaction of what Argo CD says before anyone reads it.
 */

/** How the revision Argo CD last compared relates to the merge commit X (from GitHub's compare). */
export type Ancestry = 'identical' | 'ahead' | 'behind' | 'diverged';

/** The config repo the gate asks about (the GitHub repo the upgrade runs in). */
export interface ConfigRepoRef {
  readonly owner: string;
  readonly repo: string;
}

/**
 * `owner/name` of a git URL, lower-cased and without `.git`, whatever its form: https
 * (`https://github.com/Org/repo.git`), ssh (`ssh://git@github.com/org/repo`), scp-like
 * (`git@github.com:org/repo.git`), git://. Null when it is none of these.
 */
export function repoSlug(url: string): string | null {
  const trimmed = url.trim();
  let path: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    try {
      path = new URL(trimmed).pathname;
    } catch {
      return null;
    }
  } else {
    const scp = /^(?:[^@/\s]+@)?[^:/\s]+:(?!\/\/)(.+)$/.exec(trimmed);
    if (!scp) return null;
    path = scp[1]!;
  }
  const slug = decodeURIComponent(path)
    .replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/i, '')
    .toLowerCase();
  return /^[^/]+\/[^/]+$/.test(slug) ? slug : null;
}

/**
 * Text with the userinfo of every URL in it removed (`https://user:token@host/…` → `https://host/…`):
 * a repoURL, or an Argo CD condition or operation message quoting one, may carry credentials, and
 * whatever the gate says ends up in comments and logs.
 */
export function stripUserinfo(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1');
}

/** A gate decision with `stripUserinfo` applied to everything it says. */
export function redactDecision(decision: GateDecision): GateDecision {
  switch (decision.status) {
    case 'pass':
      return { ...decision, summary: stripUserinfo(decision.summary) };
    case 'wait':
      return { ...decision, reason: stripUserinfo(decision.reason) };
    case 'fail':
      return {
        ...decision,
        reason: stripUserinfo(decision.reason),
        resources: decision.resources.map((r) => ({ ...r, message: stripUserinfo(r.message) })),
      };
  }
}

/** Which revision of an application is the config repo's (see `trackedRevisions`). */
type TrackedRevisions =
  /** Revisions of the config repo's source(s), to relate to X (none known yet: empty). */
  | { readonly kind: 'tracked'; readonly revisions: readonly string[] }
  /** A multi-source application none of whose sources is the config repo. */
  | { readonly kind: 'foreign'; readonly reason: string };

/**
 * The revision(s) Argo CD last compared for the config repo. A single-source app reports
 * `status.sync.revision`. A multi-source app reports only `status.sync.revisions`, one per entry of
 * `spec.sources` (a Helm chart's version, another repository's commit, …): only the entries whose
 * `repoURL` is the config repo count.
 */
export function trackedRevisions(app: ArgoApplication, repo: ConfigRepoRef): TrackedRevisions {
  if (app.spec.sourceHydrator !== undefined && app.spec.sourceHydrator !== null) {
    // Its synced revision is a hydrated commit (status.sourceHydrator.currentOperation.hydratedSHA), not a commit of the config repo's branch.
    return {
      kind: 'foreign',
      reason: 'source hydrator apps (spec.sourceHydrator) are not supported by the gate yet; check by hand and say /upgrade continue',
    };
  }
  const sources = app.spec.sources ?? [];
  const sync = app.status.sync;
  const wanted = `${repo.owner}/${repo.repo}`.toLowerCase();
  if (sources.length === 0) {
    const only = app.spec.source;
    if (only?.repoURL && repoSlug(only.repoURL) !== wanted) {
      const url = stripUserinfo(only.repoURL);
      const what = only.chart ? `the Helm chart ${only.chart} from ${url}` : url;
      return {
        kind: 'foreign',
        reason: `its only source is ${what}, not the config repo ${repo.owner}/${repo.repo}: the phase's files cannot be what it syncs (name the application that syncs them under clusters[].argocd.applications)`,
      };
    }
    const revision = sync?.revision ?? sync?.revisions?.[0];
    return { kind: 'tracked', revisions: revision ? [revision] : [] };
  }
  const mine = sources
    .map((source, index) => ({ index, slug: source.repoURL ? repoSlug(source.repoURL) : null }))
    .filter((s) => s.slug === wanted);
  if (mine.length === 0) {
    const urls = sources.map((s) => (s.repoURL ? stripUserinfo(s.repoURL) : '(no repoURL)')).join(', ');
    return {
      kind: 'foreign',
      reason: `none of its ${sources.length} sources is the config repo ${repo.owner}/${repo.repo} (${urls}), so it cannot show the merge commit`,
    };
  }
  const revisions = mine.map((s) => sync?.revisions?.[s.index]).filter((r): r is string => Boolean(r));
  return { kind: 'tracked', revisions: [...new Set(revisions)] };
}

/** The best relation to X over several tracked revisions (X in any config-repo source counts). */
export function bestAncestry(relations: ReadonlyArray<Ancestry | null>): Ancestry | null {
  const order: Array<Ancestry | null> = ['identical', 'ahead', 'behind', null, 'diverged'];
  if (relations.length === 0) return null;
  return [...relations].sort((a, b) => order.indexOf(a) - order.indexOf(b))[0] ?? null;
}
