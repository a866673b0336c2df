import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The bot's Prometheus metrics. One registry per process; several replicas each expose theirs
 * (scrape them all; the counters add up).
 */
export class BotMetrics {
  readonly registry = new Registry();

  readonly upgrades = new Counter({
    name: 'mesh_upgrade_upgrades_total',
    help: 'Upgrades reaching a state (running, paused, completed, aborted, refused, rolled-back).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly phaseSeconds = new Histogram({
    name: 'mesh_upgrade_phase_duration_seconds',
    help: 'From a phase PR being merged to its gate passing.',
    labelNames: ['phase', 'gate'] as const,
    buckets: [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
    registers: [this.registry],
  });

  readonly gateDecisions = new Counter({
    name: 'mesh_upgrade_gate_decisions_total',
    help: 'Health gate decisions (pass, wait, fail).',
    labelNames: ['gate', 'decision'] as const,
    registers: [this.registry],
  });

  readonly githubRequests = new Counter({
    name: 'mesh_upgrade_github_requests_total',
    help: 'GitHub API calls by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly argocdRequests = new Counter({
    name: 'mesh_upgrade_argocd_requests_total',
    help: 'Argo CD API calls by outcome (ok, or the HTTP status / unreachable).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Metrics shared by the whole process (the adapters and the workflow report into it). */
export const metrics = new BotMetrics();
