import { z } from 'zod';

/**
 * Every wire format the bot leaves in GitHub for itself: the hidden HTML-comment markers in
 * comments and PR bodies, the phase branch names, the lock refs and their commit messages. Each is
 * rendered and parsed here, and only here, so a format changes in one place.
 */

export const BRANCH_PREFIX = 'mesh-upgrade';

// ---- the state block of the sticky comment (its payload and HMAC are core/state.ts's) ----------

const STATE_MARKER = 'mesh-upgrade-state';
const STATE_BLOCKS = new RegExp(`<!-- ${STATE_MARKER}:v(\\d+) ([A-Za-z0-9+/=]+)(?: ([A-Za-z0-9_-]+))? -->`, 'g');
const STATE_BLOCK_AT_END = new RegExp(`<!-- ${STATE_MARKER}:[^>]*-->\\s*$`);

/** The parts of a state block: format version, base64 payload, and its MAC (absent before v2). */
interface StateEnvelope {
  readonly version: number;
  readonly payload: string;
  readonly mac: string | null;
}

export function renderStateEnvelope(envelope: { version: number; payload: string; mac: string }): string {
  return `<!-- ${STATE_MARKER}:v${envelope.version} ${envelope.payload} ${envelope.mac} -->`;
}

/** The last state block of a body (text above it, such as names quoted from the repo, never counts). */
export function parseStateEnvelope(body: string): StateEnvelope | null {
  const match = [...body.matchAll(STATE_BLOCKS)].at(-1);
  if (!match) return null;
  return { version: Number(match[1]), payload: match[2]!, mac: match[3] ?? null };
}

/** What the MAC of a state block covers besides its payload (binds it to the marker and version). */
export function stateMacInput(version: number, payload: string): string {
  return `${STATE_MARKER}:v${version}:${payload}`;
}

export function isStateComment(body: string): boolean {
  return body.includes(`<!-- ${STATE_MARKER}:v`);
}

/** The body with its state block shown as `<!-- state -->` (for transcripts and logs: the payload is noise). */
export function elideStateBlock(body: string): string {
  return body.replace(new RegExp(`<!-- ${STATE_MARKER}[^>]*-->`), '<!-- state -->');
}

/** The state block that ends a comment, as written (empty when there is none). */
export function trailingStateBlock(body: string): string {
  return STATE_BLOCK_AT_END.exec(body)?.[0].trimEnd() ?? '';
}

// ---- the phase marker of a phase PR body -------------------------------------------------------

/** Identity of a phase PR, hidden in its body so any event can find its tracking issue. */
export const PhaseMarker = z.object({ issue: z.number().int(), cluster: z.string(), target: z.string(), phase: z.string() });
export type PhaseMarker = z.infer<typeof PhaseMarker>;
const PHASE_MARKER = /<!-- mesh-upgrade-phase:v1 ([A-Za-z0-9+/=]+) -->/;
const ANY_PHASE_MARKER = /<!-- mesh-upgrade-phase:[^>]*-->/;

export function renderPhaseMarker(marker: PhaseMarker): string {
  return `<!-- mesh-upgrade-phase:v1 ${Buffer.from(JSON.stringify(marker)).toString('base64')} -->`;
}

export function parsePhaseMarker(body: string | null | undefined): PhaseMarker | null {
  const match = body ? PHASE_MARKER.exec(body) : null;
  if (!match) return null;
  try {
    const parsed = PhaseMarker.safeParse(JSON.parse(Buffer.from(match[1]!, 'base64').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A PR body without its phase marker (a dry run shows would-be bodies that no event may act on). */
export function withoutPhaseMarker(body: string): string {
  return body.replace(ANY_PHASE_MARKER, '');
}

// ---- markers of the bot's other comments --------------------------------------------------------

/** Marks a bot reply to one command comment, so a redelivered webhook does not answer twice. */
export function replyMarker(key: number | string): string {
  return `<!-- mesh-upgrade-reply:${key} -->`;
}

/** Marks the one comment that tells a person about one hand-over (a failed gate's included). */
export function handoverMarker(handover: string): string {
  return `<!-- mesh-upgrade-handover:${handover.replace(/[^A-Za-z0-9:._-]/g, '_')} -->`;
}

/** Marks the short reply to someone without the permission (at most one an hour per issue). */
export const PERMISSION_REFUSAL_MARKER = '<!-- mesh-upgrade-permission-refusal -->';

// ---- branch and ref names -----------------------------------------------------------------------

interface PhaseBranch {
  readonly cluster: string;
  readonly revision: string;
  /** Zero-based position of the phase. */
  readonly index: number;
  readonly phase: string;
}

/** Deterministic branch of a phase: `mesh-upgrade/<cluster>/<revision>/<nn>-<phase>`. */
export function phaseBranch(cluster: string, revision: string, index: number, phaseId: string): string {
  return `${BRANCH_PREFIX}/${cluster}/${revision}/${String(index + 1).padStart(2, '0')}-${phaseId}`;
}

export function parsePhaseBranch(branch: string): PhaseBranch | null {
  const match = new RegExp(`^${BRANCH_PREFIX}/([^/]+)/([^/]+)/(\\d{2,})-(.+)$`).exec(branch);
  if (!match) return null;
  return { cluster: match[1]!, revision: match[2]!, index: Number(match[3]) - 1, phase: match[4]! };
}

/** Where the cluster locks live. */
export const LOCK_PREFIX = `refs/${BRANCH_PREFIX}/locks/`;

/** The git ref that says which issue holds a cluster's upgrade (created atomically: one holder). */
export function lockRef(cluster: string): string {
  return `${LOCK_PREFIX}${cluster}`;
}

/** The cluster of a lock ref; null for a ref that is not a lock. */
export function parseLockRef(ref: string): string | null {
  return ref.startsWith(LOCK_PREFIX) && ref.length > LOCK_PREFIX.length ? ref.slice(LOCK_PREFIX.length) : null;
}

/** The message of a lock ref's commit: it names the holding issue (and, after a take-over, the one before). */
export function lockCommitMessage(issue: number, previous?: number | null): string {
  return `mesh-upgrade lock\n\nissue: ${issue}\n${previous === undefined ? '' : `previous holder: ${previous ?? 'unknown'}\n`}`;
}

/** The holding issue a lock commit's message names; null when it names none. */
export function parseLockCommitMessage(message: string): number | null {
  const issue = /issue: (\d+)/.exec(message)?.[1];
  return issue ? Number(issue) : null;
}

/** The commit message of a phase commit. */
export function phaseCommitMessage(cluster: string, title: string): string {
  return `${BRANCH_PREFIX}(${cluster}): ${title}`;
}

/** Whether a commit message is one the bot writes (only where no bot login is configured, in development). */
export function isBotCommitMessage(message: string): boolean {
  return message.startsWith(BRANCH_PREFIX);
}

// ---- labels -------------------------------------------------------------------------------------

/** The label of tracking issues (reconcile finds running upgrades by it) and phase PRs. */
export const UPGRADE_LABEL = 'mesh-upgrade';

/** The labels of a tracking issue: the upgrade label first (always), then the repo config's `labels`. */
export function issueLabels(configured: readonly string[] = []): string[] {
  return [...new Set([UPGRADE_LABEL, ...configured])];
}

/** What the state labels say: the upgrade's status, and whether it waits for a person. */
export const STATE_LABELS = ['running', 'waiting-for-you', 'paused', 'completed', 'rolled-back', 'aborted'] as const;
export type StateLabel = (typeof STATE_LABELS)[number];

const STATE_LABEL_PREFIX = `${UPGRADE_LABEL}: `;

/** The label that shows an upgrade's state on its issue and its current phase's PR (`mesh-upgrade: running`). */
export function stateLabelName(label: StateLabel): string {
  return `${STATE_LABEL_PREFIX}${label}`;
}

export function isStateLabelName(name: string): boolean {
  return STATE_LABELS.some((label) => name.toLowerCase() === stateLabelName(label));
}

/** The labels of a phase PR: the issue's, and one naming the phase kind (waves share one). */
export function phaseLabels(phaseId: string, configured: readonly string[] = []): string[] {
  return [...issueLabels(configured), `${UPGRADE_LABEL}:${phaseId.replace(/-\d+$/, '')}`];
}
