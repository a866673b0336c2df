import { createTwoFilesPatch } from 'diff';
import type { UpgradePlan } from '../core/plan-types.js';
import type { FileChange, RepoSnapshot } from '../model/snapshot.js';

/** The plan as a person reads it in a terminal. */
export function formatPlan(plan: UpgradePlan): string {
  const lines: string[] = [];
  const unnamed = plan.direction === 'none' ? '(nothing else installed)' : '(the revision the default tag serves, not named in git)';
  const from = plan.from.revision ? `${plan.from.revision}${plan.from.version ? ` (${plan.from.version})` : ''}` : unnamed;
  const to = `${plan.to.revision}${plan.to.version ? ` (${plan.to.version})` : ''}`;
  lines.push(`Upgrade ${from} → ${to}; control plane installed as: ${plan.install}`, '');
  plan.phases.forEach((phase, i) => {
    const pods = phase.pods > 0 ? `, ${phase.pods} pods` : '';
    lines.push(
      `${String(i + 1).padStart(2)}. ${phase.id.padEnd(18)} ${phase.status.padEnd(8)} ${phase.title}  (~${phase.estimatedMinutes} min${pods})`,
    );
    for (const c of phase.changes)
      lines.push(`      ${c.action.padEnd(6)} ${c.kind} ${c.namespace ? `${c.namespace}/` : ''}${c.name}  [${c.file}]`);
    for (const step of phase.manual) lines.push(`      manual: ${step}`);
  });
  const restart = plan.phases.filter((p) => p.status === 'pending').reduce((sum, p) => sum + (p.pods > 0 ? p.estimatedMinutes : 0), 0);
  lines.push('', `Estimated restart time of pending phases: ~${restart} min (about 100 pods a minute)`);
  if (plan.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const w of plan.warnings) lines.push(`  - [${w.code}] ${w.message}${w.file ? ` (${w.file})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Unified diff of file changes against the snapshot they apply to. */
export function formatDiff(before: RepoSnapshot, changes: readonly FileChange[]): string {
  return changes
    .map((change) => {
      const old = before.get(change.path) ?? '';
      const oldName = change.action === 'create' ? '/dev/null' : `a/${change.path}`;
      const newName = change.action === 'delete' ? '/dev/null' : `b/${change.path}`;
      return createTwoFilesPatch(oldName, newName, old, change.content ?? '', undefined, undefined, { context: 3 })
        .split('\n')
        .slice(1)
        .join('\n');
    })
    .join('');
}
