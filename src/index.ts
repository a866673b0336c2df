import type { ApplicationFunction } from 'probot';
import { ArgoCdClient } from './adapters/argocd/client.js';
import { argoCdFetch } from './adapters/argocd/tls.js';
import { createApp, reconcileInstallations } from './app.js';
import { deriveStateKey } from './core/state.js';
import { metrics } from './observability/metrics.js';
import { metricsHandler } from './observability/metrics-endpoint.js';
import { checkProductionEnvironment } from './startup-check.js';
import { loadTemplates } from './text/templates.js';
import { createWorkflowServices } from './workflow/services.js';
import { TimerScheduler } from './workflow/timer-scheduler.js';

const RECONCILE_EVERY_MS = 5 * 60_000;

/** The Probot entry (`probot run ./dist/src/index.js`). */
const app: ApplicationFunction = (probot, { addHandler }) => {
  const env = process.env;
  checkProductionEnvironment(env);
  const argocdFetch = argoCdFetch({ caFile: env.ARGOCD_CA_FILE, insecure: env.ARGOCD_INSECURE === 'true' });
  const argocd =
    env.ARGOCD_SERVER && env.ARGOCD_AUTH_TOKEN
      ? new ArgoCdClient({
          server: env.ARGOCD_SERVER,
          token: env.ARGOCD_AUTH_TOKEN,
          ...(argocdFetch ? { fetch: argocdFetch } : {}),
          ...(env.ARGOCD_TIMEOUT_MS ? { timeoutMs: Number(env.ARGOCD_TIMEOUT_MS) } : {}),
        })
      : null;
  const options = {
    templates: loadTemplates(),
    botLogin: env.APP_SLUG ? `${env.APP_SLUG}[bot]` : null,
    // MESH_UPGRADE_STATE_SECRET decouples the state key from the webhook secret (rotating the key
    // makes running upgrades' state blocks unreadable).
    stateKey: deriveStateKey(env.MESH_UPGRADE_STATE_SECRET || env.WEBHOOK_SECRET || 'development'),
    argocd,
    scheduler: new TimerScheduler(probot.log),
    // One mutex and plan cache for the webhooks and the reconcile of this process.
    services: createWorkflowServices(),
  };
  createApp(options)(probot);
  // Prometheus scrapes GET /metrics on the same port as the webhooks.
  addHandler(metricsHandler(metrics));
  const reconcile = () =>
    reconcileInstallations(probot, options).then(
      (count) => probot.log.info({ upgrades: count }, 'reconciled running upgrades'),
      (error: unknown) => probot.log.error({ err: error }, 'reconcile failed'),
    );
  setTimeout(reconcile, 1_000).unref();
  setInterval(reconcile, RECONCILE_EVERY_MS).unref();
};

export default app;
