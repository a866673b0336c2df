import { appRoutes } from './routes/apps.js';
import type { RouteTable } from './routes/context.js';
import { gitRoutes } from './routes/git.js';
import { issueRoutes } from './routes/issues.js';
import { pullRoutes } from './routes/pulls.js';
import { repoRoutes } from './routes/repos.js';
import { statusRoutes } from './routes/statuses.js';

export type { RouteContext, RouteHandler, RouteTable } from './routes/context.js';

/**
 * Every simulated operation, keyed by OpenAPI operationId. Operations of the description that are
 * missing here answer 501 and are recorded as violations, so a test notices the app needs them.
 */
export const ROUTES: RouteTable = { ...appRoutes, ...repoRoutes, ...gitRoutes, ...issueRoutes, ...pullRoutes, ...statusRoutes };

/** Operations a GitHub App calls as itself, with its JWT, rather than with an installation token. */
export const APP_JWT_OPERATIONS: ReadonlySet<string> = new Set([
  'apps/get-authenticated',
  'apps/list-installations',
  'apps/get-installation',
  'apps/delete-installation',
  'apps/create-installation-access-token',
  'apps/suspend-installation',
  'apps/unsuspend-installation',
  'apps/get-repo-installation',
]);
