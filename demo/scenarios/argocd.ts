import type { ArgoScenario } from '../argocd/state.js';
import { driveWithArgo, type Scenario, start, TARGET } from './drive.js';

/** Scenarios with the Argo CD gate: each merge is synced by the simulated Argo CD of ARGO_SCENARIOS. */
export const ARGOCD_GATE_SCENARIOS: Record<string, Scenario> = {
  /** The happy path gated by Argo CD: each merge is synced, becomes healthy, holds, then the next PR opens. */
  async 'argocd-healthy'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** The gateways phase goes Degraded after a healthy moment: the upgrade pauses and names the resource. */
  async degraded(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** Right after each sync Argo CD still shows the old health (stale reconciledAt): the gate must not pass on it. */
  async 'stale-status'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** Argo CD is unreachable for a while: the upgrade waits and says so, then carries on. */
  async 'argocd-down'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** The application has two sources, the istio chart first and this repo second: the gate follows this repo's revision. */
  async 'multi-source'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** The gateway Deployment was paused: after the gateways phase it stays Suspended, and the upgrade pauses at once saying so. */
  async suspended(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** An admission policy rejects the new IstioOperator: the sync fails, and the upgrade pauses naming Argo CD's SyncError. */
  async 'sync-error'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },
};

/** The simulated Argo CD each scenario runs against (none: the manual gate). */
export const ARGO_SCENARIOS: Record<string, ArgoScenario> = {
  'argocd-healthy': { notifications: true },
  degraded: { degradeGatewayOn: TARGET },
  'stale-status': { staleMs: 20_000 },
  'argocd-down': { downBetween: [30_000, 4 * 60_000] },
  'multi-source': {
    multiSource: { configRepoURL: 'git@github.com:Example-Org/cluster-config.git' },
    conditions: [
      {
        type: 'RepeatedResourceWarning',
        message: 'Resource /ServiceAccount/istio-system/istio-reader-service-account appeared 2 times among application resources.',
      },
    ],
  },
  suspended: { suspendGatewayOn: TARGET },
  'sync-error': { syncErrorOn: TARGET },
};
