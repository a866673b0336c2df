/** A configuration problem that must stop the app before it serves anything. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/**
 * In production, refuses to start without the App's identity and webhook secret: Probot would
 * otherwise fall back to the secret "development" (accepting forged webhooks) or to its setup flow.
 */
export function checkProductionEnvironment(env: NodeJS.ProcessEnv): void {
  if (env.NODE_ENV !== 'production') return;
  const missing = [
    !env.APP_ID && 'APP_ID',
    !env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH && 'PRIVATE_KEY (or PRIVATE_KEY_PATH)',
    !env.WEBHOOK_SECRET && 'WEBHOOK_SECRET',
    // The bot adopts state only from comments by `<APP_SLUG>[bot]`.
    !env.APP_SLUG && 'APP_SLUG',
  ].filter((name): name is string => Boolean(name));
  if (missing.length > 0) {
    throw new StartupError(
      `mesh-upgrade-bot cannot start in production without ${missing.join(', ')}: set them from the GitHub App's settings (never commit them). See README, "Running it".`,
    );
  }
  if (env.WEBHOOK_SECRET === 'development')
    throw new StartupError('WEBHOOK_SECRET is the placeholder "development": set the secret configured on the GitHub App.');
  if ((env.ARGOCD_SERVER && !env.ARGOCD_AUTH_TOKEN) || (!env.ARGOCD_SERVER && env.ARGOCD_AUTH_TOKEN)) {
    throw new StartupError(
      'ARGOCD_SERVER and ARGOCD_AUTH_TOKEN go together: set both for the Argo CD gate, or neither to use Argo CD Notifications commit statuses.',
    );
  }
}
