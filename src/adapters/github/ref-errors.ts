import { setTimeout as sleep } from 'node:timers/promises';
import { BRANCH_PREFIX } from '../../core/markers.js';
import { GitHubApiError } from './errors.js';

/**
 * GitHub answers a ref creation or update it will not make with 422, and the message says why. Only
 * "Reference already exists" (and "Update is not a fast forward") mean that someone else got there
 * first; "Reference update failed" is worth a few more tries; a ruleset's "Repository rule
 * violations found" (branch-name patterns, restricted creations), or anything else, will be
 * answered the same way however often it is asked.
 */
type RefAnswer =
  | { readonly kind: 'exists' }
  | { readonly kind: 'not-fast-forward' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'transient' }
  | { readonly kind: 'refused'; readonly summary: string };

/** Tries of one ref write (the first included) before the bot gives up and says so. */
export const REF_ATTEMPTS = 3;
/** Pause before trying a "Reference update failed" again (times the attempt number). */
const REF_RETRY_DELAY_MS = 200;

/** What a failed ref write means, or null when it is not a 422 from GitHub (then it is rethrown as is). */
export function refAnswerOf(error: unknown): RefAnswer | null {
  if (!(error instanceof GitHubApiError) || error.status !== 422) return null;
  const message = error.detail.trim();
  if (/^Reference already exists/i.test(message)) return { kind: 'exists' };
  if (/^Update is not a fast.?forward/i.test(message)) return { kind: 'not-fast-forward' };
  if (/^Reference does not exist/i.test(message)) return { kind: 'missing' };
  if (/^Reference update failed/i.test(message)) return { kind: 'transient' };
  return { kind: 'refused', summary: summarizeGitHubMessage(message) };
}

/** Waits a little before the next try of a "Reference update failed". */
export function pauseBeforeRetry(attempt: number): Promise<void> {
  return sleep(REF_RETRY_DELAY_MS * attempt);
}

const SUMMARY_LIMIT = 200;

/**
 * GitHub's message on one line, bounded and reduced to plain characters, to be shown as inline code:
 * "Repository rule violations found: Cannot create ref due to creations being restricted."
 * (A ruleset's messages can carry text an admin typed, such as a name pattern.)
 */
export function summarizeGitHubMessage(message: string): string {
  const lines = message
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  const [head = 'no message', ...rest] = lines;
  const text = (rest.length > 0 ? `${head.replace(/[.:]$/, '')}: ${rest.join(' ')}` : head)
    .replace(/[^\p{L}\p{N} .,:;'"()/*?!#=+_-]/gu, ' ')
    .replace(/\s+/g, ' ');
  return text.length > SUMMARY_LIMIT ? `${text.slice(0, SUMMARY_LIMIT - 1)}…` : text;
}

/** What the bot tried to create, as the reason names it. */
type RefTarget = { readonly kind: 'branch' | 'lock'; readonly name: string; readonly update?: boolean };

function describeTarget(target: RefTarget): string {
  return target.kind === 'branch' ? `the branch \`${target.name}\`` : `the lock ref \`${target.name}\``;
}

/**
 * Why a ref write did not happen, with what to do next, for the sticky comment or a reply: GitHub's
 * refusal (named by a bounded summary of its message), or the retries the bot gave up after.
 */
export function refFailureReason(target: RefTarget, answer: RefAnswer, attempts: number): string {
  const what = describeTarget(target);
  const next = target.kind === 'branch' ? 'then say `/upgrade continue`' : 'then comment the command again (nothing was changed)';
  if (answer.kind === 'refused') {
    const allow = target.kind === 'branch' ? `branches \`${BRANCH_PREFIX}/*\`` : `refs \`refs/${BRANCH_PREFIX}/*\``;
    return `GitHub refused to ${target.update ? 'move' : 'create'} ${what}: \`${answer.summary}\`. A ruleset or branch protection of this repository blocks the bot: exempt the App or allow ${allow}, ${next}.`;
  }
  const said = {
    transient: 'Reference update failed',
    exists: 'Reference already exists',
    missing: 'Reference does not exist',
    'not-fast-forward': 'Update is not a fast forward',
  }[answer.kind];
  return `GitHub answered \`${said}\` ${attempts} times in a row for ${what}, so the bot stopped trying; wait a moment, ${next}.`;
}
