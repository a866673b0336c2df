/**
 * The choices an upgrade is planned with, declared once: the repo config's schema, the stored state
 * and the planner take their unions from here.
 */

/** How namespaces move to the new revision: relabelled, or by moving the tags they follow. */
export const STRATEGIES = ['relabel', 'tag'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** A strategy as asked for: `auto` picks `tag` when every meshed namespace follows a tag. */
export const STRATEGY_SETTINGS = [...STRATEGIES, 'auto'] as const;
export type StrategySetting = (typeof STRATEGY_SETTINGS)[number];

/** `scale-then-delete`: the old istiod is scaled to zero first and deleted after a grace period. */
export const CLEANUP_MODES = ['delete', 'scale-then-delete'] as const;
export type CleanupMode = (typeof CLEANUP_MODES)[number];
