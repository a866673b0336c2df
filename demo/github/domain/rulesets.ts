import { errorBody, HttpError } from '../http.js';
import type { World } from '../world.js';

/** What a ruleset can restrict on the refs it targets. */
export type RefOperation = 'creation' | 'update' | 'deletion';

/**
 * A repository ruleset, reduced to what the git refs API feels of it: refs it targets (full names,
 * `refs/heads/…`), operations it restricts, and optionally a name pattern new refs must match.
 * Nobody bypasses it (the App included), as when the App is not on the bypass list.
 */
export interface Ruleset {
  readonly name: string;
  readonly include: RegExp;
  readonly restrict?: readonly RefOperation[];
  readonly namePattern?: { readonly pattern: RegExp; readonly description: string };
}

const RESTRICTION_MESSAGES: Record<RefOperation, string> = {
  creation: 'Cannot create ref due to creations being restricted.',
  update: 'Cannot update this protected ref.',
  deletion: 'Cannot delete this protected ref.',
};

/** GitHub's 422 when rulesets refuse a ref operation: "Repository rule violations found", then one line per violation. */
export function ruleViolationBody(violations: readonly string[]): Record<string, unknown> {
  return errorBody(
    `Repository rule violations found\n\n${violations.join('\n')}\n\n`,
    422,
    'https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/about-rulesets',
  );
}

/** Throws GitHub's 422 when a ruleset refuses `operation` on the full ref name `ref`. */
export function enforceRulesets(world: World, ref: string, operation: RefOperation): void {
  const violations: string[] = [];
  for (const ruleset of world.rulesets) {
    if (!ruleset.include.test(ref)) continue;
    if (ruleset.restrict?.includes(operation)) violations.push(RESTRICTION_MESSAGES[operation]);
    if (operation === 'creation' && ruleset.namePattern && !ruleset.namePattern.pattern.test(ref.replace(/^refs\/(heads|tags)\//, ''))) {
      violations.push(`Ref name must match the pattern '${ruleset.namePattern.description}'.`);
    }
  }
  if (violations.length === 0) return;
  throw new HttpError(422, ruleViolationBody(violations));
}
