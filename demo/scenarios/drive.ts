import type { UpgradeState } from '../../src/core/state.js';
import type { DemoHarness } from '../harness.js';

/**
 * The simulated maintainer's moves, shared by every scenario: open the issue, merge each phase PR and
 * say `/upgrade continue` (manual gate), or let virtual time pass while Argo CD syncs (Argo CD gate).
 */

export const TARGET = 'asm-1140-0';

/** Virtual time the simulated maintainer takes to review and merge a phase PR, and to check the phase after its merge. */
const REVIEW_MS = 6 * 60_000;
const CHECK_MS = 4 * 60_000;

export interface ScenarioResult {
  /** The issue that holds the upgrade, for the transcript's final state. */
  readonly trackingIssue: number | null;
  /** GitHub requests from each `/upgrade continue` (gate pass) to its phase PR being opened. */
  readonly requestsPerPhase: ReadonlyArray<{ phase: string; requests: number }>;
  /** Argo CD gate: virtual ms from the gate's conditions holding to the next PR being opened. */
  readonly gateLatencies?: ReadonlyArray<{ phase: string; ms: number }>;
  /** Why the simulated maintainer stopped while the upgrade still ran (the bot no longer moved). */
  readonly stopped?: string;
}

export type Scenario = (h: DemoHarness) => Promise<ScenarioResult>;

interface DriveOptions {
  /** Deliver every event this many times (a redelivery keeps the delivery id). */
  readonly deliveries?: number;
  /** Stop once this phase has passed. */
  readonly stopAfter?: string;
  /** Replace the app instance before every event. */
  readonly restartBetweenEvents?: boolean;
  /**
   * Stop as soon as a `/upgrade continue` changes nothing (no new PR, no phase or upgrade status
   * moved): the bot waits for something the simulated maintainer does not do, such as manual
   * steps that must commit files. `stopped` says why the drive ended early.
   */
  readonly untilStuck?: boolean;
  /** Most maintainer steps (a merge and a `/upgrade continue` each). @default 40 */
  readonly maxSteps?: number;
}

interface Drive {
  readonly requestsPerPhase: ScenarioResult['requestsPerPhase'];
  /** Why the drive stopped while the upgrade was still running (only with `untilStuck`). */
  readonly stopped?: string;
}

/**
 * Plays the maintainer: merge each phase PR, check, say `/upgrade continue`; for a manual-only
 * phase, say `/upgrade continue` (whatever its steps are, nothing is committed for them). Stops
 * when the upgrade leaves `running` (with `untilStuck`, also when it stops moving).
 */
export async function driveToCompletion(
  h: DemoHarness,
  issue: number,
  options: DriveOptions = {},
): Promise<ScenarioResult['requestsPerPhase']> {
  return (await drive(h, issue, options)).requestsPerPhase;
}

export async function drive(h: DemoHarness, issue: number, options: DriveOptions = {}): Promise<Drive> {
  const times = options.deliveries ?? 1;
  const maxSteps = options.maxSteps ?? 40;
  const perPhase: Array<{ phase: string; requests: number }> = [];
  for (let step = 0; step < maxSteps; step++) {
    const state = h.state(issue);
    if (state?.status !== 'running') break;
    const phase = current(state);
    if (!phase) break;
    if (options.stopAfter && state.phases.some((p) => p.id === options.stopAfter && p.status === 'passed')) break;
    if (options.restartBetweenEvents) h.restart();
    if (phase.status === 'open' && phase.pr !== null) {
      h.printPullRequest(phase.pr);
      // The maintainer reviews, merges, then checks the cluster: time passes (the summary's durations show it).
      await h.jump(REVIEW_MS);
      await h.merge(phase.pr, 'alice', times);
      await h.jump(CHECK_MS);
      h.printSticky(issue);
      if (options.restartBetweenEvents) h.restart();
    }
    const before = options.untilStuck ? progress(h, issue) : '';
    const requestsBefore = h.sim.requests.length;
    await h.comment('alice', issue, '/upgrade continue', times);
    const next = h.state(issue);
    const opened = next ? current(next) : undefined;
    const requests = h.sim.requests.slice(requestsBefore);
    const prCreated = requests.findIndex((r) => r.method === 'POST' && /\/pulls$/.test(r.path));
    if (opened && prCreated >= 0) {
      // From the gate pass (the state read after the permission check) to the PR and its labels and comment.
      const gatePass = requests.findIndex((r) => r.method === 'GET' && /\/issues\/\d+\/comments$/.test(r.path));
      const after = requests
        .slice(gatePass + 1)
        .filter((_request, i, all) => i <= all.findIndex((x) => x.method === 'PATCH' && /\/issues\/comments\/\d+$/.test(x.path)));
      perPhase.push({ phase: opened.id, requests: after.length });
    }
    h.printSticky(issue);
    if (options.untilStuck && progress(h, issue) === before) {
      // The bot may have scheduled a check for later (the grace period before cleanup): let virtual time pass to it, once.
      const due = h.scheduler.nextAt();
      if (due !== null) {
        h.print(`\n⏳ the bot checks again at ${new Date(due).toISOString()}; virtual time passes until then`);
        await h.jump(Math.max(0, due - h.clock.now().getTime()));
        h.printSticky(issue);
        if (progress(h, issue) !== before) continue;
      }
      return {
        requestsPerPhase: perPhase,
        stopped: `no progress after \`/upgrade continue\` at ${current(h.state(issue) ?? state)?.id ?? phase.id} (the bot waits for something the simulated maintainer does not do)`,
      };
    }
  }
  const last = h.state(issue);
  if (options.untilStuck && last?.status === 'running' && current(last))
    return { requestsPerPhase: perPhase, stopped: `after ${maxSteps} maintainer steps, the upgrade still running` };
  return { requestsPerPhase: perPhase };
}

/** What counts as the upgrade moving: the upgrade's status, each phase's status and PR, and how many PRs exist. */
function progress(h: DemoHarness, issue: number): string {
  const state = h.state(issue);
  return JSON.stringify([
    state?.status ?? null,
    state?.phases.map((p) => [p.id, p.status, p.pr]) ?? [],
    h.sim.pullRequests().map((p) => [p.number, p.state, p.merged_at]),
  ]);
}

function current(state: UpgradeState) {
  return state.phases.find((p) => p.status !== 'passed' && p.status !== 'done');
}

export async function start(h: DemoHarness, login: string, times = 1): Promise<number> {
  const issue = h.openIssue(login, `Upgrade ASM to ${TARGET}`);
  await h.comment(login, issue, `/upgrade ${TARGET}`, times);
  h.printSticky(issue);
  return issue;
}

const STABILITY_WINDOW_MS = 60_000;

/**
 * Plays the maintainer with the Argo CD gate: merge each phase PR, then let virtual time pass
 * while Argo CD syncs and the bot polls (or hears Argo CD Notifications) until the next PR opens,
 * the upgrade pauses, or it completes.
 */
export async function driveWithArgo(h: DemoHarness, issue: number): Promise<NonNullable<ScenarioResult['gateLatencies']>> {
  const latencies: Array<{ phase: string; ms: number }> = [];
  for (let step = 0; step < 40; step++) {
    const state = h.state(issue);
    if (state?.status !== 'running') break;
    const phase = current(state);
    if (!phase) break;
    if (phase.status === 'open' && phase.pr !== null) {
      h.printPullRequest(phase.pr);
      await h.merge(phase.pr);
    } else if (phase.status === 'open') {
      await h.comment('alice', issue, '/upgrade continue');
      continue;
    }
    const prs = h.sim.pullRequests().length;
    let healthyAt: number | null = null;
    let lastNote = phase.note ?? '';
    let lastStatus: string = phase.status;
    for (let waited = 0; waited < 45 * 60_000; waited += 1000) {
      await h.advance(1000, { observe: false });
      healthyAt ??= h.argo?.healthySince() ?? null;
      const now = h.state(issue);
      const record = now?.phases.find((p) => p.id === phase.id);
      const note = record?.note ?? '';
      // A note that comes with a status change is the story's 🚦 line; the ⏱ lines are the notes in between.
      if (note !== lastNote && record?.status === lastStatus) h.print(`   ⏱ +${Math.round(waited / 1000)}s ${phase.id}: ${note}`);
      lastNote = note;
      lastStatus = record?.status ?? lastStatus;
      h.story.observe();
      if (now?.status !== 'running') break;
      if (h.sim.pullRequests().length > prs || current(now)?.id !== phase.id) {
        const opened = current(now);
        if (healthyAt !== null && opened)
          latencies.push({ phase: opened.id, ms: h.clock.now().getTime() - (healthyAt + STABILITY_WINDOW_MS) });
        break;
      }
    }
    h.printSticky(issue);
  }
  const final = h.state(issue);
  if (final?.status === 'paused') {
    for (const c of h.sim.comments(issue))
      if (c.user?.type === 'Bot' && (c.body ?? '').includes('did not become healthy')) h.print(`\n🤖 ${c.body}`);
  }
  return latencies;
}

/** A bot reply as a person reads it (hidden markers left out). */
export function replyText(body: string | null | undefined): string {
  return (body ?? '').replace(/<!--[\s\S]*?-->/g, '').trim();
}
