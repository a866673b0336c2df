import type { GateScheduler } from './upgrade-workflow.js';
import type { Logger } from './logger.js';

/** In-process timers, one per key (a newer schedule replaces an older one). */
export class TimerScheduler implements GateScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly log: Logger) {}

  schedule(key: string, delayMs: number, run: () => Promise<void>): void {
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      run().catch((error: unknown) => this.log.error({ key, err: error }, 'scheduled gate check failed'));
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
