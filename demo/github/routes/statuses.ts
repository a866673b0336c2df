import { combinedStatus, createStatus, statusesOf } from '../domain/statuses.js';
import { errorBody, HttpError, ok, paginate } from '../http.js';
import type { StatusState } from '../records.js';
import { combinedStatusJson, statusJson } from '../representations/statuses.js';
import { bodyOf, type RouteContext, type RouteTable, requirePermission, stringParam } from './context.js';

export const statusRoutes: RouteTable = {
  'repos/create-commit-status': (context) => {
    requirePermission(context, 'write');
    const {
      state,
      target_url,
      description,
      context: statusContext,
    } = bodyOf<{ state: StatusState; target_url?: string | null; description?: string | null; context?: string }>(context);
    const status = createStatus(context.world, context.actor, stringParam(context, 'sha'), {
      state,
      targetUrl: target_url,
      description,
      context: statusContext,
    });
    return ok(statusJson(context.world, status), 201);
  },

  'repos/list-commit-statuses-for-ref': (context) => {
    const sha = commitOf(context);
    return paginate(
      statusesOf(context.world, sha).map((s) => statusJson(context.world, s)),
      context.query,
      context.path,
    );
  },

  'repos/get-combined-status-for-ref': (context) => {
    const sha = commitOf(context);
    const { state, latest } = combinedStatus(context.world, sha);
    return ok(combinedStatusJson(context.world, sha, state, latest));
  },
};

function commitOf(context: RouteContext): string {
  const ref = stringParam(context, 'ref');
  const sha = context.world.git.resolveCommit(ref);
  if (!sha) throw new HttpError(404, errorBody(`No commit found for SHA: ${ref}`, 404));
  return sha;
}
