import type { GateScheduler } from './context.js';
import type { Logger } from './logger.js';

/**
 * The longest delay a Node timer takes (2^31-1 ms, about 24.8 days). A longer one overflows and
 * fires after 1 ms, which for a re-check that schedules itself again becomes a request storm.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * In-process timers, one per key (a newer schedule replaces an older one). A delay beyond
 * MAX_TIMER_MS is waited out in steps: the timer is set for at most MAX_TIMER_MS and set again for
 * what is left, and the check runs only when the whole delay has passed.
 */
export class TimerScheduler implements GateScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  schedule(key: string, delayMs: number, run: () => Promise<void>): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (Number.isNaN(delayMs)) {
      // Nothing sensible to wait for; the periodic reconcile looks at the upgrade again.
      this.log.warn({ key }, 'gate check not scheduled: the delay is not a number');
      return;
    }
    this.arm(key, this.clock() + Math.max(0, delayMs), run);
  }

  private arm(key: string, dueAt: number, run: () => Promise<void>): void {
    const wait = Math.min(Math.max(0, dueAt - this.clock()), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      if (this.clock() < dueAt) {
        this.arm(key, dueAt, run);
        return;
      }
      run().catch((error: unknown) => this.log.error({ key, err: error }, 'scheduled gate check failed'));
    }, wait);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Keys with a timer set (for tests and diagnostics). */
  get pending(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
