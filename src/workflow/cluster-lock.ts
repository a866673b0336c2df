import { GitHubApiError } from '../adapters/github/errors.js';
import type { BranchHead, ConfigRepo, LockHolder } from '../adapters/github/ports.js';
import { summarizeGitHubMessage } from '../adapters/github/ref-errors.js';
import { LOCK_PREFIX, lockRef, parseLockRef } from '../core/markers.js';
import type { Messages } from '../text/messages.js';
import type { Logger } from './logger.js';

/**
 * A lock younger than this is never taken over, even when its issue shows no upgrade: its holder
 * may be writing the sticky comment at this very moment (on another replica).
 */
export const LOCK_GRACE_MS = 10 * 60_000;

type ClusterLock =
  /** `tookOverFrom`: the stale lock this issue replaced (its issue ran no upgrade of the cluster). */
  | { readonly kind: 'acquired'; readonly tookOverFrom: LockHolder | null }
  | { readonly kind: 'held'; readonly issue: number | null }
  | { readonly kind: 'refused'; readonly reason: string };

interface LockRequest {
  readonly cluster: string;
  readonly issue: number;
  readonly base: BranchHead;
  readonly now: Date;
  /** Whether an issue's sticky comment shows a running or paused upgrade of this cluster. */
  readonly runsUpgrade: (issue: number) => Promise<boolean>;
}

/**
 * Takes the cluster's lock. A lock whose issue has no valid sticky comment with a running or paused
 * upgrade of the cluster (a start that died between the lock and the comment, an issue deleted) is
 * stale: after LOCK_GRACE_MS it is taken over, atomically, and the caller says so.
 */
export async function acquireClusterLock(repo: ConfigRepo, request: LockRequest, log: Logger): Promise<ClusterLock> {
  const ref = lockRef(request.cluster);
  const lock = await repo.acquireLock(ref, request.issue, request.base);
  if (lock.kind === 'acquired') return { kind: 'acquired', tookOverFrom: null };
  if (lock.kind === 'refused') return lock;
  if (!(await isStale(lock, request))) return { kind: 'held', issue: lock.issue };
  log.warn(
    { issue: request.issue, cluster: request.cluster, holder: lock.issue, since: lock.since },
    'taking over a stale cluster lock: its issue runs no upgrade',
  );
  const taken = await repo.takeOverLock(ref, lock, request.issue, request.base);
  if (taken.kind === 'acquired') return { kind: 'acquired', tookOverFrom: lock };
  if (taken.kind === 'held') return { kind: 'held', issue: taken.issue };
  return taken;
}

async function isStale(holder: LockHolder, request: LockRequest): Promise<boolean> {
  const since = holder.since === null ? Number.NaN : Date.parse(holder.since);
  if (!Number.isFinite(since) || request.now.getTime() - since < LOCK_GRACE_MS) return false;
  if (holder.issue === null) return true;
  try {
    return !(await request.runsUpgrade(holder.issue));
  } catch (error) {
    if (error instanceof GitHubApiError && (error.status === 404 || error.status === 410)) return true; // the issue is gone
    throw error;
  }
}

/** The reply of a start that took a stale lock over. */
export function tookOverNote(messages: Messages, cluster: string, stale: LockHolder): string {
  const from = stale.issue === null ? messages.say('lock.stale-without-issue') : messages.say('lock.stale-issue', { issue: stale.issue });
  return messages.say('reply.lock-taken-over', { cluster, from, since: stale.since });
}

/**
 * Runs what must follow taking the lock (the label and the sticky comment). If it fails and the
 * issue shows no upgrade, the lock is given back and the commenter told (best effort), so a lock
 * never outlives a start that left no sticky comment; the error is rethrown.
 */
export async function givingLockBackOnFailure<T>(
  repo: ConfigRepo,
  request: Pick<LockRequest, 'cluster' | 'issue' | 'runsUpgrade'>,
  log: Logger,
  messages: Messages,
  run: () => Promise<T>,
  tell: (text: string) => Promise<void>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    let released = false;
    try {
      const holder = await repo.readLockHolder(lockRef(request.cluster));
      if (holder?.issue === request.issue && !(await request.runsUpgrade(request.issue))) {
        await repo.releaseLock(lockRef(request.cluster));
        released = true;
        log.warn({ issue: request.issue, cluster: request.cluster, err: error }, 'start failed after the lock was taken: lock released');
      }
    } catch (cleanup) {
      // A stale lock left here is taken over later (LOCK_GRACE_MS); the original error matters more.
      log.error({ issue: request.issue, cluster: request.cluster, err: cleanup }, 'could not give the cluster lock back');
    }
    if (released) {
      const why =
        error instanceof GitHubApiError
          ? messages.say('lock.why-github', {
              operation: error.operation,
              status: error.status || null,
              detail: summarizeGitHubMessage(error.detail),
            })
          : messages.say('lock.why-unexpected');
      await tell(messages.say('reply.lock-given-back', { why, cluster: request.cluster })).catch((failure: unknown) =>
        log.warn({ issue: request.issue, err: failure }, 'could not say that the lock was released'),
      );
    }
    throw error;
  }
}

/** `/upgrade abort` on an issue without an upgrade: frees the locks that still name it; returns their clusters. */
export async function releaseOrphanLocks(repo: ConfigRepo, issue: number, log: Logger): Promise<string[]> {
  const orphans = (await repo.listLocks(LOCK_PREFIX)).filter((lock) => lock.issue === issue);
  for (const lock of orphans) {
    await repo.releaseLock(lock.ref);
    log.warn({ issue, lock: lock.ref }, 'released a lock held by an issue without an upgrade');
  }
  return orphans.map((lock) => parseLockRef(lock.ref) ?? lock.ref);
}

/** The reply to that abort. */
export function orphanLocksNote(messages: Messages, clusters: readonly string[]): string {
  return messages.say('reply.abort-orphan-locks', { clusters: clusters.map((c) => `\`${c}\``).join(', ') });
}
