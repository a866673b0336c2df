import type { RepoConfig } from '../config/repo-config.js';
import { type GateQuestion, NO_EXPECTATIONS, type PhaseExpectations, type PhaseFacts } from '../core/gate.js';
import { phaseKindOf } from '../core/phase-ids.js';
import type { UpgradePlan } from '../core/plan-types.js';
import type { PhaseRecord, UpgradeState } from '../core/state.js';
import { asDict, getPath, ISTIO_SYSTEM } from '../model/kube.js';

const NONE = NO_EXPECTATIONS;

/**
 * What the phase must bring about, for the Argo CD gate: the new istiod after control-plane, the
 * gateways and no old proxies after gateways and workloads, the old istiod gone after cleanup.
 */
export function phaseExpectations(state: UpgradeState, phase: PhaseRecord, plan: UpgradePlan | null): PhaseExpectations {
  const kind = phaseKindOf(phase.id);
  const oldProxyTag = state.fromVersion;
  switch (kind) {
    case 'control-plane':
      return { ...NONE, healthy: [{ kind: 'Deployment', namespace: ISTIO_SYSTEM, name: `istiod-${state.target}` }] };
    case 'gateways': {
      const gateways = plan?.inventory.gateways.filter((g) => g.revision === state.target) ?? [];
      return {
        healthy: gateways.map((g) => ({ kind: g.object.kind, namespace: g.object.namespace, name: g.object.name })),
        absent: [],
        migratedNamespaces: [...new Set(gateways.map((g) => g.object.namespace ?? ''))].filter(Boolean),
        oldProxyTag,
      };
    }
    case 'workloads':
      return { ...NONE, migratedNamespaces: [...(plan?.phases.find((p) => p.id === phase.id)?.namespaces ?? [])], oldProxyTag };
    case 'default-revision': {
      // No pod may still run the old proxy in a namespace whose restarts are behind us. With the tag
      // strategy, the namespaces following the tag restart in the phases after this one: their
      // pods run the old proxy until then, as planned.
      const restarted = new Set(
        state.phases
          .filter((p) => (p.status === 'passed' || p.status === 'done') && ['workloads', 'gateways'].includes(phaseKindOf(p.id) ?? ''))
          .flatMap((p) => plan?.phases.find((planned) => planned.id === p.id)?.namespaces ?? []),
      );
      const meshed =
        plan?.inventory.namespaces.filter((n) => n.revision === state.target && restarted.has(n.name)).map((n) => n.name) ?? [];
      return { ...NONE, migratedNamespaces: meshed, oldProxyTag };
    }
    case 'cleanup':
      return state.from ? { ...NONE, absent: [{ kind: 'Deployment', namespace: ISTIO_SYSTEM, name: `istiod-${state.from}` }] } : NONE;
    default:
      return NONE;
  }
}

/**
 * The Argo CD applications a phase touched: the cluster's configured applications, or else the
 * Application manifests in the repo whose source path holds one of the phase's changed files.
 */
export function touchedApplications(
  config: RepoConfig,
  state: UpgradeState,
  plan: UpgradePlan | null,
  changedFiles: readonly string[],
): string[] {
  const configured = config.clusters.find((c) => c.name === state.cluster)?.argocd?.applications ?? [];
  const manifests = plan?.inventory.argoApplications ?? [];
  const touches = (name: string): boolean | null => {
    const app = manifests.find((a) => a.name === name);
    if (!app) return null;
    // spec.source, or a multi-source app's git entries (a path and no chart; `ref`-only entries hold values files).
    const sources = getPath(app.body, ['spec', 'sources']);
    const entries = Array.isArray(sources)
      ? sources.map(asDict).filter((s) => s.chart === undefined)
      : [asDict(getPath(app.body, ['spec', 'source']))];
    const paths = entries.map((s) => s.path).filter((p): p is string => typeof p === 'string');
    if (paths.length === 0) return null;
    return paths.some((path) => {
      const prefix = `${path.replace(/^\.\/|\/$/g, '')}/`;
      return changedFiles.some((file) => file.startsWith(prefix) || prefix === '/');
    });
  };
  // Configured applications whose manifests are not in the repo cannot be narrowed down: keep them.
  if (configured.length > 0) return configured.filter((name) => touches(name) !== false);
  return manifests.filter((app) => touches(app.name) === true).map((app) => app.name);
}

/** The question to a gate about a merged phase, with the gate memory the phase record keeps. */
export function gateQuestion(
  state: UpgradeState,
  phase: PhaseRecord,
  options: { continued: boolean; now: Date; facts: PhaseFacts },
): GateQuestion {
  return {
    cluster: state.cluster,
    phase: phase.id,
    mergeSha: phase.mergeSha ?? '',
    continued: options.continued,
    now: options.now,
    mergedAt: phase.gate.mergedAt ? new Date(phase.gate.mergedAt) : options.now,
    healthySince: phase.gate.healthySince ? new Date(phase.gate.healthySince) : null,
    wasHealthy: phase.gate.wasHealthy,
    facts: options.facts,
  };
}
