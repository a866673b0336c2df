import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, TimerScheduler } from '../../src/workflow/timer-scheduler.js';
import { silentLogger } from '../helpers/silent-logger.js';

describe('TimerScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out a delay beyond 2^31-1 ms in steps, never handing Node a longer timer, and runs once at the end', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const scheduler = new TimerScheduler(silentLogger);
    const run = vi.fn(async () => undefined);
    const delay = 720 * 3_600_000; // scaleDownGraceHours: 720, above Node's ~596 h
    scheduler.schedule('acme/config#1', delay, run);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(delay - MAX_TIMER_MS - 1);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    const delays = setTimeoutSpy.mock.calls.map((call) => call[1] as number);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(delays).toHaveLength(2);
    expect(scheduler.pending).toBe(0);
  });

  it('an infinite delay never runs and never spins; NaN is not scheduled; a newer schedule replaces an older one', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const scheduler = new TimerScheduler(silentLogger);
    const never = vi.fn(async () => undefined);
    scheduler.schedule('a', Number.POSITIVE_INFINITY, never);
    await vi.advanceTimersByTimeAsync(3 * MAX_TIMER_MS);
    expect(never).not.toHaveBeenCalled();
    expect(setTimeoutSpy.mock.calls.length).toBeLessThanOrEqual(4);
    scheduler.schedule('b', Number.NaN, never);
    expect(scheduler.pending).toBe(1);
    const first = vi.fn(async () => undefined);
    const second = vi.fn(async () => undefined);
    scheduler.schedule('c', 1000, first);
    scheduler.schedule('c', 2000, second);
    await vi.advanceTimersByTimeAsync(2000);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
    scheduler.stop();
    expect(scheduler.pending).toBe(0);
  });
});
