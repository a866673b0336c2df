import { fileURLToPath } from 'node:url';
import { run } from 'probot';
import { webhookProxyStart } from './startup-check.js';

/**
 * `npm start`: Probot's `probot run ./dist/src/index.js` (same options and environment), saying how to
 * get webhooks locally instead of Probot's warning when the optional smee-client is not installed.
 * The container runs `probot run` itself (production: no webhook proxy).
 */
function smeeClientInstalled(): boolean {
  try {
    // Resolved, not imported: smee-client is optional and not a dependency.
    import.meta.resolve('smee-client');
    return true;
  } catch {
    return false;
  }
}

const proxy = webhookProxyStart(process.env, smeeClientInstalled());
if (proxy) {
  process.stdout.write(`${proxy.advice}\n`);
  Object.assign(process.env, proxy.env);
}
const entry = fileURLToPath(new URL('./index.js', import.meta.url));
await run([process.argv[0]!, 'probot-run', ...(proxy?.args ?? []), ...process.argv.slice(2), entry]);
