import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ArgoGateInput, evaluateArgoGate } from '../../src/core/argocd-gate.js';
import { bestAncestry, repoSlug, stripUserinfo, trackedRevisions } from '../../src/core/argocd-revisions.js';
import { ArgoApplication, ResourceTree } from '../../src/core/argocd-status.js';
import type { AppObservation } from '../../src/core/argocd-sync-checks.js';

const healthy = ArgoApplication.parse(
  JSON.parse(readFileSync(new URL('../fixtures/argocd/istio-system-synced-healthy.json', import.meta.url), 'utf8')),
);
const MERGED = new Date('2026-11-22T10:00:50Z');

/** The healthy application with some status fields changed (null removes one). */
function app(change: (a: ReturnType<typeof structuredClone<typeof healthy>>) => void): ArgoApplication {
  const copy = structuredClone(healthy);
  change(copy);
  return ArgoApplication.parse(copy);
}

const tree = (...nodes: object[]) => ResourceTree.parse({ nodes });
const gatewayPod = (image: string) => ({
  kind: 'Pod',
  namespace: 'istio-ingress',
  name: 'istio-ingressgateway-7d9f',
  health: { status: 'Healthy' },
  images: [image],
});

function input(observations: Partial<AppObservation>[], overrides: Partial<ArgoGateInput> = {}): ArgoGateInput {
  return {
    apps: observations.map((o) => ({ name: 'prod-mesh', app: healthy, ancestry: 'identical', tree: tree(), ...o })),
    expectations: { healthy: [], absent: [], migratedNamespaces: [], oldProxyTag: null },
    now: new Date('2026-11-22T10:05:00Z'),
    mergedAt: MERGED,
    healthySince: new Date('2026-11-22T10:02:00Z'),
    wasHealthy: true,
    stabilityWindowMs: 60_000,
    timeoutMs: 30 * 60_000,
    ...overrides,
  };
}

describe('evaluateArgoGate', () => {
  it('passes when the merge commit is synced, healthy and has held for the stability window', () => {
    const result = evaluateArgoGate(input([{}]));
    expect(result.decision).toEqual({ status: 'pass', summary: 'prod-mesh Synced and Healthy at the merge commit for 180 s' });
  });

  it('accepts a later commit that contains the merge commit', () => {
    expect(evaluateArgoGate(input([{ ancestry: 'ahead' }])).decision.status).toBe('pass');
  });

  it('holds a first healthy sighting for the stability window', () => {
    const result = evaluateArgoGate(input([{}], { healthySince: null, wasHealthy: false }));
    expect(result.decision).toEqual({
      status: 'wait',
      reason: 'Synced and Healthy at the merge commit; holding for another 60 s (2/2 checks)',
    });
    expect(result.healthySince).toEqual(new Date('2026-11-22T10:05:00Z'));
  });

  it.each<[string, Partial<AppObservation>, RegExp, boolean]>([
    ['Argo CD has not seen X', { ancestry: 'behind' }, /has not seen the merge commit yet/, true],
    ['no revision yet', { ancestry: null }, /has not seen the merge commit yet/, true],
    [
      'a sync is requested',
      {
        app: app((a) => {
          (a as { operation?: unknown }).operation = { sync: {} };
        }),
      },
      /a sync is requested/,
      false,
    ],
    [
      'a sync is running',
      { app: app((a) => void delete (a.status.operationState as { finishedAt?: string }).finishedAt) },
      /sync Succeeded/,
      false,
    ],
    [
      'health predates the sync (stale reconciledAt)',
      {
        app: app((a) => {
          a.status.reconciledAt = '2026-11-22T10:01:03Z';
        }),
      },
      /reconciledAt < finishedAt/,
      true,
    ],
    [
      'OutOfSync with auto-sync on',
      {
        app: app((a) => {
          a.status.sync!.status = 'OutOfSync';
          a.status.operationState!.syncResult!.revision = 'PREVIOUS_SHA';
        }),
      },
      /auto-sync will apply it/,
      false,
    ],
    [
      'Progressing',
      {
        app: app((a) => {
          a.status.health!.status = 'Progressing';
        }),
      },
      /Progressing/,
      false,
    ],
    [
      // Between attempts Argo CD keeps the phase Running, stamps finishedAt and counts the retry.
      'a sync is being retried',
      {
        app: app(
          (a) =>
            void Object.assign(a.status.operationState!, { phase: 'Running', retryCount: 2, message: 'Retrying attempt #2 at 10:02AM.' }),
        ),
      },
      /sync Running \(retry 2: Retrying attempt #2/,
      false,
    ],
  ])('waits when %s', (_name, observation, reason, refresh) => {
    const result = evaluateArgoGate(input([observation], { healthySince: null, wasHealthy: false }));
    expect(result.decision.status).toBe('wait');
    expect(result.decision.status === 'wait' && result.decision.reason).toMatch(reason);
    expect(result.refresh).toEqual(refresh ? ['prod-mesh'] : []);
    expect(result.healthySince).toBeNull();
  });

  it.each<[string, Partial<AppObservation>, RegExp]>([
    ['the tracked revision diverged from X', { ancestry: 'diverged' }, /does not contain the merge commit/],
    [
      'the sync failed',
      {
        app: app((a) => {
          (a.status.operationState as { phase?: string }).phase = 'Failed';
        }),
      },
      /sync Failed: successfully synced/,
    ],
    [
      'a ComparisonError condition',
      { app: app((a) => void a.status.conditions!.push({ type: 'ComparisonError', message: 'rpc error: manifest generation failed' })) },
      /ComparisonError: rpc error/,
    ],
    [
      'a SyncError condition',
      { app: app((a) => void a.status.conditions!.push({ type: 'SyncError', message: 'Failed last sync attempt to MERGE_SHA' })) },
      /Failed last sync attempt/,
    ],
    [
      'prune-only OutOfSync with prune off',
      {
        app: app((a) => {
          a.status.sync!.status = 'OutOfSync';
          a.spec.syncPolicy!.automated = { prune: false, selfHeal: true };
          a.status.resources = [
            { kind: 'Deployment', namespace: 'istio-system', name: 'istiod-asm-1130-0', status: 'OutOfSync', requiresPruning: true },
          ];
        }),
      },
      /only deletions are pending and automated prune is off/,
    ],
    [
      'OutOfSync without auto-sync',
      {
        app: app((a) => {
          a.status.sync!.status = 'OutOfSync';
          a.spec.syncPolicy = {};
        }),
      },
      /auto-sync is off/,
    ],
  ])('fails when %s', (_name, observation, reason) => {
    const result = evaluateArgoGate(input([observation]));
    expect(result.decision.status).toBe('fail');
    expect(result.decision.status === 'fail' && result.decision.reason).toMatch(reason);
  });

  it('fails on Degraded after having been healthy, naming the degraded resource', () => {
    const degraded = app((a) => {
      a.status.health!.status = 'Degraded';
      a.status.resources![0]!.health = { status: 'Degraded', message: 'Deployment "istio-ingressgateway" exceeded its progress deadline' };
    });
    const result = evaluateArgoGate(input([{ app: degraded }]));
    expect(result.decision).toEqual({
      status: 'fail',
      reason: 'prod-mesh: Degraded after having been healthy',
      resources: [
        {
          kind: 'Deployment',
          namespace: 'istio-ingress',
          name: 'istio-ingressgateway',
          message: 'Deployment "istio-ingressgateway" exceeded its progress deadline',
        },
      ],
    });
    // Right after the merge, Degraded gets a grace period first.
    const early = evaluateArgoGate(
      input([{ app: degraded }], { wasHealthy: false, healthySince: null, now: new Date('2026-11-22T10:01:30Z') }),
    );
    expect(early.decision.status).toBe('wait');
  });

  it('waits for the phase’s own resources and for the last old proxies, then times out', () => {
    const expectations = {
      healthy: [{ kind: 'Deployment', namespace: 'istio-system', name: 'istiod-asm-1140-0' }],
      absent: [],
      migratedNamespaces: ['istio-ingress'],
      oldProxyTag: '1.13.0-asm.0',
    };
    const missing = evaluateArgoGate(input([{}], { expectations, healthySince: null }));
    expect(missing.decision.status === 'wait' && missing.decision.reason).toMatch(
      /Deployment istio-system\/istiod-asm-1140-0 is not in the resource tree yet \(1\/2 checks\)/,
    );

    const istiod = { kind: 'Deployment', namespace: 'istio-system', name: 'istiod-asm-1140-0', health: { status: 'Healthy' } };
    const oldProxies = evaluateArgoGate(
      input([{ tree: tree(istiod, gatewayPod('gcr.io/gke-release/asm/proxyv2:1.13.0-asm.0')) }], { expectations, healthySince: null }),
    );
    expect(oldProxies.decision.status === 'wait' && oldProxies.decision.reason).toContain(
      '1 pod(s) still run the old proxy 1.13.0-asm.0: istio-ingress/istio-ingressgateway-7d9f',
    );

    const ok = evaluateArgoGate(
      input([{ tree: tree(istiod, gatewayPod('gcr.io/gke-release/asm/proxyv2:1.14.0-asm.0')) }], { expectations }),
    );
    expect(ok.decision.status).toBe('pass');

    const late = evaluateArgoGate(input([{ ancestry: 'behind' }], { now: new Date('2026-11-22T10:40:00Z') }));
    expect(late.decision.status === 'fail' && late.decision.reason).toMatch(
      /^timed out after 30 min: prod-mesh: Argo CD has not seen the merge commit yet/,
    );
  });
});

// Issue 11: the gate held against Argo CD's own source (application shapes after its test fixtures:
// controller/appcontroller_test.go fakeMultiSourceApp, controller/metrics/metrics_test.go fakeApp4).
const REPO = { owner: 'example-org', repo: 'cluster-config' };
const multiSource = ArgoApplication.parse(
  JSON.parse(readFileSync(new URL('../fixtures/argocd/prod-mesh-multi-source-synced-healthy.json', import.meta.url), 'utf8')),
);
const SHA = (c: string) => c.repeat(40);

/** A copy of any application with some fields changed. */
function edit(base: ArgoApplication, change: (a: ArgoApplication) => void): ArgoApplication {
  const copy = structuredClone(base);
  change(copy);
  return ArgoApplication.parse(copy);
}

describe('item 1: the revision of the config repo’s source (multi-source applications)', () => {
  it.each<[string, string | null]>([
    ['https://github.com/example-org/cluster-config', 'example-org/cluster-config'],
    ['https://github.com/Example-Org/Cluster-Config.git', 'example-org/cluster-config'],
    ['https://github.com/example-org/cluster-config.git/', 'example-org/cluster-config'],
    ['git@github.com:Example-Org/cluster-config.git', 'example-org/cluster-config'],
    ['ssh://git@github.com/example-org/cluster-config.git', 'example-org/cluster-config'],
    ['ssh://git@github.com:22/example-org/cluster-config', 'example-org/cluster-config'],
    ['https://ghe.example.com/example-org/cluster-config.git', 'example-org/cluster-config'],
    ['https://istio-release.storage.googleapis.com/charts', null],
    ['registry-1.docker.io/bitnamicharts', null],
    ['oci://ghcr.io/example-org/charts/istiod', null],
  ])('repoSlug(%s) = %s', (url, slug) => {
    expect(repoSlug(url)).toBe(slug);
  });

  it.each<[string, ArgoApplication, string[] | { foreign: RegExp }]>([
    ['single source: status.sync.revision', healthy, ['MERGE_SHA']],
    ['the chart first (as Argo CD’s multi-source docs write it), the config repo by ssh and by https', multiSource, ['MERGE_SHA']],
    [
      'another git repository first',
      edit(multiSource, (a) => {
        a.spec.sources = [
          { repoURL: 'https://github.com/example-org/platform-manifests.git', path: 'istio' },
          { repoURL: 'https://github.com/Example-Org/Cluster-Config', ref: 'values' },
        ];
        a.status.sync!.revisions = [SHA('c'), SHA('d')];
      }),
      [SHA('d')],
    ],
    [
      'no source is the config repo',
      edit(multiSource, (a) => {
        a.spec.sources = [
          { repoURL: 'https://github.com/argoproj/argocd-example-apps.git', path: 'some/path' },
          { repoURL: 'https://github.com/argoproj/argocd-example-apps-fake-ref.git', ref: 'values_test' },
        ];
      }),
      {
        foreign:
          /none of its 2 sources is the config repo example-org\/cluster-config \(https:\/\/github.com\/argoproj\/argocd-example-apps.git, /,
      },
    ],
  ])('%s', (_name, application, expected) => {
    const tracked = trackedRevisions(application, REPO);
    if (Array.isArray(expected)) expect(tracked).toEqual({ kind: 'tracked', revisions: expected });
    else expect(tracked.kind === 'foreign' && tracked.reason).toMatch(expected.foreign);
  });

  it('takes the best relation when several sources are the config repo', () => {
    expect(bestAncestry(['behind', 'ahead'])).toBe('ahead');
    expect(bestAncestry([null, 'diverged'])).toBeNull();
    expect(bestAncestry([])).toBeNull();
  });

  it('passes a Synced and Healthy multi-source application once the config repo’s revision is X', () => {
    expect(evaluateArgoGate(input([{ app: multiSource }])).decision.status).toBe('pass');
  });
});

describe('item 2: selective auto-sync (OutOfSync after a successful sync to the same revision)', () => {
  const outOfSync = (base: ArgoApplication, change: (a: ArgoApplication) => void = () => undefined) =>
    edit(base, (a) => {
      a.status.sync!.status = 'OutOfSync';
      a.status.resources = [{ kind: 'ConfigMap', namespace: 'istio-system', name: 'istio-asm-1140-0', status: 'OutOfSync' }];
      change(a);
    });

  it.each<[string, ArgoApplication, RegExp]>([
    [
      'single source, selfHeal off',
      outOfSync(healthy, (a) => {
        a.spec.syncPolicy!.automated = { prune: true, selfHeal: false };
      }),
      /OutOfSync although the last sync to MERGE_SHA succeeded: with selfHeal off, Argo CD does not sync the same revision again \("Skipping auto-sync: most recent sync already to MERGE_SHA"\); sync it by hand, or enable syncPolicy.automated.selfHeal/,
    ],
    [
      'multi-source, `automated: {}` (Argo CD’s fakeMultiSourceApp)',
      outOfSync(multiSource, (a) => {
        a.spec.syncPolicy!.automated = {};
      }),
      /most recent sync already to \[1.14.0, MERGE_SHA, MERGE_SHA\]/,
    ],
  ])('fails at once: %s', (_name, application, reason) => {
    const result = evaluateArgoGate(
      input([{ app: application }], { healthySince: null, wasHealthy: false, now: new Date('2026-11-22T10:02:00Z') }),
    );
    expect(result.decision.status).toBe('fail');
    expect(result.decision.status === 'fail' && result.decision.reason).toMatch(reason);
    expect(result.decision.status === 'fail' && result.decision.resources).toEqual([
      { kind: 'ConfigMap', namespace: 'istio-system', name: 'istio-asm-1140-0', message: 'OutOfSync' },
    ]);
  });

  it.each<[string, ArgoApplication, RegExp]>([
    ['selfHeal on: self-heal syncs again', outOfSync(healthy), /self-heal will sync it again/],
    [
      'the last sync was to an older revision',
      outOfSync(healthy, (a) => {
        a.status.operationState!.syncResult!.revision = SHA('e');
        a.spec.syncPolicy!.automated = { selfHeal: false };
      }),
      /auto-sync will apply it/,
    ],
    [
      'the source changed since the last sync',
      outOfSync(multiSource, (a) => {
        a.spec.syncPolicy!.automated = { selfHeal: false };
        a.spec.sources![2]!.path = 'clusters/prod-eu';
      }),
      /auto-sync will apply it/,
    ],
  ])('waits when %s', (_name, application, reason) => {
    const result = evaluateArgoGate(input([{ app: application }], { healthySince: null, wasHealthy: false }));
    expect(result.decision.status === 'wait' && result.decision.reason).toMatch(reason);
  });
});

describe('item 3: every condition type ending in Error fails; warnings are shown', () => {
  it.each<[string, { type: string; message: string }]>([
    [
      'UnknownError',
      {
        type: 'UnknownError',
        message:
          'Application status exceeds the Kubernetes resource size limit and could not be persisted. The displayed status may be stale.',
      },
    ],
    ['DeletionError', { type: 'DeletionError', message: 'failed to delete resources: context deadline exceeded' }],
    ['InvalidSpecError', { type: 'InvalidSpecError', message: 'Application referencing project platform which does not exist' }],
    ['a type a later Argo CD adds', { type: 'HydrationError', message: 'failed to hydrate' }],
  ])('fails on %s', (_name, condition) => {
    const result = evaluateArgoGate(input([{ app: app((a) => void a.status.conditions!.push(condition)) }]));
    expect(result.decision).toEqual({ status: 'fail', reason: `prod-mesh: ${condition.type}: ${condition.message}`, resources: [] });
  });

  it('passes with warning conditions, and reports every one of them', () => {
    const warned = app((a) => {
      a.status.conditions = [
        { type: 'OrphanedResourceWarning', message: 'Application has 1 orphaned resources' },
        { type: 'ExcludedResourceWarning', message: 'Resource Pod standalone-pod is excluded in the settings' },
        { type: 'SharedResourceWarning', message: 'Namespace/istio-system is part of applications argocd/prod-mesh and argocd/prod-base' },
        {
          type: 'RepeatedResourceWarning',
          message: 'Resource /ServiceAccount/istio-system/istio-reader-service-account appeared 2 times among application resources.',
        },
      ];
    });
    const result = evaluateArgoGate(input([{ app: warned }]));
    expect(result.decision.status).toBe('pass');
    expect(result.warnings).toEqual([
      'prod-mesh: OrphanedResourceWarning: Application has 1 orphaned resources',
      'prod-mesh: ExcludedResourceWarning: Resource Pod standalone-pod is excluded in the settings',
      'prod-mesh: SharedResourceWarning: Namespace/istio-system is part of applications argocd/prod-mesh and argocd/prod-base',
      'prod-mesh: RepeatedResourceWarning: Resource /ServiceAccount/istio-system/istio-reader-service-account appeared 2 times among application resources.',
    ]);
    // The fixture's own OrphanedResourceWarning shows while waiting too.
    expect(evaluateArgoGate(input([{ ancestry: 'behind' }])).warnings).toEqual([
      'prod-mesh: OrphanedResourceWarning: Application has 1 orphaned resources',
    ]);
  });
});

describe('item 4: Suspended says at once what is paused', () => {
  const early = { healthySince: null, wasHealthy: false, now: new Date('2026-11-22T10:01:45Z') };
  const suspendedApp = app((a) => {
    a.status.health = { status: 'Suspended' };
    a.status.resources![0]!.health = { status: 'Suspended', message: 'Deployment is paused' };
  });

  it('fails right after the merge, naming the paused Deployment and how to resume it', () => {
    const result = evaluateArgoGate(input([{ app: suspendedApp }], early));
    expect(result.decision.status).toBe('fail');
    const reason = result.decision.status === 'fail' ? result.decision.reason : '';
    expect(reason).toMatch(
      /^prod-mesh: Suspended: Deployment istio-ingress\/istio-ingressgateway \(Deployment is paused\)\. Nothing resumes it by itself: a person must \(kubectl -n istio-ingress rollout resume deployment\/istio-ingressgateway/,
    );
    expect(result.decision.status === 'fail' && result.decision.resources).toEqual([
      { kind: 'Deployment', namespace: 'istio-ingress', name: 'istio-ingressgateway', message: 'Deployment is paused' },
    ]);
  });

  it('a suspended Rollout (found in the resource tree, health in appTree, Argo CD 3.x) resumes by itself on a timed step or auto-promotion: waits naming it and the hint, up to the phase timeout (review item 7)', () => {
    const rollout = app((a) => {
      a.status.health = { status: 'Suspended' };
      a.status.resources = [{ kind: 'Rollout', namespace: 'istio-ingress', name: 'istio-ingressgateway', status: 'Synced' }];
    });
    const observation = {
      app: rollout,
      tree: tree({
        kind: 'Rollout',
        namespace: 'istio-ingress',
        name: 'istio-ingressgateway',
        health: { status: 'Suspended', message: 'CanaryPauseStep' },
      }),
    };
    const result = evaluateArgoGate(input([observation], early));
    expect(result.decision).toEqual({
      status: 'wait',
      reason:
        'prod-mesh: Suspended: Rollout istio-ingress/istio-ingressgateway (CanaryPauseStep): a Rollout pausing on a timed step or awaiting auto-promotion resumes by itself; if it waits for a manual promotion, promote it (kubectl argo rollouts -n istio-ingress promote istio-ingressgateway) (0/2 checks)',
    });
    const late = evaluateArgoGate(input([observation], { ...early, now: new Date('2026-11-22T10:31:00Z') }));
    expect(late.decision.status === 'fail' && late.decision.reason).toMatch(
      /^timed out after 30 min: prod-mesh: Suspended: Rollout istio-ingress\/istio-ingressgateway/,
    );
  });

  it('a suspended Job fails at once (review item 7)', () => {
    const job = app((a) => {
      a.status.health = { status: 'Suspended' };
      a.status.resources = [
        {
          kind: 'Job',
          namespace: 'istio-system',
          name: 'istio-migrate',
          status: 'Synced',
          health: { status: 'Suspended', message: 'Job is suspended' },
        },
      ];
    });
    const result = evaluateArgoGate(input([{ app: job }], early));
    expect(result.decision.status === 'fail' && result.decision.reason).toBe(
      'prod-mesh: Suspended: Job istio-system/istio-migrate (Job is suspended). Nothing resumes it by itself: a person must (set spec.suspend: false on Job istio-migrate; if it is paused in git, unpause it there), then say /upgrade continue',
    );
  });

  it.each<[string, ArgoApplication, RegExp]>([
    ['a sync still runs', edit(suspendedApp, (a) => void delete a.status.operationState!.finishedAt), /sync Succeeded/],
    [
      'the status predates the sync',
      edit(suspendedApp, (a) => {
        a.status.reconciledAt = '2026-11-22T10:01:03Z';
      }),
      /reconciledAt < finishedAt/,
    ],
    [
      'auto-sync will apply the merge commit',
      edit(suspendedApp, (a) => {
        a.status.sync!.status = 'OutOfSync';
        a.status.operationState!.syncResult!.revision = 'PREVIOUS_SHA';
      }),
      /auto-sync will apply it/,
    ],
    [
      'Missing',
      app((a) => {
        a.status.health = { status: 'Missing' };
      }),
      /Missing: Argo CD finds none of its resources in the cluster yet/,
    ],
    [
      'Unknown',
      app((a) => {
        a.status.health = { status: 'Unknown', message: 'failed to get resource health for "IstioOperator"' };
      }),
      /health Unknown: Argo CD could not assess it \(failed to get resource health/,
    ],
  ])('keeps waiting while something can still change by itself: %s', (_name, application, reason) => {
    const result = evaluateArgoGate(input([{ app: application }], early));
    expect(result.decision.status === 'wait' && result.decision.reason).toMatch(reason);
  });
});

describe('item 5: reconciledAt equal to finishedAt (whole seconds) is stale', () => {
  it('asks for a refresh instead of trusting the health', () => {
    const tie = app((a) => {
      a.status.reconciledAt = a.status.operationState!.finishedAt;
    });
    const result = evaluateArgoGate(input([{ app: tie }], { healthySince: null, wasHealthy: false }));
    expect(result.decision).toEqual({
      status: 'wait',
      reason: 'prod-mesh: status may predate the last sync (reconciledAt = finishedAt, whole seconds) (0/2 checks)',
    });
    expect(result.refresh).toEqual(['prod-mesh']);
    expect(result.healthySince).toBeNull();
  });
});

describe('review item 4: no credentials of a repoURL in anything the gate says', () => {
  it('strips the userinfo of every URL, whatever its scheme, and leaves scp-like git@host alone', () => {
    expect(stripUserinfo('https://bot:ghp_s3cr3t@github.com/example-org/charts.git and oci://u:p@ghcr.io/x, git@github.com:o/r.git')).toBe(
      'https://github.com/example-org/charts.git and oci://ghcr.io/x, git@github.com:o/r.git',
    );
  });

  it('a foreign source’s repoURL with a token', () => {
    const foreign = edit(multiSource, (a) => {
      a.spec.sources = [{ repoURL: 'https://deploy:glpat-s3cr3t@gitlab.example.com/platform/istio.git', path: 'istio' }];
    });
    const tracked = trackedRevisions(foreign, REPO);
    expect(tracked.kind === 'foreign' && tracked.reason).toContain('(https://gitlab.example.com/platform/istio.git)');
    expect(JSON.stringify(tracked)).not.toContain('s3cr3t');
  });

  it('condition, operation and resource messages that quote a URL with credentials', () => {
    const leaky = app((a) => {
      a.status.conditions!.push({
        type: 'ComparisonError',
        message: 'rpc error: failed to fetch https://bot:ghp_s3cr3t@github.com/example-org/cluster-config: authentication required',
      });
    });
    const result = evaluateArgoGate(input([{ app: leaky }]));
    expect(result.decision).toEqual({
      status: 'fail',
      reason:
        'prod-mesh: ComparisonError: rpc error: failed to fetch https://github.com/example-org/cluster-config: authentication required',
      resources: [],
    });
    const failed = app((a) => {
      a.status.operationState!.phase = 'Failed';
      a.status.operationState!.message = 'git fetch https://x-access-token:ghs_s3cr3t@github.com/example-org/cluster-config failed';
      a.status.operationState!.syncResult!.resources = [
        {
          kind: 'Deployment',
          namespace: 'istio-ingress',
          name: 'istio-ingressgateway',
          status: 'SyncFailed',
          message: 'see https://u:s3cr3t@internal.example/log',
        },
      ];
      a.status.conditions = [{ type: 'SharedResourceWarning', message: 'mirrored from https://u:s3cr3t@mirror.example/repo' }];
    });
    const outcome = evaluateArgoGate(input([{ app: failed }]));
    expect(JSON.stringify(outcome)).not.toContain('s3cr3t');
    expect(outcome.decision.status === 'fail' && outcome.decision.reason).toContain(
      'git fetch https://github.com/example-org/cluster-config failed',
    );
  });
});

describe('review item 6: error conditions count once Argo CD compares X (or later)', () => {
  const syncError = (sha: string) => ({
    type: 'SyncError',
    message: `Failed last sync attempt to [${sha}]: one or more objects failed to apply (retried 5 times).`,
  });

  it('a leftover SyncError naming a revision before X does not fail: auto-sync tries X', () => {
    const leftover = app((a) => {
      a.status.sync!.revision = SHA('a');
      a.status.sync!.status = 'OutOfSync';
      a.status.operationState!.syncResult!.revision = SHA('e');
      a.status.conditions = [syncError(SHA('e'))];
    });
    const result = evaluateArgoGate(input([{ app: leftover }], { healthySince: null, wasHealthy: false }));
    expect(result.decision).toEqual({ status: 'wait', reason: 'prod-mesh: OutOfSync; auto-sync will apply it (0/2 checks)' });
  });

  it('a SyncError naming the revision Argo CD compares now fails', () => {
    const current = app((a) => {
      a.status.sync!.revision = SHA('a');
      a.status.conditions = [syncError(SHA('a'))];
    });
    expect(evaluateArgoGate(input([{ app: current }])).decision.status).toBe('fail');
  });

  it('before Argo CD has seen X, an error condition is a wait that names it (it may be about an older revision)', () => {
    const before = app((a) => {
      a.status.conditions = [syncError(SHA('e'))];
    });
    const result = evaluateArgoGate(input([{ app: before, ancestry: 'behind' }], { healthySince: null, wasHealthy: false }));
    expect(result.decision.status === 'wait' && result.decision.reason).toBe(
      `prod-mesh: Argo CD has not seen the merge commit yet (it reports SyncError: Failed last sync attempt to [${SHA('e')}]: one or more objects failed to apply (retried 5 times).) (0/2 checks)`,
    );
    expect(result.refresh).toEqual(['prod-mesh']);
  });

  it.each(['ComparisonError', 'UnknownError'])('%s gets a short grace, then fails', (type) => {
    const flaky = app((a) => {
      a.status.conditions = [
        { type, message: 'rpc error: code = Unavailable desc = connection refused', lastTransitionTime: '2026-11-22T10:04:30Z' },
      ];
    });
    const early = evaluateArgoGate(input([{ app: flaky }], { now: new Date('2026-11-22T10:05:00Z') }));
    expect(early.decision).toEqual({
      status: 'wait',
      reason: `prod-mesh: ${type}: rpc error: code = Unavailable desc = connection refused; giving Argo CD a moment to compare again (0/2 checks)`,
    });
    const late = evaluateArgoGate(input([{ app: flaky }], { now: new Date('2026-11-22T10:06:31Z') }));
    expect(late.decision).toEqual({
      status: 'fail',
      reason: `prod-mesh: ${type}: rpc error: code = Unavailable desc = connection refused`,
      resources: [],
    });
  });
});

describe('review items 8, 9: applications whose revision the gate cannot relate to X', () => {
  it('a source hydrator app pauses with a clear reason instead of a wrong one (item 8)', () => {
    const hydrated = edit(healthy, (a) => {
      (a.spec as Record<string, unknown>).sourceHydrator = {
        drySource: { repoURL: 'https://github.com/example-org/cluster-config', path: 'clusters/prod', targetRevision: 'main' },
        syncSource: { targetBranch: 'environments/prod', path: 'clusters/prod' },
      };
      a.status.sync!.revision = SHA('f');
    });
    expect(trackedRevisions(hydrated, REPO)).toEqual({
      kind: 'foreign',
      reason: 'source hydrator apps (spec.sourceHydrator) are not supported by the gate yet; check by hand and say /upgrade continue',
    });
  });

  it('a single-source app from another repository is foreign too (item 9)', () => {
    const other = edit(healthy, (a) => {
      a.spec.source!.repoURL = 'https://bot:s3cr3t@github.com/example-org/platform-manifests.git';
    });
    expect(trackedRevisions(other, REPO)).toEqual({
      kind: 'foreign',
      reason:
        "its only source is https://github.com/example-org/platform-manifests.git, not the config repo example-org/cluster-config: the phase's files cannot be what it syncs (name the application that syncs them under clusters[].argocd.applications)",
    });
  });

  it('a single-source app whose only source is a Helm chart: the phase’s files cannot be what it syncs (item 9)', () => {
    const chart = edit(healthy, (a) => {
      a.spec.source = {
        repoURL: 'https://istio-release.storage.googleapis.com/charts',
        chart: 'istiod',
        targetRevision: '1.22.1',
      };
    });
    const tracked = trackedRevisions(chart, REPO);
    expect(tracked.kind === 'foreign' && tracked.reason).toMatch(
      /^its only source is the Helm chart istiod from https:\/\/istio-release.storage.googleapis.com\/charts, not the config repo example-org\/cluster-config: the phase's files cannot be what it syncs/,
    );
  });

  it('a single-source app of the config repo (any URL form) is tracked as before', () => {
    const ssh = edit(healthy, (a) => {
      a.spec.source!.repoURL = 'git@github.com:Example-Org/cluster-config.git';
    });
    expect(trackedRevisions(ssh, REPO)).toEqual({ kind: 'tracked', revisions: ['MERGE_SHA'] });
  });
});
