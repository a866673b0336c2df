import { describe, expect, it } from 'vitest';
import { DemoHarness, WEBHOOK_SECRET } from '../../demo/harness.js';
import { ARGO_SCENARIOS } from '../../demo/scenarios/argocd.js';
import { SCENARIOS } from '../../demo/scenarios.js';

describe('secrets stay secret', () => {
  it.each(['happy', 'unauthorized', 'argocd-healthy', 'degraded', 'argocd-down'])(
    '%s: no token, key or webhook secret in logs, comments, PRs or printed output',
    async (name) => {
      const printed: string[] = [];
      const argocd = ARGO_SCENARIOS[name];
      const h = await DemoHarness.create({ print: (t) => printed.push(t), ...(argocd ? { argocd } : {}) });
      const result = await SCENARIOS[name]!(h);
      const everything = [...printed, ...h.logs, JSON.stringify(h.transcript(name, result.trackingIssue))].join('\n');
      expect(everything.length).toBeGreaterThan(1000);
      expect(everything).not.toContain(WEBHOOK_SECRET);
      expect(everything).not.toContain('argocd-sim-token');
      expect(everything).not.toMatch(/ghs_sim[0-9a-f]{8}/);
      expect(everything).not.toMatch(/-----BEGIN (RSA )?PRIVATE KEY-----/);
      expect(everything).not.toMatch(/MII[A-Za-z0-9+/]{60}/);
    },
    60_000,
  );
});
