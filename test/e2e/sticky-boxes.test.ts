import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../../demo/harness.js';
import { TARGET } from '../../demo/scenarios/drive.js';
import { tickedActions } from '../../src/core/sticky-actions.js';

async function mergedFirstPhase() {
  const h = await DemoHarness.create({ verbose: false, print: () => {} });
  const issue = h.openIssue('alice', 'Upgrade ASM');
  await h.comment('alice', issue, `/upgrade ${TARGET}`);
  const pr = h.state(issue)!.phases[0]!.pr!;
  return { h, issue, pr };
}

const boxes = (body: string) => body.split('\n').filter((l) => l.includes('<!-- mesh-upgrade-action:'));

describe('boxes in the plan comment: acting without typing', () => {
  it('while a PR is in review only abort is offered; after the merge, continue too', async () => {
    const { h, issue, pr } = await mergedFirstPhase();
    expect(boxes(h.stickyComment(issue)!).map((l) => l.replace(/ <!--.*/, ''))).toEqual([
      '- [ ] **Abort**: close the open phase PR; merged phases stay',
    ]);
    await h.merge(pr);
    expect(boxes(h.stickyComment(issue)!)).toHaveLength(2);
  });

  it('ticking continue passes the manual check as typing it does, answers once, and unticks the box', async () => {
    const { h, issue, pr } = await mergedFirstPhase();
    await h.merge(pr);
    // Delivered twice (a retried webhook): one phase passed, one answer.
    await h.tick('carol', issue, 'continue', 2);
    const state = h.state(issue)!;
    expect(state.phases[0]!.status).toBe('passed');
    expect(state.phases[0]!.note).toContain('/upgrade continue');
    expect(state.phases[1]).toMatchObject({ status: 'open' });
    expect(h.sim.pullRequests().filter((p) => p.state === 'open')).toHaveLength(1);
    expect(h.botReplies(issue).filter((r) => r.includes('Continued.'))).toHaveLength(1);
    expect(tickedActions(h.stickyComment(issue)!)).toEqual([]);
    // Ticking it again later is a new action, answered again.
    await h.merge(state.phases[1]!.pr!);
    await h.tick('carol', issue, 'continue');
    expect(h.state(issue)!.phases[1]!.status).toBe('passed');
    expect(h.botReplies(issue).filter((r) => r.includes('Continued.'))).toHaveLength(2);
  });

  it('abort by a box closes the open PR and releases the cluster', async () => {
    const { h, issue } = await mergedFirstPhase();
    await h.tick('alice', issue, 'abort');
    expect(h.state(issue)?.status).toBe('aborted');
    expect(h.sim.pullRequests().every((p) => p.state === 'closed')).toBe(true);
    expect(boxes(h.stickyComment(issue)!)).toEqual([]);
  });

  it('someone without the permission ticks a box: refused, nothing moves, the box is unticked', async () => {
    const { h, issue, pr } = await mergedFirstPhase();
    await h.merge(pr);
    // carol has write access (GitHub lets her tick); the config now asks for admin.
    h.sim.pushCommit(
      'main',
      {
        '.github/mesh-upgrade.yml': h.sim
          .filesAt('main')
          .get('.github/mesh-upgrade.yml')!
          .replace('permission: write', 'permission: admin'),
      },
      'admins only',
      'alice',
    );
    await h.tick('carol', issue, 'continue');
    expect(h.state(issue)!.phases[0]!.status).toBe('merged');
    expect(h.botReplies(issue).at(-1)).toContain('admin');
    expect(tickedActions(h.stickyComment(issue)!)).toEqual([]);
  });

  it('other edits of the sticky or of any comment are ignored', async () => {
    const { h, issue, pr } = await mergedFirstPhase();
    await h.merge(pr);
    const before = h.sim.requests.length;
    const command = h.sim.comments(issue).find((c) => c.user?.login === 'alice')!;
    await h.deliver(
      'issue_comment',
      h.sim.editCommentAs('alice', command.id, () => '/upgrade continue'),
    );
    const sticky = h.sim.comments(issue).find((c) => (c.body ?? '').includes('mesh-upgrade-state'))!;
    await h.deliver(
      'issue_comment',
      h.sim.editCommentAs('alice', sticky.id, (b) => `${b}\nnote to self`),
    );
    expect(h.sim.requests.slice(before).filter((r) => !r.path.includes('access_tokens'))).toEqual([]);
    expect(h.state(issue)!.phases[0]!.status).toBe('merged');
  });
});
