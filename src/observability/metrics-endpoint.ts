import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BotMetrics } from './metrics.js';

/** A Probot `addHandler` route: `GET /metrics` in Prometheus text format; other requests pass through. */
export function metricsHandler(metrics: BotMetrics) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') return false;
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(await metrics.text());
    return true;
  };
}
