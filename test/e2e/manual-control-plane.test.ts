import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../../demo/harness.js';
import { loadFixture } from '../helpers/fixtures.js';

const CONFIG = 'clusters:\n  - name: prod\n    path: clusters/prod\ngate: manual\n';

/** The ASM fixture (istiod rendered by `istioctl manifest generate`, in git) on a simulated GitHub. */
async function renderedManifests(): Promise<{ h: DemoHarness; issue: number }> {
  const files = new Map(await loadFixture('asm-manifests'));
  files.set('.github/mesh-upgrade.yml', CONFIG);
  const h = await DemoHarness.create({ files });
  const issue = h.openIssue('alice', 'Upgrade ASM to 1.14');
  await h.comment('alice', issue, '/upgrade asm-1140-0');
  return { h, issue };
}

describe('a manual control-plane phase whose result belongs in git', () => {
  it('does not pass on /upgrade continue while the repo lacks istiod-<new>, says what is missing, and opens nothing further', async () => {
    const { h, issue } = await renderedManifests();
    expect(h.sim.pullRequests()).toEqual([]);
    expect(h.state(issue)?.phases[0]).toMatchObject({ id: 'control-plane', status: 'open', pr: null });
    for (let i = 0; i < 3; i++) await h.comment('alice', issue, '/upgrade continue');
    expect(h.sim.pullRequests()).toEqual([]);
    const state = h.state(issue)!;
    expect(state.phases[0]).toMatchObject({ id: 'control-plane', status: 'open' });
    expect(state.phases.slice(1).every((p) => p.status === 'pending')).toBe(true);
    const replies = h.botReplies(issue);
    expect(replies).toHaveLength(3);
    for (const reply of replies) expect(reply).toContain('has no control plane asm-1140-0 (istiod-asm-1140-0)');
  });

  it('passes once a maintainer commits the rendered control plane, then opens the gateways phase', async () => {
    const { h, issue } = await renderedManifests();
    const fixture = await loadFixture('asm-manifests');
    // What `istioctl manifest generate --set revision=asm-1140-0` would have produced, committed by hand.
    const render = (file: string) =>
      fixture
        .get(`clusters/prod/istio-system/asm-1130-0/${file}`)!
        .replaceAll('asm-1130-0', 'asm-1140-0')
        .replaceAll('1.13.0-asm.0', '1.14.0-asm.0');
    // Half of it (no injector webhook) is not a control plane yet.
    h.sim.pushCommit(
      'main',
      { 'clusters/prod/istio-system/asm-1140-0/istiod.yaml': render('istiod.yaml') },
      'Render istiod asm-1140-0',
      'alice',
    );
    await h.comment('alice', issue, '/upgrade continue');
    expect(h.state(issue)!.phases[0]).toMatchObject({ id: 'control-plane', status: 'open' });
    expect(h.sim.pullRequests()).toEqual([]);
    h.sim.pushCommit(
      'main',
      { 'clusters/prod/istio-system/asm-1140-0/webhooks.yaml': render('webhooks.yaml') },
      'Render webhooks asm-1140-0',
      'alice',
    );
    await h.comment('alice', issue, '/upgrade continue');
    const state = h.state(issue)!;
    expect(state.phases[0]).toMatchObject({ id: 'control-plane', status: 'passed' });
    expect(h.sim.pullRequests().map((p) => p.title)).toEqual([expect.stringContaining('Move gateways to asm-1140-0')]);
    // The first continue is refused (half a control plane); the second is answered with where the upgrade is now.
    const replies = h.botReplies(issue);
    expect(replies).toHaveLength(2);
    expect(replies[1]).toContain('Continued. Upgrade of `prod` to `asm-1140-0`: **running**');
    expect(replies[1]).toContain('Next for alice: review and merge #');
  });
});

describe('phases that need the new control plane', () => {
  it('are never opened while istiod-<new> is missing from the repo, even after the phases before them passed', async () => {
    const { h, issue } = await renderedManifests();
    const path = 'clusters/prod/istio-system/asm-1140-0/istiod.yaml';
    const fixture = await loadFixture('asm-manifests');
    const render = (file: string) => fixture.get(`clusters/prod/istio-system/asm-1130-0/${file}`)!.replaceAll('asm-1130-0', 'asm-1140-0');
    h.sim.pushCommit(
      'main',
      { [path]: render('istiod.yaml'), 'clusters/prod/istio-system/asm-1140-0/webhooks.yaml': render('webhooks.yaml') },
      'Render asm-1140-0',
      'alice',
    );
    await h.comment('alice', issue, '/upgrade continue');
    const open = () => h.sim.pullRequests().find((p) => p.state === 'open')!;
    expect(open().title).toContain('Move gateways');
    await h.merge(open().number);
    await h.comment('alice', issue, '/upgrade continue');
    expect(open().title).toContain('Move workloads');
    await h.merge(open().number);
    // Someone removes the new control plane from git before the default moves.
    h.sim.pushCommit('main', { [path]: null }, 'Remove istiod asm-1140-0', 'alice');
    await h.comment('alice', issue, '/upgrade continue');
    expect(h.sim.pullRequests().map((p) => p.title)).not.toContainEqual(expect.stringContaining('default revision'));
    const state = h.state(issue)!;
    expect(state.status).toBe('paused');
    expect(state.reason).toContain('control plane asm-1140-0 (istiod-asm-1140-0) is not in the repo');
    expect(h.botReplies(issue).at(-1)).toContain('was not opened');
  });

  it('are never opened while it is absent: a control plane installed outside git must be confirmed first', async () => {
    // Only namespaces and workloads in git: asmcli installed the control plane.
    const fixture = await loadFixture('asm-manifests');
    const files = new Map([...fixture].filter(([path]) => path.includes('/apps/') || path.includes('istio-ingress')));
    files.set('.github/mesh-upgrade.yml', CONFIG);
    const h = await DemoHarness.create({ files });
    const issue = h.openIssue('alice', 'Upgrade ASM to 1.14');
    await h.comment('alice', issue, '/upgrade asm-1140-0');
    expect(h.sim.pullRequests()).toEqual([]);
    expect(h.state(issue)?.phases[0]).toMatchObject({ id: 'control-plane', status: 'open' });
    // Confirmed by a maintainer (outside git, nothing else can show it): the gateways phase opens.
    await h.comment('alice', issue, '/upgrade continue');
    expect(h.state(issue)?.phases[0]?.status).toBe('passed');
    expect(h.sim.pullRequests()).toHaveLength(1);
  });
});
