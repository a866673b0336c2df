/**
 * Actions a person takes without typing: task-list boxes in the sticky comment (as Renovate's
 * Dependency Dashboard has), each marked so the bot knows which box was ticked. Ticking one is an
 * edit of the sticky comment (`issue_comment.edited`); it runs the command the box names, with the
 * same permission check as a typed command.
 */
export const STICKY_ACTIONS = ['continue', 'abort'] as const;
export type StickyAction = (typeof STICKY_ACTIONS)[number];

const MARKER = 'mesh-upgrade-action';

export function actionMarker(action: StickyAction): string {
  return `<!-- ${MARKER}:${action} -->`;
}

const BOX = new RegExp(`^[ \\t]*[-*] \\[([ xX])\\] [^\\n]*<!-- ${MARKER}:(${STICKY_ACTIONS.join('|')}) -->[ \\t]*$`, 'gm');

/** The actions whose box is ticked in `body`. */
export function tickedActions(body: string): StickyAction[] {
  return [...body.matchAll(BOX)].filter((m) => m[1] !== ' ').map((m) => m[2] as StickyAction);
}

/** The actions an edit ticked: ticked after it, not before. */
export function newlyTicked(before: string, after: string): StickyAction[] {
  const was = new Set(tickedActions(before));
  return tickedActions(after).filter((action) => !was.has(action));
}

/** `body` with the boxes of `actions` unticked (what the bot writes back once it acted on them). */
export function untick(body: string, actions: readonly StickyAction[]): string {
  return body.replace(BOX, (line, _tick, action: StickyAction) => (actions.includes(action) ? line.replace(/\[[xX]\]/, '[ ]') : line));
}
