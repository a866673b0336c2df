import {
  allPulls,
  closePull,
  type MergeMethod,
  mergePull,
  openPullRequest,
  type PullRequestRecord,
  pullComparison,
  pullShas,
  reopenPull,
  requirePull,
  updatePullFields,
} from '../domain/pulls.js';
import { noContent, notFound, ok, paginate, validationFailed } from '../http.js';
import { commitJson, diffEntryJson } from '../representations/git.js';
import { pullJson, pullSimpleJson } from '../representations/pulls.js';
import type { World } from '../world.js';
import { bodyOf, numberParam, type RouteTable, requirePermission } from './context.js';

export const pullRoutes: RouteTable = {
  'pulls/list': (context) => {
    const { world, params } = context;
    const state = String(params.state ?? 'open');
    const head = headFilter(world, params.head);
    const pulls = allPulls(world).filter(
      (pr) =>
        (state === 'all' || pr.state === state) &&
        (head === undefined || pr.pull.headRef === head) &&
        (params.base === undefined || pr.pull.baseRef === params.base),
    );
    return paginate(
      sortPulls(pulls, params).map((pr) => pullSimpleJson(world, pr)),
      context.query,
      context.path,
    );
  },

  'pulls/create': (context) => {
    requirePermission(context, 'write');
    const { world, actor } = context;
    const { title, head, base, body, draft, issue } = bodyOf<{
      title?: string;
      head: string;
      base: string;
      body?: string;
      draft?: boolean;
      issue?: number;
    }>(context);
    if (issue !== undefined)
      throw validationFailed({ resource: 'PullRequest', field: 'issue', code: 'invalid', message: 'converting issues is not simulated' });
    if (title === undefined) throw validationFailed({ resource: 'PullRequest', field: 'title', code: 'missing_field' });
    const pr = openPullRequest(world, actor, { title, head, base, body: body ?? null, draft: draft ?? false });
    return ok(pullJson(world, pr), 201);
  },

  'pulls/get': (context) => ok(pullJson(context.world, requirePull(context.world, numberParam(context, 'pull_number')))),

  'pulls/update': (context) => {
    const { world, actor } = context;
    const pr = requirePull(world, numberParam(context, 'pull_number'));
    if (pr.author !== actor) requirePermission(context, 'triage');
    const { title, body, state, base } = bodyOf<{ title?: string; body?: string; state?: 'open' | 'closed'; base?: string }>(context);
    updatePullFields(world, pr, { title, body, base });
    if (state === 'closed') closePull(world, actor, pr);
    if (state === 'open') reopenPull(world, pr);
    return ok(pullJson(world, pr));
  },

  'pulls/list-commits': (context) => {
    const { world } = context;
    const pr = requirePull(world, numberParam(context, 'pull_number'));
    const commits = pullComparison(world, pr)?.commits ?? [];
    return paginate(
      commits.map((c) => commitJson(world, c)),
      context.query,
      context.path,
    );
  },

  'pulls/list-files': (context) => {
    const { world } = context;
    const pr = requirePull(world, numberParam(context, 'pull_number'));
    const files = pullComparison(world, pr)?.files ?? [];
    const { headSha } = pullShas(world, pr);
    return paginate(
      files.map((f) => diffEntryJson(world, f, headSha)),
      context.query,
      context.path,
    );
  },

  'pulls/check-if-merged': (context) => {
    const pr = requirePull(context.world, numberParam(context, 'pull_number'));
    if (!pr.pull.mergedAt) throw notFound();
    return noContent();
  },

  'pulls/merge': (context) => {
    const { world, actor } = context;
    const pr = requirePull(world, numberParam(context, 'pull_number'));
    const { commit_title, commit_message, sha, merge_method } = bodyOf<{
      commit_title?: string;
      commit_message?: string;
      sha?: string;
      merge_method?: MergeMethod;
    }>(context);
    const mergeSha = mergePull(world, actor, pr, {
      method: merge_method,
      commitTitle: commit_title,
      commitMessage: commit_message,
      expectedHeadSha: sha,
    });
    return ok({ sha: mergeSha, merged: true, message: 'Pull Request successfully merged' });
  },
};

/**
 * The `head` filter must be `owner:branch`; GitHub ignores a bare branch name (and lists every pull
 * request), a classic pitfall this keeps visible. A different owner matches nothing.
 */
function headFilter(world: World, head: unknown): string | undefined | null {
  if (head === undefined) return undefined;
  const text = String(head);
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return text.slice(0, colon) === world.owner ? text.slice(colon + 1) : null;
}

function sortPulls(pulls: PullRequestRecord[], params: Readonly<Record<string, unknown>>): PullRequestRecord[] {
  const byUpdated = params.sort === 'updated';
  const descending = params.direction ? params.direction === 'desc' : params.sort === undefined || params.sort === 'created';
  return [...pulls].sort((a, b) => {
    const order = (byUpdated ? a.updatedAt.localeCompare(b.updatedAt) : a.createdAt.localeCompare(b.createdAt)) || a.number - b.number;
    return descending ? -order : order;
  });
}
