import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../../demo/harness.js';
import { ARGO_SCENARIOS } from '../../demo/scenarios/argocd.js';
import { SCENARIOS } from '../../demo/scenarios.js';
import { metrics } from '../../src/observability/metrics.js';
import { metricsHandler } from '../../src/observability/metrics-endpoint.js';

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('metrics', () => {
  it('count upgrades by state, gate decisions, phase durations and API calls, served at GET /metrics', async () => {
    const before = await metrics.text();
    const h = await DemoHarness.create({ argocd: ARGO_SCENARIOS['argocd-healthy']! });
    await SCENARIOS['argocd-healthy']!(h);

    const server = createServer(async (req, res) => {
      if (!(await metricsHandler(metrics)(req, res))) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const response = await fetch(`${base}/metrics`);
    const text = await response.text();
    expect((await fetch(`${base}/other`)).status).toBe(404);
    server.close();

    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(
      value(text, 'mesh_upgrade_upgrades_total{state="completed"}') - value(before, 'mesh_upgrade_upgrades_total{state="completed"}'),
    ).toBe(1);
    expect(
      value(text, 'mesh_upgrade_gate_decisions_total{gate="argocd",decision="pass"}') -
        value(before, 'mesh_upgrade_gate_decisions_total{gate="argocd",decision="pass"}'),
    ).toBe(6);
    expect(value(text, 'mesh_upgrade_phase_duration_seconds_count{phase="gateways",gate="argocd"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'mesh_upgrade_github_requests_total{operation="create pull request",outcome="ok"}')).toBeGreaterThanOrEqual(6);
    expect(value(text, 'mesh_upgrade_argocd_requests_total{outcome="ok"}')).toBeGreaterThan(0);
  }, 60_000);
});
