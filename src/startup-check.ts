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

/**
 * What `npm start` (src/start.ts) does about webhooks on a developer's machine. Probot forwards them
 * through smee.io only with the optional package smee-client; without it Probot warns ("SmeeClient is
 * not available", or "Run `npm install --save-dev smee-client`…"). Instead the bot says how to get
 * webhooks locally, and Probot is told not to look for the proxy (same behaviour, no warning).
 * Nothing changes in production (webhooks come to its public URL) or when smee-client is installed.
 */
export function webhookProxyStart(
  env: NodeJS.ProcessEnv,
  smeeClientInstalled: boolean,
): { readonly advice: string; readonly env: Readonly<Record<string, string>>; readonly args: readonly string[] } | null {
  if (env.NODE_ENV === 'production' || smeeClientInstalled) return null;
  return {
    advice: [
      'Webhooks: GitHub cannot reach localhost. To receive them here, `npm install --no-save smee-client` and restart:',
      "the setup page then makes a https://smee.io channel the App's webhook URL (for an App already registered, set",
      'WEBHOOK_PROXY_URL in .env to its webhook URL, a channel from https://smee.io/new). Otherwise give the App a public URL.',
    ].join('\n'),
    // The setup page skips the smee.io channel; the server starts no proxy (Probot reads these).
    env: { NO_SMEE_SETUP: 'true' },
    args: ['--webhook-proxy='],
  };
}
