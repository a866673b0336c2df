import type { UpgradePlan } from '../core/plan-types.js';

/** The `mesh-upgrade plan --json` contract (documented in README; other tools parse it). */
export interface PlanJson {
  from: { revision: string | null; version: string | null };
  to: { revision: string; version: string | null };
  install: 'manifests' | 'istio-operator' | 'helm' | 'external' | 'sail-operator' | 'managed';
  phases: Array<{
    id: string;
    title: string;
    status: 'pending' | 'done';
    changes: Array<{ action: 'create' | 'update' | 'delete'; file: string; kind: string; namespace: string | null; name: string }>;
    manual: string[];
    estimatedMinutes: number;
  }>;
  warnings: Array<{ code: string; message: string; file: string | null }>;
}

export function toPlanJson(plan: UpgradePlan): PlanJson {
  return {
    from: { revision: plan.from.revision, version: plan.from.version },
    to: { revision: plan.to.revision, version: plan.to.version },
    install: plan.install,
    phases: plan.phases.map((phase) => ({
      id: phase.id,
      title: phase.title,
      status: phase.status,
      changes: phase.changes.map((c) => ({ action: c.action, file: c.file, kind: c.kind, namespace: c.namespace, name: c.name })),
      manual: [...phase.manual],
      estimatedMinutes: phase.estimatedMinutes,
    })),
    warnings: plan.warnings.map((w) => ({ code: w.code, message: w.message, file: w.file })),
  };
}
