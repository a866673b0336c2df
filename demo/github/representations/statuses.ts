import type { StatusRecord } from '../records.js';
import type { World } from '../world.js';
import { type Json, nodeId, repositoryJson, userJson } from './common.js';

/** A commit status without its creator (`simple-commit-status`, as the combined status lists them). */
export function simpleStatusJson(world: World, status: StatusRecord): Json {
  return {
    url: world.apiUrl(`/statuses/${status.sha}`),
    avatar_url: userJson(world, status.creator).avatar_url,
    id: status.id,
    node_id: nodeId('SC', status.id),
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
  };
}

export function statusJson(world: World, status: StatusRecord): Json {
  return { ...simpleStatusJson(world, status), creator: userJson(world, status.creator) };
}

export function combinedStatusJson(world: World, sha: string, state: string, latest: readonly StatusRecord[]): Json {
  return {
    state,
    statuses: latest.map((s) => simpleStatusJson(world, s)),
    sha,
    total_count: latest.length,
    repository: repositoryJson(world),
    commit_url: world.apiUrl(`/commits/${sha}`),
    url: world.apiUrl(`/commits/${sha}/status`),
  };
}
