import { describe, expect, it } from 'vitest';
import { ConfigError, DURATION_LIMITS, parseRepoConfig } from '../../src/config/repo-config.js';

describe('repo config limits', () => {
  it.each([
    ['scaleDownGraceHours: 1e12\n', '`scaleDownGraceHours`: must be between 0 and 720 hours (30 days)'],
    ['scaleDownGraceHours: 721\n', '`scaleDownGraceHours`: must be between 0 and 720 hours (30 days)'],
    ['scaleDownGraceHours: -1\n', '`scaleDownGraceHours`'],
    ['scaleDownGraceHours: .inf\n', '`scaleDownGraceHours`'],
    ['gateTiming: {pollSeconds: 0.001}\n', '`gateTiming.pollSeconds`: must be between 1 and 600 seconds'],
    ['gateTiming: {maxPollSeconds: 86400}\n', '`gateTiming.maxPollSeconds`: must be between 1 and 3600 seconds'],
    ['gateTiming: {phaseTimeoutMinutes: 100000}\n', '`gateTiming.phaseTimeoutMinutes`: must be between 1 and 1440 minutes (24 hours)'],
    ['gateTiming: {stabilityWindowSeconds: 1e9}\n', '`gateTiming.stabilityWindowSeconds`: must be between 0 and 3600 seconds'],
    ['canary: [Search]\n', '`canary.0`: a canary namespace is a namespace name'],
    [`canary: [${Array.from({ length: 51 }, (_, i) => `ns${i}`).join(', ')}]\n`, '`canary`: at most 50 canary namespaces'],
    ['clusters:\n  - name: prod\n    canary: [a_b]\n', '`clusters.0.canary.0`'],
    [`clusters:\n  - name: ${'a'.repeat(64)}\n`, 'at most 63 characters'],
  ])('refuses %j naming the key and the limit', (text, message) => {
    expect(() => parseRepoConfig(text)).toThrow(ConfigError);
    expect(() => parseRepoConfig(text)).toThrow(message);
  });

  it('takes every limit itself', () => {
    const config = parseRepoConfig(
      `scaleDownGraceHours: ${DURATION_LIMITS.scaleDownGraceHours.max}\ngateTiming: {stabilityWindowSeconds: 3600, phaseTimeoutMinutes: 1440, pollSeconds: 1, maxPollSeconds: 3600}\ncanary: [${Array.from({ length: 50 }, (_, i) => `ns-${i}`).join(', ')}]\n`,
    );
    expect(config.scaleDownGraceHours).toBe(720);
    expect(config.canary).toHaveLength(50);
  });
});
