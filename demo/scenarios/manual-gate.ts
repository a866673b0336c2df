import type { DemoHarness } from '../harness.js';
import { driveToCompletion, type Scenario, type ScenarioResult, start, TARGET } from './drive.js';

/** Scenarios with the manual gate on examples/cluster-config: a maintainer merges and continues each phase. */
export const MANUAL_GATE_SCENARIOS: Record<string, Scenario> = {
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
};

/** Two issues ask to upgrade the same cluster at the same moment: one wins, the other is told where. */
export async function concurrent(h: DemoHarness): Promise<ScenarioResult> {
  const first = h.openIssue('alice', `Upgrade ASM to ${TARGET}`);
  const second = h.openIssue('carol', `Mesh upgrade ${TARGET} (duplicate)`);
  await Promise.all([h.comment('alice', first, `/upgrade ${TARGET}`), h.comment('carol', second, `/upgrade ${TARGET}`)]);
  const winner = h.state(first)?.status === 'running' ? first : second;
  const loser = winner === first ? second : first;
  for (const c of h.sim.comments(loser)) if (c.user?.type === 'Bot') h.print(`\n🤖 on #${loser}: ${c.body}`);
  h.printSticky(winner);
  const requestsPerPhase = await driveToCompletion(h, winner);
  return { trackingIssue: winner, requestsPerPhase };
}
