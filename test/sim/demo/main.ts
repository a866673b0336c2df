import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DemoHarness } from './harness.js';
import { ARGO_SCENARIOS, SCENARIOS } from './scenarios.js';

/**
 * `npm run demo -- [--scenario NAME] [--transcript FILE]`: the real app against the simulated
 * GitHub over examples/cluster-config, printed as a user would see it.
 */
async function main(): Promise<number> {
  let values: { scenario?: string; transcript?: string; quiet?: boolean; help?: boolean };
  try {
    values = parseArgs({ options: { scenario: { type: 'string' }, transcript: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    return 2;
  }
  const names = Object.keys(SCENARIOS);
  if (values.help) {
    process.stdout.write(`Usage: npm run demo -- [--scenario ${names.join('|')}] [--transcript FILE] [--quiet]\n`);
    return 0;
  }
  const name = values.scenario ?? 'happy';
  const scenario = SCENARIOS[name];
  if (!scenario) {
    process.stderr.write(`demo: unknown scenario '${name}'; scenarios: ${names.join(', ')}\n`);
    return 2;
  }
  const print = values.quiet ? () => undefined : (text: string) => void process.stdout.write(`${text}\n`);
  const argocd = ARGO_SCENARIOS[name];
  const h = await DemoHarness.create({ print, ...(argocd ? { argocd } : {}) });
  print(`▶ scenario ${name}: examples/cluster-config on a simulated GitHub (example-org/cluster-config)`);
  const result = await scenario(h);
  const transcript = h.transcript(name, result.trackingIssue);
  print(`\n■ final: ${transcript.final.status}${transcript.final.phase ? ` at ${transcript.final.phase}` : ''}; ${transcript.pullRequests.length} pull request(s); ${transcript.githubRequests.length} GitHub requests`);
  for (const { phase, requests } of result.requestsPerPhase) print(`  ${phase}: ${requests} GitHub requests from gate pass to pull request opened`);
  for (const { phase, ms } of result.gateLatencies ?? []) print(`  ${phase}: opened ${(ms / 1000).toFixed(1)} s (virtual) after the gate's conditions held`);
  if (h.sim.violations.length > 0) {
    process.stderr.write(`demo: requests that break GitHub's OpenAPI description:\n${h.sim.violations.join('\n')}\n`);
    return 1;
  }
  if (values.transcript) writeFileSync(values.transcript, `${JSON.stringify(transcript, null, 2)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
