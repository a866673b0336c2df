import { describe, expect, it } from 'vitest';
import { evaluateManualGate, type GateQuestion, type HealthGate, knownFacts, manualGate, pollDelay, polling } from '../../src/core/gate.js';

const merged = new Date('2026-11-22T10:00:00Z');
const question = (over: Partial<GateQuestion> = {}): GateQuestion => ({
  cluster: 'prod',
  phase: 'gateways',
  mergeSha: 'x',
  continued: false,
  now: merged,
  mergedAt: merged,
  healthySince: null,
  wasHealthy: false,
  facts: knownFacts([]),
  ...over,
});
const timing = { pollMs: 10_000, maxPollMs: 60_000, stabilityWindowMs: 60_000 };
const at = (minutes: number) => new Date(merged.getTime() + minutes * 60_000);

describe('gates', () => {
  it('the manual gate passes on /upgrade continue and asks for no facts', async () => {
    const facts = { applications: () => Promise.reject(new Error('asked')), expectations: () => Promise.reject(new Error('asked')) };
    expect((await manualGate.evaluate(question({ facts }))).decision.status).toBe('wait');
    expect(evaluateManualGate(question({ continued: true, facts })).decision).toEqual({
      status: 'pass',
      summary: 'a maintainer confirmed the phase with /upgrade continue',
    });
    expect((await manualGate.evaluate(question())).retryAfterMs).toBeUndefined();
  });

  it.each([
    [0, null, 10_000],
    [5, null, 20_000],
    [10, null, 40_000],
    [30, null, 60_000],
    [30, at(29.5), 30_000],
    [30, at(28), 0],
  ])('polls again %s min after the merge (healthy since %s) after %i ms', (minutes, since, delay) => {
    expect(pollDelay(timing, { now: at(minutes), mergedAt: merged }, since)).toBe(delay);
  });

  it('a polling gate says when to ask again only while it waits', async () => {
    const waiting: HealthGate = {
      name: 'w',
      metricLabel: 'argocd',
      evaluate: async () => ({ decision: { status: 'wait', reason: 'r' }, healthySince: null, wasHealthy: false }),
    };
    const passing: HealthGate = {
      ...waiting,
      evaluate: async () => ({ decision: { status: 'pass', summary: 's' }, healthySince: null, wasHealthy: true }),
    };
    expect((await polling(waiting, timing).evaluate(question({ now: at(5) }))).retryAfterMs).toBe(20_000);
    expect((await polling(passing, timing).evaluate(question())).retryAfterMs).toBeUndefined();
    expect(polling(waiting, timing)).toMatchObject({ name: 'w', metricLabel: 'argocd' });
  });
});
