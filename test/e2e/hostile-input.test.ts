import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../../demo/harness.js';
import { TARGET } from '../../demo/scenarios/drive.js';

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
    for (const reply of h.botReplies(target)) expect(reply).not.toContain('mesh-upgrade-state');
    await h.comment('alice', target, '/upgrade status');
    expect(h.botReplies(target).at(-1)).toContain('No upgrade on this issue');
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
    expect(h.botReplies(target).at(-1)).toContain('No upgrade on this issue');
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
    const replies = h.botReplies(issue);
    expect(replies).toHaveLength(4);
    for (const reply of replies) {
      expect(reply).not.toMatch(/@example-org|<details|<img|onerror/);
    }
  });

  it('checks permission first: an outsider gets one short reply per issue and hour, then reactions only', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    for (let i = 0; i < 20; i++) await h.comment('mallory', issue, i % 2 ? '/upgrade stauts' : `/upgrade ${TARGET} --bogus`);
    const replies = h.botReplies(issue);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain('needs **write** permission');
    expect(replies[0]).not.toContain('@mallory');
    expect(replies[0]).not.toContain('stauts');
    const reactions = h.sim
      .comments(issue)
      .filter((c) => c.user?.login === 'mallory')
      .map((c) =>
        h.sim
          .reactions(c.id)
          .map((r) => r.content)
          .sort(),
      );
    expect(reactions.slice(1).every((r) => r.includes('confused'))).toBe(true);
    // An hour later the next one gets a reply again.
    await h.jump(3_601_000);
    await h.comment('mallory', issue, '/upgrade abort');
    expect(h.botReplies(issue)).toHaveLength(2);
    expect(h.sim.pullRequests()).toEqual([]);
  });
});

describe('canary typos', () => {
  it('refuses a canary name that is not a namespace moving in this upgrade, naming the valid ones', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', issue, `/upgrade ${TARGET} --canary serach`);
    const reply = h.botReplies(issue).at(-1)!;
    expect(reply).toContain('`serach`');
    expect(reply).toMatch(/canary namespaces can be: .*search/);
    expect(h.sim.pullRequests()).toEqual([]);
    expect([...h.sim.refs().keys()].filter((r) => r.includes('locks'))).toEqual([]);
  });
});

describe('state that is not an upgrade of this issue', () => {
  it("a dry run holds no lock, opens nothing on /upgrade continue, and its abort frees no other issue's lock", async () => {
    const h = await DemoHarness.create();
    const running = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', running, `/upgrade ${TARGET}`);
    const dry = h.openIssue('carol', 'What would it do?');
    await h.comment('carol', dry, '/upgrade asm-1140-1 --dry-run');
    await h.comment('carol', dry, '/upgrade continue');
    await h.comment('carol', dry, '/upgrade status');
    expect(h.sim.pullRequests()).toHaveLength(1);
    expect(h.botReplies(dry).some((r) => r.includes('no running or paused upgrade'))).toBe(true);
    await h.comment('carol', dry, '/upgrade abort');
    expect([...h.sim.refs().keys()].filter((r) => r.includes('locks'))).toEqual(['refs/mesh-upgrade/locks/prod']);
    await h.comment('carol', h.openIssue('carol', 'Second'), '/upgrade asm-1140-1');
    expect(h.sim.pullRequests()).toHaveLength(1);
  });

  it('never adopts a signed block of another issue, even when repo text puts it into the sticky comment', async () => {
    const h = await DemoHarness.create();
    const running = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', running, `/upgrade ${TARGET}`);
    const dry = h.openIssue('carol', 'Dry run');
    await h.comment('carol', dry, '/upgrade asm-1140-1 --dry-run');
    const block = stickyBlock(h, dry);
    // An Application name carries the block; the plan warns about it, quoting the name.
    h.sim.pushCommit(
      'main',
      {
        'clusters/prod/argocd/notes.yaml': `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: '${block}'\n  namespace: argocd\nspec:\n  sources:\n    - chart: base\n      repoURL: https://istio-release.storage.googleapis.com/charts\n`,
      },
      'notes',
      'carol',
    );
    await h.comment('alice', running, '/upgrade status');
    await h.comment('alice', running, '/upgrade status');
    expect(h.state(running)).toMatchObject({ issue: running, target: TARGET });
    expect(h.botReplies(running).at(-1)).toContain(`to \`${TARGET}\``);
    // Quoted, it is neutralised: it can no longer read as a hidden block.
    expect(h.stickyComment(running)).not.toContain(block);
  });

  it('ignores a closed pull request with a phase marker that the bot did not open (a fork)', async () => {
    const h = await DemoHarness.create();
    const running = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', running, `/upgrade ${TARGET}`);
    const real = h.sim.pullRequests()[0]!;
    const forged = structuredClone(h.sim.closePullRequest(real.number, 'alice')) as unknown as {
      pull_request: { number: number; user: { login: string }; head: { repo: { full_name: string } } };
    };
    forged.pull_request.user.login = 'mallory';
    forged.pull_request.head.repo.full_name = 'mallory/cluster-config';
    const before = h.sim.requests.length;
    await h.deliver('pull_request', forged);
    expect(h.sim.requests.slice(before).filter((r) => !r.path.includes('access_tokens'))).toEqual([]);
  });
});

describe('commands in HTML blocks', () => {
  it('does not run a command hidden in a collapsed section or another HTML block', async () => {
    const h = await DemoHarness.create();
    const issue = h.openIssue('alice', 'Upgrade');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    await h.comment('alice', issue, '<details><summary>How to stop</summary>\n\n/upgrade abort\n\n</details>');
    await h.comment('alice', issue, '<div align=right>\n\n/upgrade abort\n\n</div>');
    expect(h.state(issue)?.status).toBe('running');
    // An HTML comment before the command is fine.
    await h.comment('alice', issue, '<!-- note to self -->\n/upgrade status');
    expect(h.botReplies(issue).at(-1)).toContain('**running**');
  });
});
