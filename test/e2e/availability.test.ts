import { describe, expect, it } from 'vitest';
import { MAX_BODY_CHARACTERS, REF_ANSWERS, type RecordedRequest } from '../../demo/github/simulator.js';
import { DemoHarness } from '../../demo/harness.js';
import { TARGET } from '../../demo/scenarios/drive.js';
import { LOCK_GRACE_MS } from '../../src/workflow/cluster-lock.js';
import { TimerScheduler } from '../../src/workflow/timer-scheduler.js';
import { silentLogger } from '../helpers/silent-logger.js';

/** GitHub issue 10, "Availability": timers, sizes, locks and GitHub's refusals, end to end. */

const LOCK = 'refs/mesh-upgrade/locks/prod';
const GATEWAYS_BRANCH = `mesh-upgrade/prod/${TARGET}/02-gateways`;

function botComments(h: DemoHarness, issue: number): string[] {
  return h.sim
    .comments(issue)
    .filter((c) => c.user?.login === h.sim.botLogin)
    .map((c) => c.body ?? '');
}

function replies(h: DemoHarness, issue: number): string[] {
  return botComments(h, issue).filter((b) => !b.includes('mesh-upgrade-state') && !b.includes('mesh-upgrade-handover'));
}

function lockHolder(h: DemoHarness): string | undefined {
  return h.sim.refs().get(LOCK);
}

function count(requests: readonly RecordedRequest[], method: string, pattern: RegExp): number {
  return requests.filter((r) => r.method === method && pattern.test(r.path)).length;
}

/** Tree, commit and ref writes among `requests`. */
function gitWrites(requests: readonly RecordedRequest[]) {
  return {
    trees: count(requests, 'POST', /\/git\/trees$/),
    commits: count(requests, 'POST', /\/git\/commits$/),
    refs: count(requests, 'POST', /\/git\/refs$/),
  };
}

async function withConfig(h: DemoHarness, extra: string): Promise<void> {
  const config = h.sim.filesAt('main').get('.github/mesh-upgrade.yml') ?? '';
  h.sim.pushCommit('main', { '.github/mesh-upgrade.yml': `${config}${extra}` }, 'config', 'alice');
}

/** Merges and continues until `phase` has passed (the maintainer's part of the upgrade). */
async function driveUntilPassed(h: DemoHarness, issue: number, phase: string): Promise<void> {
  for (let step = 0; step < 30; step++) {
    const state = h.state(issue)!;
    if (state.phases.some((p) => p.id === phase && p.status === 'passed')) return;
    const current = state.phases.find((p) => p.status !== 'passed' && p.status !== 'done')!;
    if (current.status === 'open' && current.pr !== null) await h.merge(current.pr);
    await h.comment('alice', issue, '/upgrade continue');
  }
  throw new Error(`${phase} did not pass`);
}

/** Upgrade started, control-plane PR merged: the next `/upgrade continue` opens the gateways PR. */
async function atGatewaysStep() {
  const h = await DemoHarness.create();
  const issue = h.openIssue('alice', 'Upgrade ASM');
  await h.comment('alice', issue, `/upgrade ${TARGET}`);
  await h.merge(2);
  return { h, issue };
}

describe('6. durations: bounded in the config, never more than a Node timer takes', () => {
  it('scaleDownGraceHours: 720 waits for cleanup with a timer Node can hold: idle means no GitHub request', async () => {
    const scheduler = new TimerScheduler(silentLogger);
    try {
      const h = await DemoHarness.create({ scheduler });
      await withConfig(h, 'cleanupMode: scale-then-delete\nscaleDownGraceHours: 720\n');
      const issue = h.openIssue('alice', 'Upgrade ASM');
      await h.comment('alice', issue, `/upgrade ${TARGET}`);
      await driveUntilPassed(h, issue, 'scale-down');
      expect(h.state(issue)?.phases.find((p) => p.id === 'cleanup')?.note).toContain('waiting for the grace period after scale-down');
      expect(scheduler.pending).toBe(1);
      const before = h.sim.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Before: the 720 h timer overflowed and fired every millisecond (469 requests in 3 s).
      expect(h.sim.requests.length - before).toBe(0);
      expect(h.sim.violations).toEqual([]);
    } finally {
      scheduler.stop();
    }
  });

  it('scaleDownGraceHours: 1e12 is refused on /upgrade continue with the key and its limit, not a RangeError', async () => {
    const h = await DemoHarness.create();
    await withConfig(h, 'cleanupMode: scale-then-delete\n');
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    await driveUntilPassed(h, issue, 'scale-down');
    const config = h.sim.filesAt('main').get('.github/mesh-upgrade.yml')!;
    h.sim.pushCommit('main', { '.github/mesh-upgrade.yml': `${config}scaleDownGraceHours: 1e12\n` }, 'a very long grace', 'alice');
    await h.comment('alice', issue, '/upgrade continue');
    expect(replies(h, issue).at(-1)).toContain('`scaleDownGraceHours`: must be between 0 and 720 hours (30 days)');
    expect(h.state(issue)?.status).toBe('running');
  });
});

describe('7. sizes: every comment under 65,536 characters, lock and sticky recover together', () => {
  /** 1,200 Helm templates under the cluster path: one preflight warning each. */
  function manyWarnings(h: DemoHarness): void {
    const files: Record<string, string> = {};
    for (let i = 0; i < 1200; i++)
      files[`clusters/prod/charts/values-${String(i).padStart(4, '0')}.yaml`] = `replicas: {{ .Values.replicas${i} }}\n`;
    h.sim.pushCommit('main', files, 'Helm values', 'alice');
  }

  it('a plan with 1,200 warnings: the sticky stays under the limit with "… N more", and keeps its state', async () => {
    const h = await DemoHarness.create();
    manyWarnings(h);
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    const sticky = h.stickyComment(issue);
    expect(sticky).not.toBeNull();
    expect(sticky!.length).toBeLessThanOrEqual(MAX_BODY_CHARACTERS);
    expect(sticky).toMatch(/Preflight warnings \(120\d\)/);
    expect(sticky).toMatch(/\n- … \d+ more\n/);
    expect(h.state(issue)).toMatchObject({ status: 'running' });
    expect(h.sim.pullRequests()).toHaveLength(1);
    expect(lockHolder(h)).toBeDefined();
    for (const body of botComments(h, issue)) expect(body.length).toBeLessThanOrEqual(MAX_BODY_CHARACTERS);
    expect(h.sim.violations).toEqual([]);
  });

  it('a dry run of a big repo: the would-be PR bodies that do not fit are counted, the state block comes last', async () => {
    const h = await DemoHarness.create();
    manyWarnings(h);
    const deployments = Array.from(
      { length: 600 },
      (_, i) =>
        `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker-with-a-long-name-${i}\n  namespace: bulk\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: w${i}}\n  template:\n    metadata:\n      labels: {app: w${i}}\n    spec:\n      containers:\n      - name: w\n        image: example/w:1\n`,
    ).join('---\n');
    h.sim.pushCommit(
      'main',
      {
        'clusters/prod/apps/bulk/namespace.yaml':
          'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bulk\n  labels:\n    istio.io/rev: asm-1130-0\n',
        'clusters/prod/apps/bulk/deployments.yaml': deployments,
      },
      'bulk',
      'alice',
    );
    const issue = h.openIssue('alice', 'Preview');
    await h.comment('alice', issue, `/upgrade ${TARGET} --dry-run`);
    const sticky = h.stickyComment(issue)!;
    expect(sticky.length).toBeLessThanOrEqual(MAX_BODY_CHARACTERS);
    expect(sticky).toContain('Would open: mesh-upgrade(prod): 1/');
    expect(sticky.trimEnd()).toMatch(/<!-- mesh-upgrade-state:[^>]*-->$/);
    expect(h.state(issue)?.reason).toBe('dry run: nothing was created');
    expect([...h.sim.refs().keys()].filter((r) => !r.startsWith('refs/heads/main'))).toEqual([]);
  });

  it('GitHub refuses the sticky after the lock was taken: the lock is released, the commenter told, another issue can start', async () => {
    const h = await DemoHarness.create();
    const first = h.openIssue('alice', 'Upgrade ASM');
    h.sim.failNext(
      { method: 'POST', pathPattern: /\/issues\/1\/comments$/ },
      {
        status: 422,
        body: {
          message: 'Validation Failed',
          errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }],
        },
      },
    );
    await expect(h.comment('alice', first, `/upgrade ${TARGET}`)).rejects.toThrow();
    expect(lockHolder(h)).toBeUndefined();
    expect(h.state(first)).toBeNull();
    expect(replies(h, first).at(-1)).toContain('The lock on cluster `prod` was released');
    const second = h.openIssue('carol', 'Upgrade ASM again');
    await h.comment('carol', second, `/upgrade ${TARGET}`);
    expect(h.state(second)?.status).toBe('running');
    expect(replies(h, second)).toEqual([]);
  });

  /** A start that died after taking the lock and before its sticky (the release failed too): a dead lock. */
  async function deadLock() {
    const h = await DemoHarness.create();
    const dead = h.openIssue('alice', 'Upgrade ASM');
    h.sim.failNext({ method: 'POST', pathPattern: /\/issues\/1\/comments$/ }, { status: 500, body: { message: 'boom' } }, 4);
    h.sim.failNext({ method: 'DELETE', pathPattern: /\/git\/refs\/mesh-upgrade\/locks\// }, { status: 500, body: { message: 'boom' } }, 4);
    await expect(h.comment('alice', dead, `/upgrade ${TARGET}`)).rejects.toThrow();
    h.sim.clearFaults();
    expect(lockHolder(h)).toBeDefined();
    expect(h.state(dead)).toBeNull();
    return { h, dead };
  }

  it('a lock whose issue has no sticky is taken over by the next /upgrade (after the grace period), which says so', async () => {
    const { h, dead } = await deadLock();
    const other = h.openIssue('carol', 'Upgrade ASM');
    await h.comment('carol', other, `/upgrade ${TARGET}`);
    // Within the grace period the holder may still be writing its sticky: refused, with a link.
    expect(replies(h, other).at(-1)).toContain(`already in progress in #${dead}`);
    h.clock.advance(LOCK_GRACE_MS);
    await h.comment('carol', other, `/upgrade ${TARGET}`);
    expect(replies(h, other).at(-1)).toContain(`Cluster \`prod\` was locked by #${dead}, which shows no running upgrade of it`);
    expect(replies(h, other).at(-1)).toContain('this issue took the lock over');
    expect(h.state(other)?.status).toBe('running');
    expect(h.sim.pullRequests().filter((p) => p.state === 'open')).toHaveLength(1);
    expect(h.logs.some((l) => l.includes('taking over a stale cluster lock'))).toBe(true);
    // The dead issue cannot take it back: the lock now names a running upgrade.
    h.clock.advance(LOCK_GRACE_MS);
    await h.comment('alice', dead, `/upgrade ${TARGET}`);
    expect(replies(h, dead).at(-1)).toContain(`already in progress in #${other}`);
    expect(h.sim.violations).toEqual([]);
  });

  it('/upgrade abort on the issue holding a dead lock releases it and says so', async () => {
    const { h, dead } = await deadLock();
    await h.comment('alice', dead, '/upgrade abort');
    expect(replies(h, dead).at(-1)).toContain('it still held the lock of `prod`; the lock was released');
    expect(lockHolder(h)).toBeUndefined();
    const other = h.openIssue('carol', 'Upgrade ASM');
    await h.comment('carol', other, `/upgrade ${TARGET}`);
    expect(h.state(other)?.status).toBe('running');
  });

  it('a ~50,000-character command naming 9,000 canaries takes no lock and writes nothing large', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade ASM');
    const names = Array.from({ length: 9000 }, (_, i) => `c${i.toString(36)}`).join(',');
    await h.comment('alice', issue, `/upgrade ${TARGET} --canary ${names}`);
    expect(lockHolder(h)).toBeUndefined();
    expect(h.state(issue)).toBeNull();
    for (const body of botComments(h, issue)) expect(body.length).toBeLessThan(4000);
  });
});

describe('8. GitHub refusing a ref: told apart from a lost race, bounded, and said', () => {
  it('25 injected "Reference already exists" for a branch that does not exist: one tree, one commit, three tries, then a pause that says so', async () => {
    const { h, issue } = await atGatewaysStep();
    h.sim.failNext({ method: 'POST', pathPattern: /\/git\/refs$/ }, REF_ANSWERS.alreadyExists, 25);
    const before = h.sim.requests.length;
    await h.comment('alice', issue, '/upgrade continue');
    // Before: 26 trees, 26 commits, 26 ref calls.
    expect(gitWrites(h.sim.requests.slice(before))).toEqual({ trees: 1, commits: 1, refs: 3 });
    expect(h.state(issue)).toMatchObject({ status: 'paused' });
    expect(h.state(issue)?.reason).toContain(
      `GitHub answered \`Reference already exists\` 3 times in a row for the branch \`${GATEWAYS_BRANCH}\``,
    );
    h.sim.clearFaults();
    await h.comment('alice', issue, '/upgrade continue');
    expect(h.sim.pullRequests().filter((p) => p.head.ref === GATEWAYS_BRANCH)).toHaveLength(1);
    expect(h.state(issue)).toMatchObject({ status: 'running' });
  });

  it('"Reference update failed" twice: tried again with the same commit, one PR', async () => {
    const { h, issue } = await atGatewaysStep();
    h.sim.failNext({ method: 'POST', pathPattern: /\/git\/refs$/ }, REF_ANSWERS.updateFailed, 2);
    const before = h.sim.requests.length;
    await h.comment('alice', issue, '/upgrade continue');
    expect(gitWrites(h.sim.requests.slice(before))).toEqual({ trees: 1, commits: 1, refs: 3 });
    expect(h.sim.pullRequests().filter((p) => p.head.ref === GATEWAYS_BRANCH)).toHaveLength(1);
    expect(h.state(issue)).toMatchObject({ status: 'running' });
    expect(h.sim.violations).toEqual([]);
  });

  it('a ruleset that always rejects the phase branches: one ref call per command, a pause naming the ruleset message (bounded), no retry loop', async () => {
    const { h, issue } = await atGatewaysStep();
    const pattern = `release/* @example-org/admins \`x\` ${'y'.repeat(5000)}`;
    h.sim.addRuleset({
      name: 'branch names',
      include: /^refs\/heads\//,
      namePattern: { pattern: /^(main|release\/.+)$/, description: pattern },
    });
    const before = h.sim.requests.length;
    await h.comment('alice', issue, '/upgrade continue');
    const first = h.sim.requests.slice(before);
    expect(gitWrites(first)).toEqual({ trees: 1, commits: 1, refs: 1 });
    const state = h.state(issue)!;
    expect(state.status).toBe('paused');
    expect(state.reason).toContain(
      `GitHub refused to create the branch \`${GATEWAYS_BRANCH}\`: \`Repository rule violations found: Ref name must match the pattern`,
    );
    expect(state.reason).not.toContain('@example-org');
    expect(state.reason!.length).toBeLessThan(600);
    expect(h.stickyComment(issue)).toContain('Repository rule violations found');
    // Paused: nothing is scheduled, nothing runs while idle.
    expect(h.scheduler.nextAt()).toBeNull();
    const again = h.sim.requests.length;
    await h.comment('alice', issue, '/upgrade continue');
    expect(gitWrites(h.sim.requests.slice(again))).toEqual({ trees: 1, commits: 1, refs: 1 });
    expect(h.state(issue)?.status).toBe('paused');
    // The admin fixes the ruleset: the next /upgrade continue opens the phase.
    h.sim.removeRuleset('branch names');
    await h.comment('alice', issue, '/upgrade continue');
    expect(h.sim.pullRequests().filter((p) => p.head.ref === GATEWAYS_BRANCH)).toHaveLength(1);
    expect(h.state(issue)).toMatchObject({ status: 'running', reason: null });
    expect(h.sim.violations).toEqual([]);
  });

  it('a lock ref the repository refuses is a clear refusal, not "in progress in another issue"', async () => {
    const h = await DemoHarness.create();
    h.sim.addRuleset({ name: 'no custom refs', include: /^refs\/mesh-upgrade\//, restrict: ['creation'] });
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    const reply = replies(h, issue).at(-1)!;
    expect(reply).toContain(
      `GitHub refused to create the lock ref \`${LOCK}\`: \`Repository rule violations found: Cannot create ref due to creations being restricted.\``,
    );
    expect(reply).not.toContain('in progress');
    expect(count(h.sim.requests, 'POST', /\/git\/refs$/)).toBe(1);
    expect(h.state(issue)).toBeNull();
    expect(h.sim.pullRequests()).toEqual([]);
    expect([...h.sim.branches().keys()]).toEqual(['main']);
  });

  it('"Reference update failed" on the lock, every time: three tries, then a refusal that says so', async () => {
    const h = await DemoHarness.create();
    h.sim.failNext({ method: 'POST', pathPattern: /\/git\/refs$/ }, REF_ANSWERS.updateFailed, 1000);
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    expect(count(h.sim.requests, 'POST', /\/git\/refs$/)).toBe(3);
    expect(count(h.sim.requests, 'POST', /\/git\/commits$/)).toBe(1);
    expect(replies(h, issue).at(-1)).toContain(`GitHub answered \`Reference update failed\` 3 times in a row for the lock ref \`${LOCK}\``);
    expect(h.state(issue)).toBeNull();
  });
});
