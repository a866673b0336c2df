import { MeshUpgradeError } from '../model/errors.js';

/** GitHub refuses issue, pull request and comment bodies over this many characters (422). */
export const GITHUB_BODY_LIMIT = 65_536;

/**
 * Caps tried in turn on the long lists of a comment (warnings, manual steps, phase rows, resources)
 * until it fits: everything first, then fewer and fewer rows, each list ending in "… N more".
 */
const LIST_CAPS: readonly number[] = [Number.POSITIVE_INFINITY, 100, 30, 10, 3, 0];

/** The first `max` items and how many were left out (null when none). */
export function firstOf<T>(items: readonly T[], max: number): { shown: T[]; more: number | null } {
  if (items.length <= max) return { shown: [...items], more: null };
  return { shown: items.slice(0, max), more: items.length - max };
}

/** The hidden state block alone does not fit in one comment: the upgrade has too many phases to track. */
export class StateTooLargeError extends MeshUpgradeError {
  constructor(length: number, limit: number) {
    super(
      `the upgrade state (${length} characters) does not fit in one GitHub comment (at most ${limit}); plan fewer, larger waves (a higher \`podBudget\`).`,
    );
  }
}

/**
 * Keeps a body within `limit` characters, keeping the hidden `marker` that ends it (a state block,
 * a reply or phase marker) whole: only the visible text before it is cut, with `note` saying so.
 */
export function clampKeeping(body: string, marker: string, limit: number, note: string): string {
  if (body.length <= limit) return body;
  if (marker.length + note.length > limit) throw new StateTooLargeError(marker.length, limit);
  const trimmed = body.trimEnd();
  const visible = trimmed.endsWith(marker) ? trimmed.slice(0, trimmed.length - marker.length) : body;
  let cut = limit - note.length - marker.length;
  // Never split a surrogate pair.
  if (cut > 0 && /[\uD800-\uDBFF]/.test(visible.charAt(cut - 1))) cut--;
  return visible.slice(0, cut) + note + marker;
}

/**
 * Renders with each cap of LIST_CAPS in turn and returns the first body that fits; the smallest
 * still too long (a huge reason, say) is clamped, the marker kept.
 */
export function fitWithCaps(renderWith: (cap: number) => string, marker: string, limit: number, note: string): string {
  if (marker.length + note.length > limit) throw new StateTooLargeError(marker.length, limit);
  let body = '';
  for (const cap of LIST_CAPS) {
    body = renderWith(cap);
    if (body.length <= limit) return body;
  }
  return clampKeeping(body, marker, limit, note);
}

/**
 * Appends `sections` (e.g. the would-be PR bodies of a dry run) to a comment that ends with its
 * hidden `marker`, keeping the marker last: whole sections while they fit, then one line for those
 * left out, so no section is cut in the middle of a code block.
 */
export function appendSections(
  body: string,
  marker: string,
  sections: readonly string[],
  limit: number,
  leftOut: (count: number) => string,
): string {
  const trimmed = body.trimEnd();
  const head = trimmed.endsWith(marker) ? trimmed.slice(0, trimmed.length - marker.length) : trimmed;
  let text = head;
  let index = 0;
  for (; index < sections.length; index++) {
    const next = `${text}\n${sections[index]}\n`;
    const reserve = index + 1 < sections.length ? leftOut(sections.length - index - 1).length + 2 : 0;
    if (next.length + reserve + marker.length > limit) break;
    text = next;
  }
  if (index < sections.length) text += `\n${leftOut(sections.length - index)}\n`;
  return clampKeeping(text + marker, marker, limit, '\n\n…\n\n');
}
