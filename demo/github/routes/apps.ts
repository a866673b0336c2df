import { randomBytes } from 'node:crypto';
import { isoSeconds } from '../clock.js';
import { notFound, ok } from '../http.js';
import { APP_PERMISSIONS, appJson, installationJson, repositoryJson } from '../representations/common.js';
import type { World } from '../world.js';
import type { RouteTable } from './context.js';

/** Installation tokens live an hour on GitHub; the simulator does not expire them. */
const TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export const appRoutes: RouteTable = {
  'apps/get-authenticated': ({ world }) => ok({ ...appJson(world), installations_count: 1 }),

  'apps/list-installations': ({ world }) => ok([installationJson(world)]),

  'apps/get-installation': ({ world, params }) => {
    if (Number(params.installation_id) !== world.installationId) throw notFound();
    return ok(installationJson(world));
  },

  'apps/get-repo-installation': ({ world }) => ok(installationJson(world)),

  'apps/create-installation-access-token': ({ world, params }) => {
    if (Number(params.installation_id) !== world.installationId) throw notFound();
    const token = issueInstallationToken(world);
    const expiresAt = isoSeconds(new Date(Date.parse(world.clock.peek()) + TOKEN_LIFETIME_MS));
    return ok({ token, expires_at: expiresAt, permissions: { ...APP_PERMISSIONS }, repository_selection: 'selected' }, 201);
  },

  'apps/list-repos-accessible-to-installation': ({ world }) =>
    ok({ total_count: 1, repository_selection: 'selected', repositories: [repositoryJson(world)] }),
};

/** A fresh `ghs_…` token acting as the App's bot user. */
export function issueInstallationToken(world: World): string {
  const token = `ghs_sim${randomBytes(16).toString('hex')}`;
  world.tokens.set(token, world.users.bot.login);
  return token;
}
