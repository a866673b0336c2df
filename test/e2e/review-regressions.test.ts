import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../../demo/harness.js';
import { ARGO_SCENARIOS } from '../../demo/scenarios/argocd.js';
import { driveWithArgo, start, TARGET } from '../../demo/scenarios/drive.js';

/** Found by a hostile review of hand-overs, labels and boxes: each failed before its fix. */

const quiet = { verbose: false, print: () => {} };
const boxes = (body: string) => body.split('\n').filter((l) => l.includes('<!-- mesh-upgrade-action:'));
const tick = (action: string) => (body: string) => {
  const line = body.split('\n').find((l) => l.includes(`mesh-upgrade-action:${action}`))!;
  return body.replace(line, line.replace('[ ]', '[x]'));
};

/** How often alice was mentioned on the issue after the first `from` mentions. */
function mentionsOfAliceSince(h: DemoHarness, issue: number, from: number): number {
  return h.sim
    .mentions(issue)
    .slice(from)
    .filter((m) => m.login === 'alice').length;
}

async function running() {
  const h = await DemoHarness.create(quiet);
  const issue = h.openIssue('alice', 'Upgrade ASM');
  await h.comment('alice', issue, `/upgrade ${TARGET}`);
  const sticky = h.sim.comments(issue).find((c) => (c.body ?? '').includes('mesh-upgrade-state'))!;
  return { h, issue, sticky };
}

describe('review regressions', () => {
  it('/upgrade status on a failed Argo CD gate keeps the phase failed and opens nothing after it', async () => {
    const h = await DemoHarness.create({ ...quiet, argocd: ARGO_SCENARIOS.degraded! });
    const issue = await start(h, 'alice');
    await driveWithArgo(h, issue);
    const before = h.state(issue)!;
    const failed = before.phases.find((p) => p.status === 'failed')!;
    const prs = h.sim.pullRequests().length;
    const told = h.handovers(issue).length;
    await h.comment('alice', issue, '/upgrade status');
    const after = h.state(issue)!;
    expect(after.status).toBe('paused');
    expect(after.phases.find((p) => p.id === failed.id)!.status).toBe('failed');
    expect(h.sim.pullRequests()).toHaveLength(prs);
    expect(h.handovers(issue)).toHaveLength(told);
    expect(h.botReplies(issue).at(-1)).toContain('Next for alice: fix the cluster');
  });

  it('a dry run offers no box to tick', async () => {
    const h = await DemoHarness.create(quiet);
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET} --dry-run`);
    expect(boxes(h.stickyComment(issue)!)).toEqual([]);
    expect(h.stickyComment(issue)).toContain('Say the same command without `--dry-run`');
  });

  it('two boxes ticked before the bot answers: both are acted on, in order, each answered', async () => {
    const { h, issue, sticky } = await running();
    await h.merge(h.state(issue)!.phases[0]!.pr!);
    const first = h.sim.editCommentAs('alice', sticky.id, tick('continue'));
    const second = h.sim.editCommentAs('alice', sticky.id, tick('abort'));
    await h.deliver('issue_comment', first);
    await h.deliver('issue_comment', second);
    expect(h.state(issue)!.status).toBe('aborted');
    expect(h.state(issue)!.phases[0]!.status).toBe('passed');
    const replies = h.botReplies(issue);
    expect(replies.some((r) => r.includes('Continued.'))).toBe(true);
    expect(replies.at(-1)).toContain('aborted');
  });

  it('a tick whose webhook arrives after the bot rewrote the sticky for another event still acts', async () => {
    const { h, issue, sticky } = await running();
    const payload = h.sim.editCommentAs('carol', sticky.id, tick('abort'));
    await h.merge(h.state(issue)!.phases[0]!.pr!);
    await h.deliver('issue_comment', payload);
    expect(h.state(issue)!.status).toBe('aborted');
  });

  it('the same box ticked twice on an unchanged comment is answered twice', async () => {
    const h = await DemoHarness.create({ ...quiet, argocd: ARGO_SCENARIOS.degraded! });
    const issue = await start(h, 'alice');
    await driveWithArgo(h, issue);
    const before = h.botReplies(issue).length;
    await h.tick('alice', issue, 'continue');
    await h.tick('alice', issue, 'continue');
    const answers = h.botReplies(issue).slice(before);
    expect(answers.filter((r) => r.includes('Checked again; still paused'))).toHaveLength(2);
  });

  it('a pause found while writing the sticky comment is a hand-over, and the comment does not ask for a review', async () => {
    const { h, issue } = await running();
    const files = [...h.sim.filesAt('main').keys()].filter((f) => f.startsWith('clusters/prod/istio-system/'));
    h.sim.pushCommit('main', Object.fromEntries(files.map((f) => [f, null])), 'remove istio', 'alice');
    const told = h.handovers(issue).length;
    await h.comment('carol', issue, '/upgrade status');
    if (h.state(issue)!.status !== 'paused') throw new Error('expected the upgrade to pause');
    expect(h.handovers(issue)).toHaveLength(told + 1);
    // Told in the answer to /upgrade status, which led to it.
    expect(h.handovers(issue).at(-1)).toContain('**paused**');
    expect(h.handovers(issue).at(-1)).toContain('👋 @alice: your turn.');
    expect(h.stickyComment(issue)).not.toContain('review and merge');
  });

  it("an abort and a new /upgrade on the same issue: the new upgrade's hand-overs are told", async () => {
    const { h, issue } = await running();
    await h.comment('alice', issue, '/upgrade abort');
    const told = h.handovers(issue).length;
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    expect(h.state(issue)!.status).toBe('running');
    expect(h.handovers(issue)).toHaveLength(told + 1);
  });

  it('a PR closed, then reopened and merged, moves the upgrade on', async () => {
    const { h, issue } = await running();
    const pr = h.state(issue)!.phases[0]!.pr!;
    await h.close(pr);
    expect(h.state(issue)!.status).toBe('paused');
    h.sim.reopenPullRequest(pr, 'alice');
    await h.merge(pr);
    expect(h.state(issue)).toMatchObject({ status: 'running' });
    expect(h.state(issue)!.phases[0]).toMatchObject({ status: 'merged' });
  });

  it('a pause the repo caused is lifted once the repo plans again (Argo CD gate: the upgrade goes on by itself)', async () => {
    const h = await DemoHarness.create({ ...quiet, argocd: ARGO_SCENARIOS['argocd-healthy']! });
    const issue = await start(h, 'alice');
    const files = [...h.sim.filesAt('main').entries()].filter(([f]) => f.startsWith('clusters/prod/istio-system/'));
    h.sim.pushCommit('main', Object.fromEntries(files.map(([f]) => [f, null])), 'remove istio', 'alice');
    await h.comment('carol', issue, '/upgrade status');
    expect(h.state(issue)!.status).toBe('paused');
    h.sim.pushCommit('main', Object.fromEntries(files), 'restore istio', 'alice');
    await h.merge(h.state(issue)!.phases[0]!.pr!);
    await h.advance(10 * 60_000, { observe: false });
    const state = h.state(issue)!;
    expect(state.phases[0]!.status).toBe('passed');
    expect(state).toMatchObject({ status: 'running', reason: null });
  });

  it('a pause found while answering /upgrade status replaces the hand-over the walk had: one mention, answer and sticky agree', async () => {
    const { h, issue } = await running();
    h.sim.mergePullRequest(h.state(issue)!.phases[0]!.pr!, 'alice'); // its webhook is lost
    const files = [...h.sim.filesAt('main').keys()].filter((f) => f.startsWith('clusters/prod/istio-system/'));
    h.sim.pushCommit('main', Object.fromEntries(files.map((f) => [f, null])), 'remove istio', 'alice');
    const before = h.sim.mentions(issue).length;
    await h.comment('carol', issue, '/upgrade status');
    expect(h.state(issue)!.status).toBe('paused');
    expect(mentionsOfAliceSince(h, issue, before)).toBe(1);
    const answer = h.botReplies(issue).at(-1)!;
    expect(answer).toContain('**paused**');
    expect(answer).not.toContain('check phase 1');
  });

  it('a redelivered /upgrade status whose walk finds a new hand-over still tells it', async () => {
    const { h, issue } = await running();
    const { payload } = h.sim.commentAs('carol', issue, '/upgrade status');
    await h.deliver('issue_comment', payload);
    const merged = h.sim.mergePullRequest(h.state(issue)!.phases[0]!.pr!, 'alice'); // its webhook comes late
    const before = h.sim.mentions(issue).length;
    await h.deliver('issue_comment', payload);
    await h.deliver('pull_request', merged);
    expect(mentionsOfAliceSince(h, issue, before)).toBe(1);
  });

  it('an aborted rollback is not reported as rolled back; the abort answer names the rollback', async () => {
    const { h, issue } = await running();
    await h.merge(h.state(issue)!.phases[0]!.pr!);
    await h.comment('alice', issue, '/upgrade continue');
    await h.comment('alice', issue, '/upgrade rollback');
    await h.comment('alice', issue, '/upgrade abort');
    expect(h.botReplies(issue).at(-1)).toMatch(/^Rollback to `asm-1130-0` aborted\./);
    await h.comment('alice', issue, '/upgrade rollback');
    expect(h.botReplies(issue).at(-1)).toContain('The rollback to `asm-1130-0` on this issue was aborted');
  });
});
