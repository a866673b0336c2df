import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArgoCdHealthGate } from '../../../src/adapters/argocd/argocd-health-gate.js';
import { ArgoCdClient } from '../../../src/adapters/argocd/client.js';
import { GitHubApiError } from '../../../src/adapters/github/errors.js';
import { type GateQuestion, knownFacts } from '../../../src/core/gate.js';
import type { Doc } from '../../helpers/doc.js';

const X = 'a'.repeat(40);
const OTHER = 'c'.repeat(40);
const multiSource = JSON.parse(
  readFileSync(new URL('../../fixtures/argocd/prod-mesh-multi-source-synced-healthy.json', import.meta.url), 'utf8').replaceAll(
    'MERGE_SHA',
    X,
  ),
) as Doc;

const question: GateQuestion = {
  cluster: 'prod',
  phase: 'control-plane',
  mergeSha: X,
  continued: false,
  now: new Date('2026-11-22T10:05:00Z'),
  mergedAt: new Date('2026-11-22T10:00:50Z'),
  healthySince: new Date('2026-11-22T10:02:00Z'),
  wasHealthy: true,
  facts: knownFacts(['prod-mesh']),
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A gate on an Argo CD that answers `application` (and a refresh as `refresh` says), with a compare that records what it is asked. */
function gate(
  application: unknown,
  options: {
    refresh?: () => Response;
    compare?: (base: string, head: string) => Promise<'identical' | 'ahead' | 'behind' | 'diverged'>;
  } = {},
) {
  const compared: Array<[string, string]> = [];
  const fetch = (async (input: string | URL | Request) => {
    const url = String(input);
    if (url.endsWith('/resource-tree')) return json(200, { nodes: [] });
    if (url.includes('refresh=') && options.refresh) return options.refresh();
    return json(200, application);
  }) as typeof globalThis.fetch;
  const client = new ArgoCdClient({ server: 'https://argocd.example.com', token: 't', fetch });
  const compare = async (base: string, head: string) => {
    compared.push([base, head]);
    return options.compare ? options.compare(base, head) : 'ahead';
  };
  return {
    compared,
    gate: new ArgoCdHealthGate({
      client,
      repo: { owner: 'example-org', repo: 'cluster-config' },
      compare,
      stabilityWindowMs: 60_000,
      timeoutMs: 30 * 60_000,
    }),
  };
}

describe('ArgoCdHealthGate on a multi-source application (issue 11 item 1)', () => {
  it('the chart first: relates only the config repo’s revision to X and passes', async () => {
    const { gate: g, compared } = gate(multiSource);
    const outcome = await g.evaluate(question);
    expect(outcome.decision.status).toBe('pass');
    expect(compared).toEqual([]);
  });

  it('another git repository first: compares the config repo’s revision, never the other repository’s commit', async () => {
    const app = structuredClone(multiSource);
    app.spec.sources = [
      { repoURL: 'https://github.com/example-org/platform-manifests.git', path: 'istio', targetRevision: 'main' },
      { repoURL: 'git@github.com:example-org/cluster-config.git', path: 'clusters/prod', targetRevision: 'main' },
    ];
    app.status.sync.revisions = [OTHER, 'd'.repeat(40)];
    app.status.operationState.syncResult.revisions = app.status.sync.revisions;
    const { gate: g, compared } = gate(app, {
      compare: async (_base, head) => (head === OTHER ? Promise.reject(new GitHubApiError('compare commits', 404, 'Not Found')) : 'ahead'),
    });
    const outcome = await g.evaluate(question);
    expect(compared).toEqual([[X, 'd'.repeat(40)]]);
    expect(outcome.decision.status).toBe('pass');
  });

  it('no source is the config repo: pauses at once with the reason', async () => {
    const app = structuredClone(multiSource);
    app.spec.sources = [{ repoURL: 'https://github.com/argoproj/argocd-example-apps.git', path: 'some/path' }];
    const outcome = await gate(app).gate.evaluate(question);
    expect(outcome.decision).toEqual({
      status: 'fail',
      reason:
        'prod-mesh: none of its 1 sources is the config repo example-org/cluster-config (https://github.com/argoproj/argocd-example-apps.git), so it cannot show the merge commit',
      resources: [],
    });
  });

  it('a revision GitHub does not have in the config repo: pauses with the reason instead of throwing', async () => {
    const app = structuredClone(multiSource);
    app.status.sync.revisions = ['1.14.0', OTHER, OTHER];
    const outcome = await gate(app, {
      compare: () => Promise.reject(new GitHubApiError('compare commits', 404, 'Not Found')),
    }).gate.evaluate(question);
    expect(outcome.decision.status === 'fail' && outcome.decision.reason).toBe(
      `prod-mesh: Argo CD reports revision ${OTHER}, which example-org/cluster-config does not have (GitHub answered 404): the application does not track this repository`,
    );
  });
});

describe('ArgoCdHealthGate passes on what Argo CD says besides the decision', () => {
  it('hands the warning conditions to the phase line (item 3)', async () => {
    const app = structuredClone(multiSource);
    app.status.conditions = [
      { type: 'SharedResourceWarning', message: 'Namespace/istio-system is part of applications argocd/prod-mesh and argocd/prod-base' },
    ];
    const outcome = await gate(app).gate.evaluate(question);
    expect(outcome.decision.status).toBe('pass');
    expect(outcome.warnings).toEqual([
      'prod-mesh: SharedResourceWarning: Namespace/istio-system is part of applications argocd/prod-mesh and argocd/prod-base',
    ]);
  });

  it('a refresh answered 500 "application refresh deadline exceeded" keeps the wait and says so (item 8)', async () => {
    const app = structuredClone(multiSource);
    app.status.reconciledAt = app.status.operationState.finishedAt;
    const outcome = await gate(app, {
      refresh: () =>
        json(500, { error: 'application refresh deadline exceeded', code: 2, message: 'application refresh deadline exceeded' }),
    }).gate.evaluate({ ...question, healthySince: null, wasHealthy: false });
    expect(outcome.decision).toEqual({
      status: 'wait',
      reason:
        'prod-mesh: status may predate the last sync (reconciledAt = finishedAt, whole seconds) (0/2 checks); asked to refresh: Argo CD answered 500 reading application prod-mesh: application refresh deadline exceeded',
    });
  });
});

describe('ArgoCdHealthGate: an Argo CD that does not answer, or answers 5xx, waits up to the phase timeout (review items 3, 5)', () => {
  const late = { ...question, now: new Date('2026-11-22T10:31:00Z'), healthySince: null, wasHealthy: false };
  const onTime = { ...question, healthySince: null, wasHealthy: false };
  const gateOn = (fetch: typeof globalThis.fetch) =>
    new ArgoCdHealthGate({
      client: new ArgoCdClient({ server: 'https://argocd.example.com', token: 't', fetch }),
      repo: { owner: 'example-org', repo: 'cluster-config' },
      compare: async () => 'ahead',
      stabilityWindowMs: 60_000,
      timeoutMs: 30 * 60_000,
    });
  const unreachable = gateOn((async () =>
    Promise.reject(new TypeError('fetch failed: getaddrinfo ENOTFOUND argocd.example.com'))) as typeof globalThis.fetch);

  it('unreachable (DNS, CA, host): waits, then fails once the phase timeout from the merge has run out', async () => {
    expect((await unreachable.evaluate(onTime)).decision).toEqual({
      status: 'wait',
      reason: 'Argo CD at https://argocd.example.com is unreachable (reading application prod-mesh)',
    });
    expect((await unreachable.evaluate(late)).decision).toEqual({
      status: 'fail',
      reason: 'timed out after 30 min: Argo CD at https://argocd.example.com is unreachable (reading application prod-mesh)',
      resources: [],
    });
  });

  it.each([502, 503, 504])('%i through an ingress while the server restarts: a wait, bounded by the phase timeout', async (status) => {
    const g = gateOn(
      (async () =>
        new Response('<html>bad gateway</html>', { status, headers: { 'content-type': 'text/html' } })) as typeof globalThis.fetch,
    );
    expect((await g.evaluate(onTime)).decision).toEqual({
      status: 'wait',
      reason: `Argo CD answered ${status} reading application prod-mesh`,
    });
    expect((await g.evaluate(late)).decision).toEqual({
      status: 'fail',
      reason: `timed out after 30 min: Argo CD answered ${status} reading application prod-mesh`,
      resources: [],
    });
  });
});
