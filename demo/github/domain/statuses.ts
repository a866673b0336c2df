import { unprocessable } from '../http.js';
import type { StatusRecord, StatusState } from '../records.js';
import type { World } from '../world.js';

export function createStatus(
  world: World,
  creator: string,
  sha: string,
  fields: { state: StatusState; context?: string; description?: string | null; targetUrl?: string | null },
): StatusRecord {
  if (!world.git.commit(sha)) throw unprocessable(`No commit found for SHA: ${sha}`);
  const status: StatusRecord = {
    id: world.records.nextId('status'),
    sha,
    state: fields.state,
    context: fields.context ?? 'default',
    description: fields.description ?? null,
    targetUrl: fields.targetUrl ?? null,
    creator,
    createdAt: world.clock.stamp(),
  };
  world.records.statuses.push(status);
  return status;
}

/** Every status of a commit, newest first (as `GET /commits/{ref}/statuses` lists them). */
export function statusesOf(world: World, sha: string): StatusRecord[] {
  return world.records.statuses.filter((s) => s.sha === sha).reverse();
}

/** The newest status per context, and GitHub's combined state over them. */
export function combinedStatus(world: World, sha: string): { state: 'failure' | 'pending' | 'success'; latest: StatusRecord[] } {
  const latest = new Map<string, StatusRecord>();
  for (const status of statusesOf(world, sha)) if (!latest.has(status.context)) latest.set(status.context, status);
  const states = [...latest.values()].map((s) => s.state);
  const state = states.some((s) => s === 'error' || s === 'failure')
    ? 'failure'
    : states.length === 0 || states.includes('pending')
      ? 'pending'
      : 'success';
  return { state, latest: [...latest.values()] };
}
