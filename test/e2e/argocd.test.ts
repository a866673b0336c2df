import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ArgoScenario } from '../../demo/argocd/state.js';
import { DemoHarness } from '../../demo/harness.js';
import { ARGO_SCENARIOS } from '../../demo/scenarios/argocd.js';
import { TARGET } from '../../demo/scenarios/drive.js';
import { SCENARIOS } from '../../demo/scenarios.js';
import type { Doc } from '../helpers/doc.js';

async function run(name: string, argocd: ArgoScenario = ARGO_SCENARIOS[name]!, options: { argocdToken?: boolean; drive?: string } = {}) {
  const h = await DemoHarness.create({ argocd, ...(options.argocdToken === false ? { argocdToken: false } : {}) });
  const result = await SCENARIOS[options.drive ?? name]!(h);
  return { h, result, transcript: h.transcript(name, result.trackingIssue) };
}

/** The gate decisions the app logged, in order (`time`: virtual ms). */
function decisions(h: DemoHarness): Array<{ phase: string; decision: string; reason: string; time: number }> {
  return h.logs
    .map((line) => JSON.parse(line) as { msg: string; phase?: string; decision?: string; reason?: string; time: number })
    .filter((l) => l.msg === 'gate decision')
    .map((l) => ({ phase: l.phase!, decision: l.decision!, reason: l.reason!, time: l.time }));
}

describe('Argo CD gate end to end', () => {
  it('argocd-healthy: opens each next phase within 2 s of the gate holding (push signal), one PR per phase', async () => {
    const { h, transcript, result } = await run('argocd-healthy');
    expect(h.sim.violations).toEqual([]);
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual([
      'control-plane',
      'gateways',
      'workloads-1',
      'workloads-2',
      'default-revision',
      'cleanup',
    ]);
    expect(result.gateLatencies).toHaveLength(5);
    for (const { ms } of result.gateLatencies!) expect(ms).toBeLessThan(2_000);
    expect(h.argo!.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('degraded: pauses at gateways, names the degraded resource once, opens nothing further', async () => {
    const { transcript } = await run('degraded');
    expect(transcript.final).toEqual({ status: 'paused', phase: 'gateways' });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual(['control-plane', 'gateways']);
    const failures = transcript.comments.filter((c) => c.body.includes('did not become healthy'));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.body).toContain('Degraded after having been healthy');
    expect(failures[0]!.body).toContain(
      '| Deployment | istio-ingress | istio-ingressgateway | Deployment "istio-ingressgateway" exceeded its progress deadline',
    );
    expect(failures[0]!.body).toContain('/upgrade continue');
  });

  it('stale-status: never passes on health that predates the sync', async () => {
    const { h, transcript } = await run('stale-status');
    expect(transcript.final.status).toBe('completed');
    const log = decisions(h);
    expect(log.some((d) => d.reason.includes('reconciledAt < finishedAt'))).toBe(true);
    // Every pass comes after a stale observation of its phase was replaced by a fresh, held one.
    for (const pass of log.filter((d) => d.decision === 'pass')) {
      const before = log.filter((d) => d.phase === pass.phase && d.time <= pass.time);
      const lastStale = before.filter((d) => d.reason.includes('reconciledAt < finishedAt')).at(-1);
      const holding = before.filter((d) => d.reason.includes('holding for'));
      expect(holding.length, pass.phase).toBeGreaterThan(0);
      if (lastStale) expect(holding[0]!.time, pass.phase).toBeGreaterThanOrEqual(lastStale.time);
    }
  });

  it('argocd-down: waits and says Argo CD is unreachable, then completes with no duplicate PR', async () => {
    const { h, transcript } = await run('argocd-down');
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    expect(new Set(transcript.pullRequests.map((p) => p.phase)).size).toBe(transcript.pullRequests.length);
    expect(
      decisions(h).some((d) => d.decision === 'wait' && /Argo CD at https:\/\/argocd\.sim\.example is unreachable/.test(d.reason)),
    ).toBe(true);
    expect(h.argo!.requests.some((r) => r.status === 0)).toBe(true);
  });
});

describe('restart safety of a waiting gate', () => {
  it('a new app instance resumes the gate from GitHub alone (startup reconcile), without any event', async () => {
    const h = await DemoHarness.create({ argocd: {} });
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, '/upgrade asm-1140-0');
    await h.merge(2);
    // The bot dies with its timers: nothing is scheduled any more.
    h.restart();
    h.scheduler.clear();
    await h.advance(5 * 60_000);
    expect(h.sim.pullRequests()).toHaveLength(1);
    expect(await h.reconcileOnStartup()).toBe(1);
    await h.advance(3 * 60_000);
    expect(h.sim.pullRequests().map((p) => p.head.ref)).toEqual([
      'mesh-upgrade/prod/asm-1140-0/01-control-plane',
      'mesh-upgrade/prod/asm-1140-0/02-gateways',
    ]);
    expect(h.sim.violations.join('\n')).toBe('');
  });
});

describe('Argo CD answering garbage', () => {
  it('pauses with a clear reason instead of crashing, and resumes on /upgrade continue once Argo CD is sane', async () => {
    const h = await DemoHarness.create({ argocd: { garbageBetween: [0, 60_000] } });
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, '/upgrade asm-1140-0');
    await h.merge(2);
    expect(h.state(issue)).toMatchObject({ status: 'paused' });
    expect(h.state(issue)?.reason).toContain('with something that is not JSON');
    expect(h.sim.comments(issue).filter((c) => (c.body ?? '').includes('did not become healthy'))).toHaveLength(1);
    await h.advance(2 * 60_000);
    await h.comment('alice', issue, '/upgrade continue');
    await h.advance(3 * 60_000);
    expect(h.sim.pullRequests().map((p) => p.head.ref.split('/').pop())).toEqual(['01-control-plane', '02-gateways']);
  });
});

describe('issue 11: Argo CD as its source says it behaves', () => {
  it('multi-source: the istio chart first, this repo (by ssh, Example-Org) second — follows this repo’s revision and completes; warnings on the phase line (items 1, 3)', async () => {
    const { h, transcript } = await run('multi-source');
    expect(h.sim.violations).toEqual([]);
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual([
      'control-plane',
      'gateways',
      'workloads-1',
      'workloads-2',
      'default-revision',
      'cleanup',
    ]);
    expect(h.argo!.requests.every((r) => r.status === 200)).toBe(true);
    // Waits on "not seen" end once Argo CD compared the merge commit: never a 30-minute wait on the chart's version.
    const log = decisions(h);
    expect(log.filter((d) => d.decision === 'pass')).toHaveLength(6);
    for (const pass of log.filter((d) => d.decision === 'pass'))
      expect(pass.time - log.find((d) => d.phase === pass.phase)!.time, pass.phase).toBeLessThan(3 * 60_000);
    const state = h.state(result(transcript))!;
    expect(
      state.phases.every((p) =>
        p.note?.includes(
          '⚠ prod-mesh: RepeatedResourceWarning: Resource /ServiceAccount/istio-system/istio-reader-service-account appeared 2 times',
        ),
      ),
    ).toBe(true);
  });

  it('suspended: the paused gateway Deployment pauses the upgrade at once, naming it and how to resume it (item 4)', async () => {
    const { h, transcript } = await run('suspended');
    expect(transcript.final).toEqual({ status: 'paused', phase: 'gateways' });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual(['control-plane', 'gateways']);
    const failures = transcript.comments.filter((c) => c.body.includes('did not become healthy'));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.body).toContain(
      'prod-mesh: Suspended: Deployment istio-ingress/istio-ingressgateway (Deployment is paused). Nothing resumes it by itself: a person must (kubectl -n istio-ingress rollout resume deployment/istio-ingressgateway',
    );
    expect(failures[0]!.body).toContain('| Deployment | istio-ingress | istio-ingressgateway | Deployment is paused |');
    // At once: within a minute of the gateways merge, not after the 30-minute timeout.
    const gateways = decisions(h).filter((d) => d.phase === 'gateways');
    expect(gateways.at(-1)!.decision).toBe('fail');
    expect(gateways.at(-1)!.time - gateways[0]!.time).toBeLessThan(60_000);
  });

  it('sync-error: the rejected IstioOperator pauses the upgrade naming Argo CD’s SyncError condition and the resource (items 3, 8)', async () => {
    const { h, transcript } = await run('sync-error');
    expect(transcript.final).toEqual({ status: 'paused', phase: 'control-plane' });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual(['control-plane']);
    const failure = transcript.comments.find((c) => c.body.includes('did not become healthy'))!;
    expect(failure.body).toMatch(
      /prod-mesh: SyncError: Failed last sync attempt to \[[0-9a-f]{40}\]: one or more objects failed to apply, reason: admission webhook "validate\.kyverno\.svc-fail" denied the request/,
    );
    expect(failure.body).toContain(`| IstioOperator | istio-system | istiocontrolplane-${TARGET} | admission webhook`);
    const control = decisions(h).filter((d) => d.phase === 'control-plane');
    expect(control.at(-1)!.time - control[0]!.time).toBeLessThan(60_000);
  });

  it('reconciledAt = finishedAt to the second (a comparison begun as the sync ended): never holds or passes on the pre-sync health (item 5)', async () => {
    const { h, transcript } = await run('stale-status', { staleMs: 20_000, staleTie: true });
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    const log = decisions(h);
    expect(log.some((d) => d.reason.includes('reconciledAt = finishedAt'))).toBe(true);
    const syncs = h.argo!.syncs;
    expect(syncs.length).toBeGreaterThanOrEqual(6);
    for (const d of log.filter((x) => x.decision === 'pass' || x.reason.includes('holding for'))) {
      const stale = syncs.find((s) => s.finishedAt <= d.time && d.time < (s.freshAt ?? Infinity));
      expect(stale, `${d.phase} at ${new Date(d.time).toISOString()}: ${d.reason}`).toBeUndefined();
    }
  });

  it('token-free: a success posted while the gateways still roll out (the catalog on-deployed trigger on the pre-sync health) does not pass; the failure after it pauses the upgrade (item 6)', async () => {
    const { h, transcript } = await run(
      'degraded',
      { notifications: true, staleMs: 20_000, degradeGatewayOn: TARGET },
      { argocdToken: false },
    );
    expect(h.argo!.requests).toEqual([]);
    expect(transcript.final).toEqual({ status: 'paused', phase: 'gateways' });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual(['control-plane', 'gateways']);
    const gateways = decisions(h).filter((d) => d.phase === 'gateways');
    expect(gateways.some((d) => d.reason.includes('Argo CD Notifications reported prod-mesh deployed; holding for another'))).toBe(true);
    expect(gateways.some((d) => d.decision === 'pass')).toBe(false);
    expect(gateways.at(-1)).toMatchObject({
      decision: 'fail',
      reason: 'failed: Argo CD reported prod-mesh failure: Argo CD: health degraded',
    });
  });

  it('token-free: completes when no failure follows a success within the stability window (item 6)', async () => {
    const { h, transcript } = await run('argocd-healthy', { notifications: true, staleMs: 20_000 }, { argocdToken: false });
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    const log = decisions(h);
    for (const pass of log.filter((d) => d.decision === 'pass')) {
      const first = log.find((d) => d.phase === pass.phase && d.reason.includes('holding for another 660 s'))!;
      expect(pass.time - first.time, pass.phase).toBeGreaterThanOrEqual(660_000);
    }
    // A whole upgrade on simulated time, polled every few seconds: slow on a busy machine.
  }, 120_000);

  it('token-free: gateways whose pods never become ready — on-deployed fires on the pre-sync health, Degraded comes only after the 600 s progress deadline — never pass (review item 2)', async () => {
    const { h, transcript } = await run(
      'degraded',
      { notifications: true, staleMs: 20_000, neverReadyGatewayOn: TARGET },
      { argocdToken: false },
    );
    expect(h.argo!.requests).toEqual([]);
    expect(transcript.final).toEqual({ status: 'paused', phase: 'gateways' });
    expect(transcript.pullRequests.map((p) => p.phase)).toEqual(['control-plane', 'gateways']);
    const gateways = decisions(h).filter((d) => d.phase === 'gateways');
    const holding = gateways.find((d) => d.reason.includes('Argo CD Notifications reported prod-mesh deployed; holding for another'))!;
    expect(holding).toBeDefined();
    expect(gateways.at(-1)).toMatchObject({
      decision: 'fail',
      reason: 'failed: Argo CD reported prod-mesh failure: Argo CD: health degraded',
    });
    expect(gateways.at(-1)!.time - holding.time).toBeGreaterThanOrEqual(590_000);
  });

  it.each<[string, ArgoScenario, string | null]>([
    ['an application Argo CD does not have', {}, 'prod-mesh-typo'],
    ['an application the token’s RBAC may not read', { forbidden: ['prod-mesh'] }, null],
  ])('%s: Argo CD’s 403, and the pause names the application and both causes (item 7)', async (_name, scenario, configured) => {
    const h = await DemoHarness.create({ argocd: scenario });
    if (configured) {
      const config = h.sim.filesAt('main').get('.github/mesh-upgrade.yml')!;
      h.sim.pushCommit(
        'main',
        { '.github/mesh-upgrade.yml': config.replace('applications: [prod-mesh]', `applications: [${configured}]`) },
        'Misspell the application',
        'alice',
      );
    }
    const issue = h.openIssue('alice', 'Upgrade ASM');
    await h.comment('alice', issue, `/upgrade ${TARGET}`);
    await h.merge(2);
    const name = configured ?? 'prod-mesh';
    expect(h.state(issue)).toMatchObject({ status: 'paused' });
    expect(h.state(issue)!.reason).toContain(
      `Argo CD answered 403 permission denied reading application ${name}: either no application is named "${name}"`,
    );
    expect(h.state(issue)!.reason).toContain('or its RBAC does not let the token "get" it');
    expect(h.argo!.requests.map((r) => r.status)).toContain(403);
  });

  it('waits through a requested sync, a refresh that times out and an Unknown health, saying so, then completes (item 8)', async () => {
    const scenario: ArgoScenario = {
      staleMs: 20_000,
      requestedMs: 12_000,
      refreshDeadlineBetween: [0, 60 * 60_000],
      healthBetween: { status: 'Unknown', message: 'failed to get resource health for "IstioOperator"', between: [0, 60_000] },
    };
    const { h, transcript } = await run('stale-status', scenario);
    expect(transcript.final).toEqual({ status: 'completed', phase: null });
    const reasons = decisions(h).map((d) => d.reason);
    expect(reasons.some((r) => r.includes('a sync is requested'))).toBe(true);
    expect(
      reasons.some((r) =>
        r.includes('asked to refresh: Argo CD answered 500 reading application prod-mesh: application refresh deadline exceeded'),
      ),
    ).toBe(true);
    expect(
      reasons.some((r) => r.includes('health Unknown: Argo CD could not assess it (failed to get resource health for "IstioOperator")')),
    ).toBe(true);
    expect(h.argo!.requests.map((r) => r.status)).toContain(500);
  });
});

/** The tracking issue of a transcript (the first issue with the plan). */
function result(transcript: { comments: Array<{ issue: number; body: string }> }): number {
  return transcript.comments.find((c) => c.body.includes('mesh-upgrade-state'))!.issue;
}

describe('the simulated Argo CD answers like Argo CD (item 8)', () => {
  async function harness(scenario: ArgoScenario) {
    const h = await DemoHarness.create({ argocd: scenario });
    const get = async (path: string, token = 'argocd-sim-token') => {
      const response = await h.argo!.fetch(`${h.argo!.server}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as Doc };
    };
    return { h, get };
  }
  const WHOLE_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

  it('errors: 403 permission denied for an unknown application (404 only with project), 401 for a bad or expired token', async () => {
    const { h, get } = await harness({ unauthenticatedBetween: [60_000, 120_000] });
    expect(await get('/api/v1/applications/nope')).toEqual({
      status: 403,
      body: { error: 'permission denied', code: 7, message: 'permission denied' },
    });
    expect(await get('/api/v1/applications/nope/resource-tree')).toEqual({
      status: 403,
      body: { error: 'permission denied', code: 7, message: 'permission denied' },
    });
    expect(await get('/api/v1/applications/nope?project=default')).toEqual({
      status: 404,
      body: { error: 'applications.argoproj.io "nope" not found', code: 5, message: 'applications.argoproj.io "nope" not found' },
    });
    expect(await get('/api/v1/applications/prod-mesh', 'wrong')).toMatchObject({ status: 401, body: { code: 16 } });
    await h.advance(60_000);
    expect(await get('/api/v1/applications/prod-mesh')).toEqual({
      status: 401,
      body: {
        error: 'invalid session: token has invalid claims: token is expired',
        code: 16,
        message: 'invalid session: token has invalid claims: token is expired',
      },
    });
  });

  it('a sync: requested (operation set), Running (operation still set), Succeeded (operation cleared), times in whole seconds', async () => {
    const { h, get } = await harness({ requestedMs: 3_000, syncMs: 4_000 });
    await get('/api/v1/applications/prod-mesh');
    h.sim.pushCommit(
      'main',
      { 'clusters/prod/apps/x.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: istio-system}\n' },
      'Touch',
      'alice',
    );
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) {
      await h.advance(1000);
      const { body } = await get('/api/v1/applications/prod-mesh');
      const phase = body.status.operationState?.phase ?? 'none';
      seen.push(`${body.operation ? 'operation' : '-'}/${phase}/${body.status.sync.status}`);
      for (const time of [
        body.status.reconciledAt,
        body.status.operationState?.startedAt,
        body.status.operationState?.finishedAt,
        body.status.health.lastTransitionTime,
      ].filter(Boolean))
        expect(time).toMatch(WHOLE_SECONDS);
    }
    expect([...new Set(seen)]).toEqual([
      '-/none/OutOfSync',
      'operation/none/OutOfSync',
      'operation/Running/OutOfSync',
      '-/Succeeded/Synced',
    ]);
  });

  it('multi-source: spec.sources, one revision per source in status.sync.revisions and syncResult.revisions, no sync.revision', async () => {
    const { get } = await harness({ multiSource: { configRepoURL: 'git@github.com:Example-Org/cluster-config.git' } });
    const { body } = await get('/api/v1/applications/prod-mesh');
    expect(body.spec.source).toBeUndefined();
    expect(body.spec.sources.map((s: { repoURL: string }) => s.repoURL)).toEqual([
      'https://istio-release.storage.googleapis.com/charts',
      'git@github.com:Example-Org/cluster-config.git',
    ]);
    expect(body.status.sync.revision).toBeUndefined();
    expect(body.status.sync.revisions).toEqual(['1.14.0', expect.stringMatching(/^[0-9a-f]{40}$/)]);
  });

  it('Missing and Unknown health, conditions, and a refresh answered 500 "application refresh deadline exceeded"', async () => {
    const { h, get } = await harness({
      healthBetween: { status: 'Missing', between: [0, 30_000] },
      conditions: [{ type: 'OrphanedResourceWarning', message: 'Application has 1 orphaned resources' }],
      refreshDeadlineBetween: [0, 30_000],
    });
    const { body } = await get('/api/v1/applications/prod-mesh');
    expect(body.status.health.status).toBe('Missing');
    expect(body.status.conditions).toEqual([
      {
        type: 'OrphanedResourceWarning',
        message: 'Application has 1 orphaned resources',
        lastTransitionTime: expect.stringMatching(WHOLE_SECONDS),
      },
    ]);
    expect(await get('/api/v1/applications/prod-mesh?refresh=normal')).toEqual({
      status: 500,
      body: { error: 'application refresh deadline exceeded', code: 2, message: 'application refresh deadline exceeded' },
    });
    await h.advance(30_000);
    expect((await get('/api/v1/applications/prod-mesh?refresh=normal')).body.status.health.status).toBe('Healthy');
  });
});

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('configures the current catalog on-deployed trigger, quoted exactly, and a failure status (item 6)', () => {
    // argoproj/argo-cd notifications_catalog/triggers/on-deployed.yaml (since #22204).
    const when =
      "when: app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy' and (!time.Parse(app.status.health.lastTransitionTime).Add(1 * time.Minute).Before(time.Parse(app.status.operationState.finishedAt)) or time.Parse(app.status.health.lastTransitionTime).Before(time.Parse(app.status.operationState.startedAt)))";
    expect(readme).toContain(when);
    expect(readme).toContain('oncePer: app.status.operationState?.syncResult?.revision');
    expect(readme).not.toContain("when: app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'\n");
    expect(readme).toContain('state: failure');
  });

  it('lists every Argo CD demo scenario (item 8)', () => {
    for (const name of Object.keys(ARGO_SCENARIOS)) expect(readme, name).toContain(`\`${name}\``);
  });
});
