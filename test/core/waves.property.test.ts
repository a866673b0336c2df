import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planUpgrade } from '../../src/core/plan.js';

/** A minimal IstioOperator repo with the given namespaces (each with workloads of the given replicas). */
function repo(namespaces: ReadonlyArray<readonly number[]>): Map<string, string> {
  const files = new Map<string, string>([
    [
      'istio-system/iop.yaml',
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: cp-1-21-2\n  namespace: istio-system\nspec:\n  revision: 1-21-2\n  tag: 1.21.2\n',
    ],
  ]);
  namespaces.forEach((replicas, i) => {
    const ns = `team-${String(i).padStart(2, '0')}`;
    files.set(
      `apps/${ns}/namespace.yaml`,
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n  labels:\n    istio.io/rev: 1-21-2\n`,
    );
    files.set(
      `apps/${ns}/workloads.yaml`,
      replicas
        .map(
          (r, j) =>
            `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${j}\n  namespace: ${ns}\nspec:\n  replicas: ${r}\n  template:\n    metadata:\n      labels: {app: app-${j}}\n`,
        )
        .join('---\n'),
    );
  });
  return files;
}

describe('workload waves', () => {
  it('never exceed the pod budget, except a single namespace larger than it (which gets a wave and a warning)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 30 }),
        fc.option(fc.integer({ min: 0, max: 11 }), { nil: undefined }),
        (namespaces, podBudget, canaryIndex) => {
          const canary =
            canaryIndex !== undefined && canaryIndex < namespaces.length ? [`team-${String(canaryIndex).padStart(2, '0')}`] : [];
          const plan = planUpgrade(repo(namespaces), { to: '1-22-1', podBudget, canary });
          const waves = plan.phases.filter((p) => p.id.startsWith('workloads'));
          const moved = waves.flatMap((w) => w.namespaces);
          expect(new Set(moved).size).toBe(moved.length);
          expect(moved.length).toBe(namespaces.length);
          if (canary.length > 0) expect(waves[0]!.namespaces).toEqual(canary);
          for (const [i, wave] of waves.entries()) {
            // The canary wave holds the canary namespaces whatever their size.
            if (i === 0 && canary.length > 0 && wave.namespaces.every((n) => canary.includes(n))) continue;
            if (wave.pods <= podBudget) continue;
            expect(wave.namespaces).toHaveLength(1);
            expect(plan.warnings.some((w) => w.code === 'wave-over-budget' && w.message.includes(wave.namespaces[0]!))).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
