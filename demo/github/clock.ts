/** GitHub timestamps have second precision: `2024-01-01T00:00:00Z`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const DEFAULT_START = new Date('2024-01-01T00:00:00Z');

/**
 * Time as the simulator sees it. With an injected `now` every stamp asks it; without, time starts
 * at a fixed instant and each write moves it one second on, so ordering by timestamp is stable
 * and runs are reproducible.
 */
export class SimClock {
  private elapsedSeconds = 0;

  constructor(private readonly now?: () => Date) {}

  /** The time of a write (advances the default clock). */
  stamp(): string {
    if (this.now) return isoSeconds(this.now());
    this.elapsedSeconds++;
    return this.peek();
  }

  /** The current time, without advancing. */
  peek(): string {
    if (this.now) return isoSeconds(this.now());
    return isoSeconds(new Date(DEFAULT_START.getTime() + this.elapsedSeconds * 1000));
  }
}
