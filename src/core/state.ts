import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { parseStateEnvelope, renderStateEnvelope, STATE_LABELS, stateMacInput } from './markers.js';
import { CLEANUP_MODES, STRATEGIES } from './upgrade-options.js';

/**
 * Upgrade state, kept in a hidden block of the sticky plan comment. It is a cache of what the
 * phase branches and PRs show and is always cross-checked against them, so losing or editing it
 * never loses the upgrade: the repo and the PRs are the truth.
 */
const STATE_VERSION = 1;

const PhaseStatus = z.enum([
  /** Not started. */
  'pending',
  /** Its PR is open for review (or, manual-only, its checklist waits for /upgrade continue). */
  'open',
  /** Merged; the health gate has not passed yet. */
  'merged',
  /** Merged and the gate passed. */
  'passed',
  /** Nothing to change: the repo already has it. */
  'done',
  /** Its PR was closed without merging. */
  'closed',
  /** The gate failed. */
  'failed',
]);

/** core/gate.ts's GateMemory as stored (ISO times), plus when the phase was merged (the gate's clock starts there). */
const StoredGateMemory = z.object({ mergedAt: z.string().nullable(), healthySince: z.string().nullable(), wasHealthy: z.boolean() });

export const PhaseRecord = z.object({
  id: z.string(),
  title: z.string(),
  status: PhaseStatus,
  pr: z.number().int().nullable(),
  branch: z.string().nullable(),
  mergeSha: z.string().nullable(),
  /** Latest gate message, shown on the phase line. */
  note: z.string().nullable().default(null),
  /** What the health gate remembers between checks. */
  gate: StoredGateMemory.default({ mergedAt: null, healthySince: null, wasHealthy: false }),
  /** Pods the phase restarts, as planned (so a finished upgrade can still say what it restarted). */
  pods: z.number().int().optional(),
});
export type PhaseRecord = z.infer<typeof PhaseRecord>;

/** A phase record that has not started (or was just added). */
export function newPhaseRecord(id: string, title: string, status: 'pending' | 'done', note: string | null = null): PhaseRecord {
  return {
    id,
    title,
    status,
    pr: null,
    branch: null,
    mergeSha: null,
    note,
    gate: { mergedAt: null, healthySince: null, wasHealthy: false },
  };
}

const UpgradeStatus = z.enum(['running', 'paused', 'completed', 'aborted', 'rolled-back']);

export const UpgradeState = z.object({
  version: z.literal(STATE_VERSION),
  issue: z.number().int(),
  cluster: z.string(),
  path: z.string(),
  target: z.string(),
  targetVersion: z.string().nullable(),
  from: z.string().nullable(),
  fromVersion: z.string().nullable(),
  install: z.string(),
  /** `rollback`: the phases return to `target` (the revision the upgrade replaced). */
  mode: z.enum(['upgrade', 'rollback']).default('upgrade'),
  options: z.object({
    version: z.string().optional(),
    canary: z.array(z.string()).optional(),
    downgrade: z.boolean(),
    dryRun: z.boolean(),
    strategy: z.enum(STRATEGIES).optional(),
    cleanupMode: z.enum(CLEANUP_MODES).optional(),
  }),
  status: UpgradeStatus,
  /** Why the upgrade is paused (or was aborted). */
  reason: z.string().nullable(),
  requestedBy: z.string(),
  /** The GitHub App installation, so a restarted bot can resume waiting gates on its own. */
  installation: z.number().int().nullable().default(null),
  phases: z.array(PhaseRecord),
  /** A rollback's record of the upgrade it undoes: that upgrade's phases as they were (shown, never walked). */
  history: z.array(PhaseRecord).optional(),
  /** The last hand-over a person was told about (a new comment that mentions them): told once. */
  handover: z.string().max(200).nullable().optional(),
  /** How many hand-overs were told (each comment's marker counts them). */
  handovers: z.number().int().nonnegative().optional(),
  /** The state labels last set: on the issue, and on the PR of the phase that was current then. */
  labels: z
    .object({
      issue: z.enum(STATE_LABELS).nullable(),
      pr: z.number().int().nullable(),
    })
    .default({ issue: null, pr: null }),
  /** When the upgrade was started (the first phase's time counts from here). */
  startedAt: z.string().nullable().default(null),
  /** The head of the base branch the upgrade was planned at. */
  plannedAt: z
    .string()
    .regex(/^[0-9a-f]{7,40}$/)
    .nullable()
    .default(null),
});
export type UpgradeState = z.infer<typeof UpgradeState>;

/** Format of the hidden block: v2 carries an HMAC of its payload (v1 had none and is not trusted). */
const BLOCK_VERSION = 2;

/**
 * The key that authenticates state blocks, derived (HKDF-SHA256) from the App's secret so that the
 * secret itself never signs anything readable. Only whoever holds the secret can write a block the
 * bot will act on.
 */
export interface StateKey {
  readonly bytes: Buffer;
}

export function deriveStateKey(secret: string): StateKey {
  if (secret.length === 0) throw new Error('the state key needs a non-empty secret');
  return { bytes: Buffer.from(hkdfSync('sha256', secret, 'mesh-upgrade-bot', 'sticky-state-block', 32)) };
}

/**
 * The key of one repository (`owner/name`): a block signed for one repo does not verify in
 * another. Within a repo the payload names its issue, and a block is only read on that issue.
 */
export function stateKeyForRepo(key: StateKey, repo: string): StateKey {
  return { bytes: Buffer.from(hkdfSync('sha256', key.bytes, 'mesh-upgrade-bot', `repo:${repo.toLowerCase()}`, 32)) };
}

function macOf(key: StateKey, payload: string): string {
  return createHmac('sha256', key.bytes).update(stateMacInput(BLOCK_VERSION, payload)).digest('base64url');
}

/** The hidden, versioned block: base64 JSON (so no `-->` can end it early) and its HMAC. */
export function renderStateBlock(state: UpgradeState, key: StateKey): string {
  const payload = Buffer.from(JSON.stringify(state)).toString('base64');
  return renderStateEnvelope({ version: BLOCK_VERSION, payload, mac: macOf(key, payload) });
}

type StateParse =
  | { readonly kind: 'none' }
  | { readonly kind: 'state'; readonly state: UpgradeState }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** A block this App did not write (no or wrong HMAC): never used. */
  | { readonly kind: 'unauthenticated'; readonly reason: string };

/**
 * Reads the state block that ends a comment (the bot writes it last; text above it, such as names
 * quoted from the repo, never counts), checks its HMAC and, given `onIssue`, that it is the state
 * of the issue it was read on.
 */
export function parseStateBlock(body: string, key: StateKey, onIssue?: number): StateParse {
  const envelope = parseStateEnvelope(body);
  if (!envelope) return { kind: 'none' };
  if (envelope.version !== BLOCK_VERSION)
    return { kind: 'unauthenticated', reason: `state block v${envelope.version} carries no signature of this App` };
  const expected = Buffer.from(macOf(key, envelope.payload));
  const given = Buffer.from(envelope.mac ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { kind: 'unauthenticated', reason: 'state block signature does not match' };
  try {
    const parsed = UpgradeState.safeParse(JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')));
    if (!parsed.success) return { kind: 'invalid', reason: parsed.error.issues[0]?.message ?? 'invalid' };
    if (onIssue !== undefined && parsed.data.issue !== onIssue)
      return { kind: 'unauthenticated', reason: `state block of issue #${parsed.data.issue} read on #${onIssue}` };
    return { kind: 'state', state: parsed.data };
  } catch (error) {
    return { kind: 'invalid', reason: (error as Error).message };
  }
}
