/**
 * `npm run bench:webhooks`: replays 10,000 webhook deliveries against the real app (Probot,
 * signature check, handlers, workflow) backed by the GitHub simulator, in the mix a busy
 * cluster-config repo sends: per 100 deliveries, 80 comments on other issues, 10 pending/failed CI
 * statuses, 5 successful CI statuses on main (each makes the app look for a waiting gate), 3 review
 * comments, 2 `/upgrade status` commands on a running upgrade. Prints throughput and latency; the
 * last line is one JSON object.
 */
import { performance } from 'node:perf_hooks';
import { DemoHarness } from '../../demo/harness.js';

const DELIVERIES = Number(process.env.DELIVERIES ?? 10_000);
const CONCURRENCY = 16;

async function main(): Promise<void> {
  // Requests are still validated against the OpenAPI description; the simulator's self-check of its
  // own answers is off, since it measures the simulator rather than the app.
  const h = await DemoHarness.create({ validateResponses: false });
  const tracking = h.openIssue('alice', 'Upgrade ASM');
  await h.comment('alice', tracking, '/upgrade asm-1140-0');
  const chatter = Array.from({ length: 20 }, (_, i) => h.openIssue('carol', `Question ${i}`));
  const app = await h.app();

  // Build the payloads first (the simulator records the comments), then time the deliveries only.
  const events: Array<{ name: string; payload: unknown }> = [];
  const main = h.sim.branches().get('main')!;
  for (let i = 0; i < DELIVERIES; i++) {
    const kind = i % 100;
    if (kind < 80)
      events.push({
        name: 'issue_comment',
        payload: h.sim.commentAs('carol', chatter[i % chatter.length]!, `Looks good to me (${i})`).payload,
      });
    else if (kind < 90)
      events.push({ name: 'status', payload: h.sim.setStatus(main, i % 2 ? 'pending' : 'failure', `ci/build-${i % 3}`, 'build') });
    else if (kind < 95) events.push({ name: 'status', payload: h.sim.setStatus(main, 'success', `ci/build-${i % 3}`, 'build') });
    else if (kind < 98)
      events.push({ name: 'issue_comment', payload: h.sim.commentAs('bob', chatter[i % chatter.length]!, 'LGTM, ship it').payload });
    else events.push({ name: 'issue_comment', payload: h.sim.commentAs('alice', tracking, '/upgrade status').payload });
  }
  h.sim.resetRequestLog();

  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  async function worker(): Promise<void> {
    while (next < events.length) {
      const event = events[next++]!;
      const t0 = performance.now();
      await h.sim.deliver(app.webhooks, event.name, event.payload);
      latencies.push(performance.now() - t0);
      if (latencies.length % 1000 === 0) h.sim.resetRequestLog();
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;

  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  const peakRssMb = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
  const rate = Math.round((latencies.length / seconds) * 10) / 10;
  console.log(`${latencies.length} deliveries in ${seconds.toFixed(1)} s with ${CONCURRENCY} in flight: ${rate}/s`);
  console.log(
    `latency p50 ${p(0.5).toFixed(1)} ms, p90 ${p(0.9).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms; peak RSS ${peakRssMb} MB`,
  );
  console.log(
    `the upgrade is still ${h.state(tracking)?.status}; ${h.sim.pullRequests().length} pull request(s); simulator violations: ${h.sim.violations.length}`,
  );
  console.log(JSON.stringify({ deliveries: latencies.length, deliveriesPerSecond: rate, p99Ms: Math.round(p(0.99) * 10) / 10, peakRssMb }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
