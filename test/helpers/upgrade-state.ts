import type { PlannedPhase, UpgradePlan } from '../../src/core/plan-types.js';
import { newPhaseRecord, type PhaseRecord, type UpgradeState } from '../../src/core/state.js';

/** A running upgrade of `prod` from asm-1130-0 to asm-1140-0 on issue #3, with the fields a test cares about replaced. */
export function upgradeState(overrides: Partial<UpgradeState> = {}): UpgradeState {
  return {
    version: 1,
    issue: 3,
    cluster: 'prod',
    path: '',
    target: 'asm-1140-0',
    targetVersion: '1.14.0-asm.0',
    from: 'asm-1130-0',
    fromVersion: '1.13.0-asm.0',
    install: 'istio-operator',
    mode: 'upgrade',
    options: { downgrade: false, dryRun: false },
    status: 'running',
    reason: null,
    requestedBy: 'alice',
    installation: null,
    phases: [],
    handover: null,
    labels: { issue: null, pr: null },
    plannedAt: null,
    startedAt: null,
    ...overrides,
  };
}

/** The upgrade of `plan` (its revisions, install and phases), each phase pending unless `phase` says otherwise. */
export function upgradeStateFor(
  plan: UpgradePlan,
  phase: (planned: PlannedPhase, index: number) => Partial<PhaseRecord> = () => ({}),
): UpgradeState {
  return upgradeState({
    target: plan.to.revision,
    targetVersion: plan.to.version,
    from: plan.from.revision,
    fromVersion: plan.from.version,
    install: plan.install,
    phases: plan.phases.map((p, i) => ({ ...newPhaseRecord(p.id, p.title, 'pending'), ...phase(p, i) })),
  });
}
