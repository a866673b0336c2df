import { describe, expect, it } from 'vitest';
import { mentionsIn } from '../../demo/github/domain/issues.js';
import { DemoHarness } from '../../demo/harness.js';
import { drive, TARGET } from '../../demo/scenarios/drive.js';

/** A hand-over comment's marker: what it is about, then which upgrade and which hand-over of it. */
const HANDOVER = /<!-- mesh-upgrade-handover:(\S+)\.u\w+\.\d+ -->/;

async function withReviewers(reviewers: string): Promise<DemoHarness> {
  const h = await DemoHarness.create({ verbose: false, print: () => {} });
  const config = h.sim.filesAt('main').get('.github/mesh-upgrade.yml') ?? '';
  h.sim.pushCommit('main', { '.github/mesh-upgrade.yml': `${config}reviewers: ${reviewers}\n` }, 'reviewers', 'alice');
  return h;
}

describe('hand-overs: a person is mentioned exactly once each time the next move becomes theirs', () => {
  it('across a whole upgrade, each hand-over is one new comment mentioning the requester and the reviewers once', async () => {
    const h = await withReviewers('[bob, "@example-org/platform"]');
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    // Every event delivered twice, and the app restarted before each: nobody is told twice.
    await drive(h, issue, { deliveries: 2, restartBetweenEvents: true });
    expect(h.state(issue)?.status).toBe('completed');

    const handovers = h.sim.comments(issue).filter((c) => HANDOVER.test(c.body ?? ''));
    const keys = handovers.map((c) => HANDOVER.exec(c.body!)![1]!);
    expect(new Set(keys).size).toBe(keys.length);
    // Each phase PR to review, and each merged phase to check before `/upgrade continue`.
    const phases = h.state(issue)!.phases.filter((p) => p.pr !== null).length;
    expect(keys.filter((k) => k.startsWith('review:'))).toHaveLength(phases);
    expect(keys.filter((k) => k.startsWith('check:'))).toHaveLength(phases);

    const mentions = h.sim.mentions(issue);
    for (const login of ['alice', 'bob', 'example-org/platform']) {
      const of = mentions.filter((m) => m.login === login);
      expect(
        of.map((m) => m.commentId),
        login,
      ).toEqual(handovers.map((c) => c.id));
    }
    // Nothing else notifies anybody: the sticky comment (edited ever since) was created without a mention.
    expect(new Set(mentions.map((m) => m.commentId))).toEqual(new Set(handovers.map((c) => c.id)));
    expect(mentions.filter((m) => !['alice', 'bob', 'example-org/platform'].includes(m.login))).toEqual([]);
    // Each links the plan comment and says what to do.
    const sticky = h.sim.comments(issue).find((c) => (c.body ?? '').includes('mesh-upgrade-state'))!;
    // Each links the plan comment and says what to do; told in the answer to the command that led to it, when there was one.
    for (const c of handovers) {
      expect(c.body).toContain(sticky.html_url);
      expect(c.body).toMatch(/Next( for alice)?: (review and merge #\d+|check phase \d+ with the commands in #\d+)/);
    }
    const answers = handovers.filter((c) => c.body!.includes('<!-- mesh-upgrade-reply:'));
    expect(answers.length).toBeGreaterThan(0);
    for (const c of answers) expect(c.body).toContain('Continued.');
  });

  it('a pause hands over once with its reason; asking again (status) tells nobody again', async () => {
    const h = await withReviewers('[]');
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    const pr = h.state(issue)!.phases[0]!.pr!;
    await h.close(pr);
    await h.comment('alice', issue, '/upgrade status');
    await h.comment('carol', issue, '/upgrade status');
    const told = h.handovers(issue);
    expect(told.map((b) => HANDOVER.exec(b)![1])).toEqual([`review:control-plane:${pr}`, `reopen:control-plane:${pr}`]);
    expect(told[1]).toContain('Next: reopen and merge');
    expect(h.sim.mentions(issue).map((m) => m.login)).toEqual(['alice', 'alice']);
    // The answers to /upgrade status mention nobody.
    expect(h.botReplies(issue).flatMap(mentionsIn)).toEqual([]);
  });
});

describe('state labels on the issue and the phase PRs', () => {
  const stateLabels = (labels: ReadonlyArray<{ name?: string } | string>) =>
    labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter((n) => n.startsWith('mesh-upgrade: '));

  it('the issue shows the state at each step; only the current phase PR carries it; other labels are kept', async () => {
    const h = await withReviewers('[]');
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    expect(stateLabels(h.sim.issue(issue).labels)).toEqual(['mesh-upgrade: waiting-for-you']);
    const first = h.state(issue)!.phases[0]!.pr!;
    expect(stateLabels(h.sim.issue(first).labels)).toEqual(['mesh-upgrade: waiting-for-you']);
    await h.merge(first, 'alice');
    // The manual gate waits for a person's check: still their turn.
    expect(stateLabels(h.sim.issue(issue).labels)).toEqual(['mesh-upgrade: waiting-for-you']);
    await h.comment('alice', issue, '/upgrade continue');
    const second = h.state(issue)!.phases[1]!.pr!;
    expect(stateLabels(h.sim.issue(first).labels)).toEqual([]);
    expect(h.sim.issue(first).labels.map((l) => (typeof l === 'string' ? l : l.name))).toContain('mesh-upgrade');
    expect(stateLabels(h.sim.issue(second).labels)).toEqual(['mesh-upgrade: waiting-for-you']);
    await h.close(second);
    expect(stateLabels(h.sim.issue(issue).labels)).toEqual(['mesh-upgrade: paused']);
    expect(stateLabels(h.sim.issue(second).labels)).toEqual(['mesh-upgrade: paused']);
    await h.comment('alice', issue, '/upgrade abort');
    expect(stateLabels(h.sim.issue(issue).labels)).toEqual(['mesh-upgrade: aborted']);
    expect(stateLabels(h.sim.issue(second).labels)).toEqual([]);
  });

  it('a completed upgrade says so on its issue, and no PR keeps a state label', async () => {
    const h = await withReviewers('[]');
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    await drive(h, issue);
    expect(h.state(issue)?.status).toBe('completed');
    expect(stateLabels(h.sim.issue(issue).labels)).toEqual(['mesh-upgrade: completed']);
    for (const pr of h.sim.pullRequests()) expect(stateLabels(pr.labels), `#${pr.number}`).toEqual([]);
  });
});
