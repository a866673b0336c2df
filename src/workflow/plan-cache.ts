import type { UpgradePlan } from '../core/plan-types.js';

/**
 * Plans of recent commits: a plan depends only on the repo at a commit and the options, so several
 * events at the same head (status commands, gate polls) share one. A cache, never needed for
 * correctness; small, because a plan holds the repo's YAML. One instance per app, shared by its
 * workflows (built at the entry).
 */
export class PlanCache {
  private readonly plans = new Map<string, UpgradePlan>();

  constructor(private readonly size = 4) {}

  has(key: string): boolean {
    return this.plans.has(key);
  }

  /** The plan of `key`, made (and kept, least recently used out) when it is not there. */
  get(key: string, make: () => UpgradePlan): UpgradePlan {
    const hit = this.plans.get(key);
    if (hit) {
      this.plans.delete(key);
      this.plans.set(key, hit);
      return hit;
    }
    const plan = make();
    this.plans.set(key, plan);
    if (this.plans.size > this.size) this.plans.delete(this.plans.keys().next().value!);
    return plan;
  }
}
