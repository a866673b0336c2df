import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { DemoHarness } from '../../demo/harness.js';
import { TARGET } from '../../demo/scenarios/drive.js';
import { FIRST_CANARY_TARGET, scenarioRepo } from '../../demo/scenarios/first-canary.js';
import { SCENARIOS } from '../../demo/scenarios.js';
import { parseStateBlock } from '../../src/core/state.js';
import { injectorsFor } from '../helpers/injection.js';

const PHASES = ['control-plane', 'gateways', 'workloads-1', 'workloads-2', 'default-revision', 'cleanup'];
const FILES: Record<string, string[]> = {
  'control-plane': ['clusters/prod/istio-system/istiocontrolplane-asm-1140-0.yaml'],
  gateways: ['clusters/prod/istio-ingress/gateway.yaml', 'clusters/prod/istio-ingress/namespace.yaml'],
  'workloads-1': ['clusters/prod/apps/search/namespace.yaml', 'clusters/prod/apps/search/statefulset.yaml'],
  'workloads-2': ['clusters/prod/apps/shop/deployments.yaml', 'clusters/prod/apps/shop/namespace.yaml'],
  'default-revision': ['clusters/prod/istio-system/istiod-service.yaml', 'clusters/prod/istio-system/revision-tags.yaml'],
  cleanup: ['clusters/prod/istio-system/istiocontrolplane-asm-1130-0.yaml'],
};

async function run(name: string) {
  const h = await DemoHarness.create();
  const result = await SCENARIOS[name]!(h);
  return { h, result, transcript: h.transcript(name, result.trackingIssue) };
}

describe.each(['happy', 'duplicate-delivery', 'restart', 'concurrent'])('scenario %s', (name) => {
  it('completes with exactly one pull request per phase, in phase order, each with its files', async () => {
    const { h, transcript, result } = await run(name);

    expect(h.sim.violations).toEqual([]);
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    expect(transcript.pullRequests.map((pr) => pr.phase)).toEqual(PHASES);
    expect(transcript.pullRequests.every((pr) => pr.state === 'merged')).toBe(true);
    for (const pr of transcript.pullRequests) expect(pr.files, pr.phase).toEqual(FILES[pr.phase]);
    expect(transcript.pullRequests.map((pr) => pr.branch)).toEqual(
      PHASES.map((p, i) => `mesh-upgrade/prod/${TARGET}/${String(i + 1).padStart(2, '0')}-${p}`),
    );
    // Every phase PR costs a handful of requests from the gate pass, whatever the repo size.
    for (const { phase, requests } of result.requestsPerPhase) expect(requests, phase).toBeLessThanOrEqual(16);
    // One sticky plan comment, edited in place, on the tracking issue.
    const botComments = transcript.comments.filter((c) => c.issue === result.trackingIssue && c.author === h.sim.botLogin);
    expect(botComments.filter((c) => c.body.includes('mesh-upgrade-state'))).toHaveLength(1);
    // The lock is released once the upgrade completes.
    expect([...h.sim.refs().keys()].filter((r) => r.includes('locks'))).toEqual([]);
  });
});

describe('rollback after cleanup', () => {
  it('is refused with the reason and the downgrade to use instead', async () => {
    const { h, result } = await run('happy');
    await h.comment('alice', result.trackingIssue!, '/upgrade rollback');
    const reply = h.sim.comments(result.trackingIssue!).at(-1)!;
    expect(reply.user?.login).toBe(h.sim.botLogin);
    expect(reply.body).toContain('Rollback refused: the cleanup phase removed `asm-1130-0`');
    expect(reply.body).toContain('/upgrade asm-1130-0 --downgrade');
    expect(h.sim.pullRequests()).toHaveLength(6);
  });
});

describe('scenario unauthorized', () => {
  it('refuses visibly, naming the permission required, and changes nothing', async () => {
    const { h, transcript } = await run('unauthorized');
    expect(transcript.final).toEqual({ status: 'refused', phase: null });
    expect(transcript.pullRequests).toEqual([]);
    const replies = transcript.comments.filter((c) => c.author === h.sim.botLogin);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('`/upgrade` needs **write** permission on this repository. Nothing was changed.');
    // Nobody is mentioned: a refusal must not become a notification.
    expect(replies[0]!.body).not.toContain('@bob');
    expect(
      transcript.githubRequests.filter(
        (r) => r.method !== 'GET' && !r.path.includes('reactions') && !r.path.includes('access_tokens') && !r.path.endsWith('/comments'),
      ),
    ).toEqual([]);
    expect([...h.sim.branches().keys()]).toEqual(['main']);
  });
});

describe('scenario concurrent', () => {
  it('lets one issue hold the cluster and tells the other where the upgrade runs', async () => {
    const { h, result } = await run('concurrent');
    const loser = result.trackingIssue === 1 ? 2 : 1;
    const replies = h.sim.comments(loser).filter((c) => c.user?.login === h.sim.botLogin);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain(`An upgrade of cluster \`prod\` is already in progress in #${result.trackingIssue}`);
    expect(h.state(loser)).toBeNull();
  });
});

describe('scenario rollback', () => {
  it('undoes the merged phases as reviewed PRs and ends rolled back, every namespace on the old revision', async () => {
    const { h, transcript } = await run('rollback');
    expect(h.sim.violations).toEqual([]);
    expect(transcript.final).toEqual({ status: 'rolled-back', phase: null });
    const rollbackPrs = transcript.pullRequests.filter((p) => p.phase.startsWith('rollback-'));
    expect(rollbackPrs.map((p) => [p.phase, p.state])).toEqual([
      ['rollback-workloads-1', 'merged'],
      ['rollback-gateways', 'merged'],
      ['rollback-cleanup', 'merged'],
    ]);
    expect(transcript.pullRequests.find((p) => p.phase === 'workloads-2')?.state).toBe('closed');
    const files = h.sim.filesAt('main');
    for (const ns of ['search', 'shop']) expect(files.get(`clusters/prod/apps/${ns}/namespace.yaml`)).toContain('istio.io/rev: ');
    const values = [...files]
      .filter(([p]) => p.startsWith('clusters/prod/'))
      .map(([, t]) => t)
      .join('\n');
    expect(values).not.toMatch(/istio\.io\/rev: ["']?asm-1140-0/);
    expect(files.has('clusters/prod/istio-system/istiocontrolplane-asm-1140-0.yaml')).toBe(false);
    expect(files.has('clusters/prod/istio-system/istiocontrolplane-asm-1130-0.yaml')).toBe(true);
  });
});

describe('scenario downgrade', () => {
  it('refuses a downgrade that was not asked for, then runs it as a canary when it is', async () => {
    const { h, transcript } = await run('downgrade');
    const refusal = transcript.comments.find((c) => c.author === h.sim.botLogin && c.body.includes('older than the running'));
    expect(refusal?.body).toContain('--downgrade');
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    expect(h.sim.filesAt('main').has('clusters/prod/istio-system/istiocontrolplane-asm-1120-0.yaml')).toBe(true);
  });
});

describe('scenario waves', () => {
  it('moves the canary first, then waves that never exceed the pod budget', async () => {
    const { h, transcript } = await run('waves');
    expect(transcript.final.status).toBe('completed');
    const waves = transcript.pullRequests.filter((p) => p.phase.startsWith('workloads-'));
    expect(waves.map((p) => p.phase)).toEqual(['workloads-1', 'workloads-2', 'workloads-3', 'workloads-4', 'workloads-5']);
    expect(waves[0]!.files).toEqual(['clusters/prod/apps/search/namespace.yaml', 'clusters/prod/apps/search/statefulset.yaml']);
    // billing 3, ledger 2 + notify 1, reports 4: each wave within 4 pods; shop (5) gets a wave of its own.
    expect(waves.slice(1).map((p) => p.title.replace(/^.*\((.*)\)$/, '$1'))).toEqual([
      'wave 2 of 5: billing',
      'wave 3 of 5: ledger, notify',
      'wave 4 of 5: reports',
      'wave 5 of 5: shop',
    ]);
    expect(waves.at(-1)!.files.every((f) => f.includes('/shop/'))).toBe(true);
    expect(h.sim.violations).toEqual([]);
  });
});

describe('scenario scale-then-delete', () => {
  it('scales the old istiod down first and opens cleanup only after the grace period', async () => {
    const { h, transcript } = await run('scale-then-delete');
    expect(h.sim.violations).toEqual([]);
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    const phases = transcript.pullRequests.map((p) => p.phase);
    expect(phases.slice(-2)).toEqual(['scale-down', 'cleanup']);
    const scaleDown = transcript.pullRequests.find((p) => p.phase === 'scale-down')!;
    const cleanup = transcript.pullRequests.find((p) => p.phase === 'cleanup')!;
    expect(scaleDown.files).toEqual(['clusters/prod/istio-system/istiocontrolplane-asm-1130-0.yaml']);
    expect(cleanup.files).toEqual(['clusters/prod/istio-system/istiocontrolplane-asm-1130-0.yaml']);
    // The cleanup PR was opened a day after the scale-down merged, not before.
    const created = (n: number) => Date.parse(h.sim.pullRequests().find((p) => p.number === n)!.created_at);
    const merged = Date.parse(h.sim.pullRequests().find((p) => p.number === scaleDown.number)!.merged_at!);
    expect(created(cleanup.number) - merged).toBeGreaterThanOrEqual(24 * 3_600_000);
  });
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

describe('scenario first-canary', () => {
  async function runFirstCanary() {
    const h = await DemoHarness.create({ files: (await scenarioRepo('first-canary'))! });
    const result = await SCENARIOS['first-canary']!(h);
    return { h, result, transcript: h.transcript('first-canary', result.trackingIssue) };
  }

  it('starts from the non-revisioned render, waits for the committed control plane, then opens one PR per phase to completion', async () => {
    const { h, result, transcript } = await runFirstCanary();
    expect(h.sim.violations).toEqual([]);
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    // The control plane's render is the maintainer's commit; its PR carries the twin of the overlay's
    // name-keyed istiod patch. `default` moves before the restarts (tag strategy).
    expect(transcript.pullRequests.map((pr) => [pr.phase, pr.state])).toEqual([
      ['control-plane', 'merged'],
      ['gateways', 'merged'],
      ['default-revision', 'merged'],
      ['workloads', 'merged'],
      ['cleanup', 'merged'],
    ]);
    const files = Object.fromEntries(transcript.pullRequests.map((pr) => [pr.phase, pr.files]));
    expect(files['control-plane']).toEqual(
      expect.arrayContaining([
        'clusters/prod/istio-system/kustomization.yaml',
        'clusters/prod/istio-system/patches/istiod-resources-1-22-1.yaml',
      ]),
    );
    expect(files['default-revision']).toEqual([
      'clusters/prod/istio-system/istio-revision-tag-default.yaml',
      'clusters/prod/istio-system/kustomization.yaml',
      'clusters/prod/istio-system/rendered/istio.yaml',
    ]);
    expect(files.workloads).toEqual(['clusters/prod/apps/orders/orders.yaml', 'clusters/prod/apps/web/frontend.yaml']);
    expect(transcript.pullRequests.map((pr) => pr.branch)).toEqual(
      ['01-control-plane', '02-gateways', '03-default-revision', '04-workloads', '05-cleanup'].map(
        (p) => `mesh-upgrade/prod/${FIRST_CANARY_TARGET}/${p}`,
      ),
    );
    for (const { phase, requests } of result.requestsPerPhase) expect(requests, phase).toBeLessThanOrEqual(16);
    // `/upgrade continue` before the render was committed: the control-plane PR (the twin patches) waits.
    const replies = h.sim
      .comments(result.trackingIssue!)
      .filter((c) => c.user?.login === h.sim.botLogin && parseStateBlock(c.body ?? '', h.stateKey).kind === 'none')
      .filter((c) => !c.body?.includes('mesh-upgrade-handover'));
    expect(replies[0]?.body).toContain(`Install control plane ${FIRST_CANARY_TARGET} beside default* is waiting for its pull request`);
    expect([...h.sim.refs().keys()].filter((r) => r.includes('locks'))).toEqual([]);
  });

  it.skipIf(!kubectl)('ends with one injector for every meshed pod, the istiod Service repointed, shared objects kept', async () => {
    const { h } = await runFirstCanary();
    const dir = await mkdtemp(join(tmpdir(), 'first-canary-e2e-'));
    for (const [path, text] of h.sim.filesAt('main')) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    type Doc = { kind: string; metadata: { name: string; namespace?: string }; spec?: { selector?: Record<string, string> } };
    const objects = (loadAll(execFileSync('kubectl', ['kustomize', join(dir, 'clusters/prod')], { encoding: 'utf8' })) as Doc[]).filter(
      Boolean,
    );
    const injectors = (ns: string, labels: Record<string, string> = {}) =>
      injectorsFor(objects as never, ns, labels).map((hit) => hit.split(' -> ')[1]);
    for (const ns of ['web', 'orders', 'istio-ingress']) expect(injectors(ns), ns).toEqual([`istiod-${FIRST_CANARY_TARGET}`]);
    expect(injectors('monitoring')).toEqual([]);
    expect(objects.find((o) => o.kind === 'Service' && o.metadata.name === 'istiod')?.spec?.selector).toEqual({
      app: 'istiod',
      'istio.io/rev': FIRST_CANARY_TARGET,
    });
    const names = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const kept of [
      'Namespace/istio-system',
      'ValidatingWebhookConfiguration/istiod-default-validator',
      'CustomResourceDefinition/peerauthentications.security.istio.io',
    ])
      expect(names.has(kept), kept).toBe(true);
    for (const gone of ['Deployment/istiod', 'MutatingWebhookConfiguration/istio-sidecar-injector'])
      expect(names.has(gone), gone).toBe(false);
  });
});

describe('README', () => {
  it('documents every demo scenario and the supported starting points', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(SCENARIOS)) expect(readme, name).toContain(`\`${name}\``);
    expect(readme).toContain('## Supported starting points');
    expect(readme).toContain('`several-non-revisioned`');
  });
});
