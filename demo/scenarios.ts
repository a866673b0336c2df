import { join } from 'node:path';
import { readLocalRepo } from '../src/adapters/fs/local-repo.js';
import { isStateComment } from '../src/core/markers.js';
import type { UpgradeState } from '../src/core/state.js';
import type { RepoSnapshot } from '../src/model/snapshot.js';
import type { ArgoScenario } from './argocd/simulator.js';
import type { DemoHarness } from './harness.js';
import { projectRoot } from './paths.js';
import { preparedControlPlane } from './prepared-render.js';

export const TARGET = 'asm-1140-0';

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
async function driveToCompletion(h: DemoHarness, issue: number, options: DriveOptions = {}): Promise<ScenarioResult['requestsPerPhase']> {
  return (await drive(h, issue, options)).requestsPerPhase;
}

async function drive(h: DemoHarness, issue: number, options: DriveOptions = {}): Promise<Drive> {
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
      await h.merge(phase.pr, 'alice', times);
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

async function start(h: DemoHarness, login: string, times = 1): Promise<number> {
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
async function driveWithArgo(h: DemoHarness, issue: number): Promise<NonNullable<ScenarioResult['gateLatencies']>> {
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
    let lastNote = '';
    for (let waited = 0; waited < 45 * 60_000; waited += 1000) {
      await h.advance(1000);
      healthyAt ??= h.argo?.healthySince() ?? null;
      const now = h.state(issue);
      const note = now?.phases.find((p) => p.id === phase.id)?.note ?? '';
      if (note !== lastNote) {
        h.print(`   ⏱ +${Math.round(waited / 1000)}s ${phase.id}: ${note}`);
        lastNote = note;
      }
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

/** The first canary's target: the fixture runs a non-revisioned Istio 1.21.2. */
export const FIRST_CANARY_TARGET = '1-22-1';
const FIRST_CANARY_VERSION = '1.22.1';

/**
 * Scenarios that start from another repo than examples/cluster-config: its directory (from the
 * project root) and the `.github/mesh-upgrade.yml` the demo adds to its copy.
 */
export const SCENARIO_REPOS: Record<string, { readonly dir: string; readonly config: string }> = {
  'first-canary': {
    dir: 'test/fixtures/rendered-nonrevisioned',
    // The whole repo: the IstioOperator overlay the render comes from lives in render/, beside clusters/.
    config: 'clusters:\n  - name: prod\n    path: .\ngate: manual\n',
  },
};

/** The files a scenario of SCENARIO_REPOS starts from (its config included); null for examples/cluster-config. */
export async function scenarioRepo(name: string): Promise<RepoSnapshot | null> {
  const source = SCENARIO_REPOS[name];
  if (!source) return null;
  const files = new Map(await readLocalRepo(join(projectRoot(), ...source.dir.split('/'))));
  files.set('.github/mesh-upgrade.yml', source.config);
  return files;
}

export const SCENARIOS: Record<string, Scenario> = {
  /** The whole canary upgrade, one reviewed PR per phase, a maintainer gating each merge. */
  async happy(h) {
    const issue = await start(h, 'alice');
    const requestsPerPhase = await driveToCompletion(h, issue);
    return { trackingIssue: issue, requestsPerPhase };
  },

  /** Someone with read access asks: a visible refusal, nothing changes. */
  async unauthorized(h) {
    const issue = h.openIssue('bob', `Upgrade ASM to ${TARGET}`);
    await h.comment('bob', issue, `/upgrade ${TARGET}`);
    for (const c of h.sim.comments(issue)) if (c.user?.type === 'Bot') h.print(`\n🤖 ${c.body}`);
    return { trackingIssue: issue, requestsPerPhase: [] };
  },

  /** Every webhook arrives twice (GitHub redelivery), and the command is also posted twice. */
  async 'duplicate-delivery'(h) {
    const issue = await start(h, 'alice', 2);
    await h.comment('alice', issue, `/upgrade ${TARGET}`, 2);
    const requestsPerPhase = await driveToCompletion(h, issue, { deliveries: 2 });
    return { trackingIssue: issue, requestsPerPhase };
  },

  /** A fresh app instance handles every event: nothing but GitHub carries the upgrade. */
  async restart(h) {
    const issue = await start(h, 'alice');
    const requestsPerPhase = await driveToCompletion(h, issue, { restartBetweenEvents: true });
    return { trackingIssue: issue, requestsPerPhase };
  },

  /** After the first workloads wave, the maintainer asks for a rollback: every merged phase is undone by reviewed PRs. */
  async rollback(h) {
    const issue = await start(h, 'alice');
    await driveToCompletion(h, issue, { stopAfter: 'workloads-1' });
    await h.comment('alice', issue, '/upgrade rollback');
    h.printSticky(issue);
    const requestsPerPhase = await driveToCompletion(h, issue);
    return { trackingIssue: issue, requestsPerPhase };
  },

  /** Going back to an older release as a canary, with the policy checks of a downgrade. */
  async downgrade(h) {
    const issue = h.openIssue('alice', 'Downgrade ASM to asm-1120-0');
    await h.comment('alice', issue, '/upgrade asm-1120-0');
    await h.comment('alice', issue, '/upgrade asm-1120-0 --downgrade');
    h.printSticky(issue);
    const requestsPerPhase = await driveToCompletion(h, issue);
    return { trackingIssue: issue, requestsPerPhase };
  },

  /** A repo with enough pods for several waves (budget 4): canary first, then waves within the budget. */
  async waves(h) {
    const config = h.sim.filesAt('main').get('.github/mesh-upgrade.yml') ?? '';
    const extra: Record<string, string> = { '.github/mesh-upgrade.yml': config.replace(/^podBudget: \d+/m, 'podBudget: 4') };
    for (const [team, replicas] of [
      ['billing', 3],
      ['ledger', 2],
      ['reports', 4],
      ['notify', 1],
    ] as const) {
      extra[`clusters/prod/apps/${team}/namespace.yaml`] =
        `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${team}\n  labels:\n    istio.io/rev: asm-1130-0\n`;
      extra[`clusters/prod/apps/${team}/deployment.yaml`] =
        `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${team}-api\n  namespace: ${team}\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels: {app: ${team}-api}\n  template:\n    metadata:\n      labels: {app: ${team}-api}\n    spec:\n      containers:\n      - name: api\n        image: ghcr.io/example-org/${team}-api:1.0.0\n`;
    }
    h.sim.pushCommit('main', extra, 'More teams on the mesh', 'alice');
    const issue = await start(h, 'alice');
    const requestsPerPhase = await driveToCompletion(h, issue);
    return { trackingIssue: issue, requestsPerPhase };
  },

  /** The old istiod is scaled to zero first (reversible), and deleted only after the 24 h grace period. */
  async 'scale-then-delete'(h) {
    const config = h.sim.filesAt('main').get('.github/mesh-upgrade.yml') ?? '';
    h.sim.pushCommit(
      'main',
      { '.github/mesh-upgrade.yml': `${config}cleanupMode: scale-then-delete\nscaleDownGraceHours: 24\n` },
      'Scale the old control plane down before deleting it',
      'alice',
    );
    const issue = await start(h, 'alice');
    await driveToCompletion(h, issue, { stopAfter: 'scale-down' });
    h.print(`\n⏳ cleanup waits: ${h.state(issue)?.phases.find((p) => p.id === 'cleanup')?.note ?? ''}`);
    await h.jump(24 * 3_600_000);
    const requestsPerPhase = await driveToCompletion(h, issue);
    return { trackingIssue: issue, requestsPerPhase };
  },

  /** The happy path gated by Argo CD: each merge is synced, becomes healthy, holds, then the next PR opens. */
  async 'argocd-healthy'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** The gateways phase goes Degraded after a healthy moment: the upgrade pauses and names the resource. */
  async degraded(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** Right after each sync Argo CD still shows the old health (stale reconciledAt): the gate must not pass on it. */
  async 'stale-status'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** Argo CD is unreachable for a while: the upgrade waits and says so, then carries on. */
  async 'argocd-down'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** The application has two sources, the istio chart first and this repo second: the gate follows this repo's revision. */
  async 'multi-source'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** The gateway Deployment was paused: after the gateways phase it stays Suspended, and the upgrade pauses at once saying so. */
  async suspended(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /** An admission policy rejects the new IstioOperator: the sync fails, and the upgrade pauses naming Argo CD's SyncError. */
  async 'sync-error'(h) {
    const issue = await start(h, 'alice');
    const gateLatencies = await driveWithArgo(h, issue);
    return { trackingIssue: issue, requestsPerPhase: [], gateLatencies };
  },

  /**
   * The first canary of a non-revisioned mesh (test/fixtures/rendered-nonrevisioned: `istioctl manifest
   * generate` output without a revision, namespaces on istio-injection=enabled). The control plane is a
   * manual phase whose result is files: `/upgrade continue` before they are committed is refused with
   * what is missing; the maintainer commits a prepared render (the simulation cannot run istioctl),
   * then merges each phase PR.
   */
  async 'first-canary'(h) {
    const issue = h.openIssue('alice', `First canary: Istio ${FIRST_CANARY_TARGET} beside the non-revisioned control plane`);
    await h.comment('alice', issue, `/upgrade ${FIRST_CANARY_TARGET}`);
    h.printSticky(issue);
    await h.comment('alice', issue, '/upgrade continue');
    const reply = h.sim.comments(issue).at(-1);
    if (reply?.user?.type === 'Bot' && !isStateComment(reply.body ?? '')) h.print(`\n🤖 ${replyText(reply.body)}`);
    const files = preparedControlPlane(h.sim.filesAt('main'), FIRST_CANARY_TARGET, FIRST_CANARY_VERSION);
    h.print(
      `\n👩 @alice runs the control-plane phase's istioctl command and commits its output: ${Object.keys(files).join(', ')} (a prepared render in this demo)`,
    );
    h.sim.pushCommit(
      'main',
      files,
      `Render istiod ${FIRST_CANARY_TARGET} (istioctl ${FIRST_CANARY_VERSION} manifest generate --set revision=${FIRST_CANARY_TARGET})`,
      'alice',
    );
    const requestsPerPhase = await driveToCompletion(h, issue);
    return { trackingIssue: issue, requestsPerPhase };
  },

  /** Two issues ask to upgrade the same cluster at the same moment: one wins, the other is told where. */
  async concurrent(h) {
    const first = h.openIssue('alice', `Upgrade ASM to ${TARGET}`);
    const second = h.openIssue('carol', `Mesh upgrade ${TARGET} (duplicate)`);
    await Promise.all([h.comment('alice', first, `/upgrade ${TARGET}`), h.comment('carol', second, `/upgrade ${TARGET}`)]);
    const winner = h.state(first)?.status === 'running' ? first : second;
    const loser = winner === first ? second : first;
    for (const c of h.sim.comments(loser)) if (c.user?.type === 'Bot') h.print(`\n🤖 on #${loser}: ${c.body}`);
    h.printSticky(winner);
    const requestsPerPhase = await driveToCompletion(h, winner);
    return { trackingIssue: winner, requestsPerPhase };
  },
};

/** What the simulated maintainer asks for on a repo of one's own: `/upgrade REVISION [--version V]`. */
export interface UpgradeRequest {
  readonly revision: string;
  readonly version?: string;
}

/** Most maintainer steps on a repo of one's own (a phase PR costs one; waves can make many). */
export const ANY_REPO_MAX_STEPS = 200;

/**
 * Scenarios that make sense on any config repo (`npm run demo -- --repo DIR --to REVISION`). The
 * maintainer does only what the manual gate asks of a person — merge, `/upgrade continue` — and
 * never the manual steps that must commit files (a rendered control plane): the drive ends when
 * the bot stops moving, and `stopped` says where.
 */
export const ANY_REPO_SCENARIOS: Record<string, (request: UpgradeRequest) => Scenario> = {
  /** The whole canary upgrade of the given repo, one reviewed PR per phase, merged and continued. */
  happy: (request) => async (h) => {
    const issue = h.openIssue('alice', `Upgrade the service mesh to ${request.revision}`);
    await h.comment('alice', issue, upgradeCommand(request));
    h.printSticky(issue);
    for (const c of h.sim.comments(issue))
      if (c.user?.type === 'Bot' && !isStateComment(c.body ?? '')) h.print(`\n🤖 ${replyText(c.body)}`);
    const { requestsPerPhase, stopped } = await drive(h, issue, { untilStuck: true, maxSteps: ANY_REPO_MAX_STEPS });
    // The bot's answer to the last command, when it is more than the plan comment (why it did not move).
    const last = h.sim.comments(issue).at(-1);
    if (stopped && last?.user?.type === 'Bot' && !isStateComment(last.body ?? '')) h.print(`\n🤖 ${replyText(last.body)}`);
    return { trackingIssue: issue, requestsPerPhase, ...(stopped ? { stopped } : {}) };
  },
};

/** A bot reply as a person reads it (hidden markers left out). */
function replyText(body: string | null | undefined): string {
  return (body ?? '').replace(/<!--[\s\S]*?-->/g, '').trim();
}

export function upgradeCommand(request: UpgradeRequest): string {
  return `/upgrade ${request.revision}${request.version ? ` --version ${request.version}` : ''}`;
}

/** The simulated Argo CD each scenario runs against (none: the manual gate). */
export const ARGO_SCENARIOS: Record<string, ArgoScenario> = {
  'argocd-healthy': { notifications: true },
  degraded: { degradeGatewayOn: TARGET },
  'stale-status': { staleMs: 20_000 },
  'argocd-down': { downBetween: [30_000, 4 * 60_000] },
  'multi-source': {
    multiSource: { configRepoURL: 'git@github.com:Example-Org/cluster-config.git' },
    conditions: [
      {
        type: 'RepeatedResourceWarning',
        message: 'Resource /ServiceAccount/istio-system/istio-reader-service-account appeared 2 times among application resources.',
      },
    ],
  },
  suspended: { suspendGatewayOn: TARGET },
  'sync-error': { syncErrorOn: TARGET },
};
