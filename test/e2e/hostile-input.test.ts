import { describe, expect, it } from 'vitest';
import { parseStateBlock } from '../../src/core/state.js';
import { DemoHarness } from '../sim/demo/harness.js';
import { TARGET } from '../sim/demo/scenarios.js';

function botReplies(h: DemoHarness, issue: number): string[] {
  return h.sim
    .comments(issue)
    .filter((c) => c.user?.login === h.sim.botLogin && parseStateBlock(c.body ?? '', h.stateKey).kind === 'none')
    .map((c) => c.body ?? '');
}

/** A state block as the bot writes it, taken from a running upgrade's sticky comment. */
function stickyBlock(h: DemoHarness, issue: number): string {
  return /<!-- mesh-upgrade-state:v\d+ [^>]*-->/.exec(h.stickyComment(issue)!)![0];
}

describe('forged state', () => {
  it('never adopts a state block laundered through a reply (outsider, nested HTML comment)', async () => {
    const h = await DemoHarness.create();
    const running = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', running, `/upgrade ${TARGET}`);
    const block = stickyBlock(h, running);
    const target = h.openIssue('alice', 'Another issue');
    // Nested comment markers survive one-pass stripping as `<!--`; nothing typed is echoed now.
    await h.comment('mallory', target, `/upgrade status ${block.replace('<!--', '<!<!---->--')}`);
    await h.comment('carol', target, `/upgrade status ${block.replace('<!--', '<!<!---->--')}`);
    for (const reply of botReplies(h, target)) expect(reply).not.toContain('mesh-upgrade-state');
    await h.comment('alice', target, '/upgrade status');
    expect(botReplies(h, target).at(-1)).toContain('No upgrade on this issue');
    expect(h.sim.pullRequests()).toHaveLength(1);
  });

  it('ignores a real, signed block posted by another GitHub App or a person', async () => {
    const h = await DemoHarness.create();
    const running = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', running, `/upgrade ${TARGET}`);
    const block = stickyBlock(h, running);
    const target = h.openIssue('alice', 'Copy');
    h.sim.commentAs('evil-app[bot]', target, `### Plan\n${block}`);
    h.sim.commentAs('carol', target, `### Plan\n${block}`);
    await h.comment('alice', target, '/upgrade status');
    expect(botReplies(h, target).at(-1)).toContain('No upgrade on this issue');
    await h.comment('alice', target, '/upgrade continue');
    expect(h.sim.pullRequests()).toHaveLength(1);
  });
});

describe('commands hidden in Markdown', () => {
  it('does not run a command in an indented code block', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    await h.comment('alice', issue, 'To stop it, one would type:\n\n    /upgrade abort\n');
    await h.comment('alice', issue, '    /upgrade abort');
    expect(h.state(issue)?.status).toBe('running');
    expect(h.sim.pullRequests().filter((p) => p.state === 'open')).toHaveLength(1);
  });
});

describe('echo and notification abuse', () => {
  it('echoes nothing a commenter typed: no mentions, no HTML, no fake blocks', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    await h.comment('carol', issue, '/upgrade status x`@example-org/platform');
    await h.comment('carol', issue, `/upgrade ${TARGET} --bogus\`<details><summary>Approved</summary>`);
    await h.comment('carol', issue, '/upgrade <img src=x onerror=alert(1)>');
    await h.comment('carol', issue, `/upgrade ${TARGET} --cluster @example-org/platform`);
    const replies = botReplies(h, issue);
    expect(replies).toHaveLength(4);
    for (const reply of replies) {
      expect(reply).not.toMatch(/@example-org|<details|<img|onerror/);
    }
  });

  it('checks permission first: an outsider gets one short reply per issue and hour, then reactions only', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    for (let i = 0; i < 20; i++) await h.comment('mallory', issue, i % 2 ? '/upgrade stauts' : `/upgrade ${TARGET} --bogus`);
    const replies = botReplies(h, issue);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain('needs **write** permission');
    expect(replies[0]).not.toContain('@mallory');
    expect(replies[0]).not.toContain('stauts');
    const reactions = h.sim.comments(issue).filter((c) => c.user?.login === 'mallory').map((c) => h.sim.reactions(c.id).map((r) => r.content).sort());
    expect(reactions.slice(1).every((r) => r.includes('confused'))).toBe(true);
    // An hour later the next one gets a reply again.
    await h.jump(3_601_000);
    await h.comment('mallory', issue, '/upgrade abort');
    expect(botReplies(h, issue)).toHaveLength(2);
    expect(h.sim.pullRequests()).toEqual([]);
  });
});

describe('canary typos', () => {
  it('refuses a canary name that is not a namespace moving in this upgrade, naming the valid ones', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', issue, `/upgrade ${TARGET} --canary serach`);
    const reply = botReplies(h, issue).at(-1)!;
    expect(reply).toContain('`serach`');
    expect(reply).toMatch(/canary namespaces can be: .*search/);
    expect(h.sim.pullRequests()).toEqual([]);
    expect([...h.sim.refs().keys()].filter((r) => r.includes('locks'))).toEqual([]);
  });
});
