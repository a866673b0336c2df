import { ARGOCD_GATE_SCENARIOS } from './scenarios/argocd.js';
import type { Scenario } from './scenarios/drive.js';
import { firstCanary } from './scenarios/first-canary.js';
import { concurrent, MANUAL_GATE_SCENARIOS } from './scenarios/manual-gate.js';

/**
 * Every demo scenario by name, in the order `npm run demo` plays them: the manual gate, the Argo CD
 * gate, the first canary of a non-revisioned mesh, then two issues racing for one cluster.
 */
export const SCENARIOS: Record<string, Scenario> = {
  ...MANUAL_GATE_SCENARIOS,
  ...ARGOCD_GATE_SCENARIOS,
  'first-canary': firstCanary,
  concurrent,
};
