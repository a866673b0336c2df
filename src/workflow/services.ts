import { KeyedMutex } from './keyed-mutex.js';
import { PlanCache } from './plan-cache.js';

/** What every workflow of one app shares: built once at the entry, never a module singleton. */
export interface WorkflowServices {
  /** Serializes the work on one issue within this process. */
  readonly locks: KeyedMutex;
  /** Plans of recent commits. */
  readonly plans: PlanCache;
}

export function createWorkflowServices(): WorkflowServices {
  return { locks: new KeyedMutex(), plans: new PlanCache() };
}
