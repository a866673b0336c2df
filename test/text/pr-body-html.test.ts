import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { planUpgrade } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import type { RepoSnapshot } from '../../src/model/snapshot.js';
import { renderPullRequest } from '../../src/text/render.js';
import { loadTemplates } from '../../src/text/templates.js';
import { loadFixture } from '../helpers/fixtures.js';
import { upgradeStateFor } from '../helpers/upgrade-state.js';

/** Phase PR bodies as GitHub shows them: GitHub-flavoured Markdown rendered to HTML. */

const templates = loadTemplates();

function prBody(plan: UpgradePlan, phaseId: string): string {
  const index = plan.phases.findIndex((p) => p.id === phaseId);
  return renderPullRequest(templates, upgradeStateFor(plan), plan.phases[index]!, index, 'manual').body;
}

function html(markdown: string): string {
  return micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()], allowDangerousHtml: true });
}

function headings(page: string): string[] {
  return [...page.matchAll(/<h[23]>(.*?)<\/h[23]>/g)].map((m) => m[1]!);
}

const STYLES = [
  { install: 'manifests', fixture: 'asm-manifests', to: 'asm-1140-0' },
  { install: 'helm', fixture: 'helm-argocd', to: '1-22-1' },
  { install: 'istio-operator', fixture: 'istio-operator', to: '1-22-1' },
] as const;

describe.each(STYLES)('the cleanup PR body of a $install install ($fixture), rendered', ({ install, fixture, to }) => {
  it('has its sections in reading order and every command in a bash code block', async () => {
    const plan = planUpgrade(await loadFixture(fixture), { to });
    expect(plan.install).toBe(install);
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')!;
    const page = html(prBody(plan, 'cleanup'));
    const order = headings(page).filter((h) => ['What changes', 'Why', 'Before merging', 'How to verify', 'How to roll back'].includes(h));
    expect(order).toEqual(['What changes', 'Why', 'Before merging', 'How to verify', 'How to roll back']);
    const code = [...page.matchAll(/<pre><code class="language-bash">([\s\S]*?)<\/code><\/pre>/g)]
      .map((m) => m[1]!)
      .join('\n')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
    for (const command of [...cleanup.manual, ...cleanup.beforeMerge, ...cleanup.verify]) {
      const firstLine = command.split('\n')[0]!.split(/ {3}# /)[0]!;
      expect(code, firstLine).toContain(firstLine);
    }
    // Nothing of the body's own sections leaks into a code block, and no raw HTML but the fold.
    expect(code).not.toContain('###');
    await expect(page).toMatchFileSnapshot(`__snapshots__/pr-body-${install}.html`);
  });
});

describe('comments that still name the old revision', () => {
  it('are listed in the PR of the phase that leaves them (asm-manifests: the default tag file)', async () => {
    const plan = planUpgrade(await loadFixture('asm-manifests'), { to: 'asm-1140-0' });
    const body = prBody(plan, 'default-revision');
    expect(body).toContain('Comments in these files still name `asm-1130-0`');
    expect(body).toMatch(/- `clusters\/prod\/istio-system\/revision-tags\.yaml`, lines? 1/);
    // Its copies' comments are rewritten, so none of them is listed.
    for (const phase of plan.phases)
      for (const file of phase.files.filter((f) => f.action === 'create'))
        for (const line of (file.content ?? '').split('\n').filter((l) => /^\s*#/.test(l)))
          expect(line, file.path).not.toMatch(/asm-1130-0/);
  });

  it('are rewritten in a Helm release copy, whose header named the old revision (helm-argocd)', async () => {
    const fixture = await loadFixture('helm-argocd');
    const file = 'argocd/istiod-1-21-2.yaml';
    const snapshot: RepoSnapshot = new Map(fixture);
    (snapshot as Map<string, string>).set(file, `# Control plane for revision 1-21-2\n${fixture.get(file)}`);
    const plan = planUpgrade(snapshot, { to: '1-22-1' });
    const copy = plan.phases
      .find((p) => p.id === 'control-plane')!
      .files.find((f) => f.action === 'create' && f.content?.includes('name: istiod-1-22-1'));
    expect(copy?.content).toMatch(/^# Control plane for revision 1-22-1\n/);
    expect(prBody(plan, 'control-plane')).not.toContain('still name');
  });
});
