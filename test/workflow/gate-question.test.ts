import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { planUpgrade } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { newPhaseRecord, type UpgradeState } from '../../src/core/state.js';
import { phaseExpectations, touchedApplications } from '../../src/workflow/gate-question.js';
import { loadFixture } from '../helpers/fixtures.js';
import { upgradeState } from '../helpers/upgrade-state.js';

/** The istio-operator fixture with every application namespace following the default tag. */
async function taggedRepo(): Promise<Map<string, string>> {
  const snapshot = new Map(await loadFixture('istio-operator'));
  snapshot.set(
    'clusters/staging/apps/search/namespace.yaml',
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: search\n  labels:\n    istio-injection: enabled\n',
  );
  snapshot.set(
    'clusters/staging/apps/shop/namespace.yaml',
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n',
  );
  return snapshot;
}

function stateFor(ids: readonly string[], passedThrough: string): UpgradeState {
  const upTo = ids.indexOf(passedThrough);
  const phases = ids.map((id, i) => {
    const record = newPhaseRecord(id, id, 'pending');
    if (i <= upTo) record.status = 'passed';
    if (i === upTo + 1) record.status = 'merged';
    return record;
  });
  return upgradeState({
    issue: 1,
    cluster: 'staging',
    target: '1-22-1',
    targetVersion: '1.22.1',
    from: '1-21-2',
    fromVersion: '1.21.2',
    options: { downgrade: false, dryRun: false, strategy: 'tag', canary: ['shop'] },
    phases,
  });
}

describe('what the gate expects after default-revision', () => {
  it('with tags, checks for old proxies only where restarts are behind us (the canary wave), not where they come next', async () => {
    const snapshot = await taggedRepo();
    const plan = planUpgrade(snapshot, { to: '1-22-1', canary: ['shop'] });
    expect(plan.strategy).toBe('tag');
    const ids = plan.phases.map((p) => p.id);
    expect(ids).toEqual(['control-plane', 'gateways', 'workloads-1', 'default-revision', 'workloads-2', 'cleanup']);
    // Merged through default-revision: the tag moved, so on the repo every namespace resolves to the target.
    const merged = new Map(snapshot);
    for (const phase of plan.phases.slice(0, 4))
      for (const f of phase.files) f.content === null ? merged.delete(f.path) : merged.set(f.path, f.content);
    const replanned = planUpgrade(merged, { to: '1-22-1', canary: ['shop'], strategy: 'tag' });
    const state = stateFor(ids, 'workloads-1');
    const expectations = phaseExpectations(state, state.phases[3]!, replanned);
    expect(expectations.migratedNamespaces).toEqual(['shop']);
  });

  it('with relabelling, checks every namespace moved before it', async () => {
    const plan = planUpgrade(await loadFixture('istio-operator'), { to: '1-22-1' });
    const ids = plan.phases.map((p) => p.id);
    const merged = new Map(await loadFixture('istio-operator'));
    for (const phase of plan.phases.slice(0, 4))
      for (const f of phase.files) f.content === null ? merged.delete(f.path) : merged.set(f.path, f.content);
    const replanned = planUpgrade(merged, { to: '1-22-1' });
    const state = { ...stateFor(ids, 'workloads'), options: { downgrade: false, dryRun: false, strategy: 'relabel' as const } };
    const expectations = phaseExpectations(state, state.phases[3]!, replanned);
    expect([...expectations.migratedNamespaces].sort()).toEqual(expect.arrayContaining(['search', 'shop']));
  });
});

describe('touchedApplications (review item 10)', () => {
  const application = (name: string, spec: Record<string, unknown>) => ({
    name,
    body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name }, spec },
  });
  const plan = {
    inventory: {
      argoApplications: [
        application('mesh-single', {
          source: { repoURL: 'https://github.com/example-org/cluster-config', path: 'clusters/staging/istio' },
        }),
        application('mesh-multi', {
          sources: [
            {
              repoURL: 'https://istio-release.storage.googleapis.com/charts',
              chart: 'istiod',
              targetRevision: '1.22.1',
              helm: { valueFiles: ['$values/clusters/staging/values.yaml'] },
            },
            { repoURL: 'https://github.com/example-org/cluster-config', ref: 'values' },
            { repoURL: 'https://github.com/example-org/cluster-config', path: 'clusters/staging/gateways' },
          ],
        }),
      ],
    },
  } as unknown as UpgradePlan;
  const state = { cluster: 'staging' } as UpgradeState;

  it('reads the path of a multi-source app’s git entries, not only spec.source.path', () => {
    const config = parseRepoConfig(null);
    expect(touchedApplications(config, state, plan, ['clusters/staging/gateways/ingress.yaml'])).toEqual(['mesh-multi']);
    expect(touchedApplications(config, state, plan, ['clusters/staging/istio/iop.yaml'])).toEqual(['mesh-single']);
    expect(touchedApplications(config, state, plan, ['clusters/other/x.yaml'])).toEqual([]);
  });
});
