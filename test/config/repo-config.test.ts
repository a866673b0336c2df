import { describe, expect, it } from 'vitest';
import { ConfigError, kubernetesVersionFor, meetsPermission, parseRepoConfig, platformFor } from '../../src/config/repo-config.js';

describe('parseRepoConfig', () => {
  it('reads reviewers (logins and org/team, an @ allowed) and refuses anything else by name', () => {
    expect(parseRepoConfig('reviewers: ["@bob", my-org/platform-team, carol]\n').reviewers).toEqual([
      'bob',
      'my-org/platform-team',
      'carol',
    ]);
    expect(() => parseRepoConfig('reviewers: ["bob <img>"]\n')).toThrow(/reviewers\.0.*GitHub login/);
    expect(() => parseRepoConfig(`reviewers: [${Array.from({ length: 11 }, (_, i) => `u${i}`).join(', ')}]\n`)).toThrow(/reviewers/);
  });

  it('gives sensible defaults when the file is absent', () => {
    expect(parseRepoConfig(null)).toEqual({
      clusters: [{ name: 'default', path: '' }],
      canary: [],
      podBudget: 100,
      strategy: 'auto',
      permission: 'write',
      gate: 'manual',
      cleanupMode: 'delete',
      scaleDownGraceHours: 24,
      gateTiming: { stabilityWindowSeconds: 60, phaseTimeoutMinutes: 30, pollSeconds: 10, maxPollSeconds: 60 },
      labels: ['mesh-upgrade'],
      reviewers: [],
    });
  });

  it('reads clusters, canaries, budget, permission and gate', () => {
    const config = parseRepoConfig(
      'clusters:\n  - name: prod\n    path: clusters/prod\n    argocd: {applications: [mesh]}\ncanary: [search]\npodBudget: 50\npermission: admin\ngate: argocd\n',
    );
    expect(config).toMatchObject({
      clusters: [{ name: 'prod', path: 'clusters/prod', argocd: { applications: ['mesh'] } }],
      canary: ['search'],
      podBudget: 50,
      permission: 'admin',
      gate: 'argocd',
    });
  });

  it('reads the platform at the top and per cluster (absent: detected from the repo), the cluster’s winning', () => {
    const config = parseRepoConfig('platform: multicloud\nclusters:\n  - name: edge\n  - name: cloud\n    platform: gke\n');
    expect(config.platform).toBe('multicloud');
    expect(platformFor(config, config.clusters[0]!)).toBe('multicloud');
    expect(platformFor(config, config.clusters[1]!)).toBe('gke');
    const none = parseRepoConfig(null);
    expect(platformFor(none, none.clusters[0]!)).toBeUndefined();
  });

  it('reads the Kubernetes version at the top and per cluster, the cluster’s winning, and refuses one that is not a version', () => {
    const config = parseRepoConfig(
      'kubernetesVersion: "1.29"\nclusters:\n  - name: edge\n  - name: cloud\n    kubernetesVersion: v1.30.2\n',
    );
    expect(kubernetesVersionFor(config, config.clusters[0]!)).toBe('1.29');
    expect(kubernetesVersionFor(config, config.clusters[1]!)).toBe('v1.30.2');
    expect(() => parseRepoConfig('kubernetesVersion: latest\n')).toThrow(/`kubernetesVersion`: a Kubernetes version like 1.29 or v1.29.3/);
  });

  it.each([
    ['platform: baremetal\n', /`platform`: Invalid option/],
    ['clusters:\n  - name: edge\n    platform: onprem\n', /`clusters.0.platform`: Invalid option/],
    ['podBuget: 10\n', /unknown key `podBuget` at top level/],
    ['clusters:\n  - name: prod\n    pth: x\n', /unknown key `pth` at `clusters.0`/],
    ['gate: argo\n', /`gate`: Invalid option/],
    ['clusters:\n  - name: Prod\n', /lowercase/],
    ['clusters: [{name: a}, {name: a}]\n', /listed twice/],
    ['clusters: [\n', /not valid YAML/],
  ])('rejects %j naming the problem', (text, message) => {
    expect(() => parseRepoConfig(text)).toThrow(ConfigError);
    expect(() => parseRepoConfig(text)).toThrow(message);
  });

  it('orders permissions as GitHub does', () => {
    expect(meetsPermission('admin', 'write')).toBe(true);
    expect(meetsPermission('write', 'write')).toBe(true);
    expect(meetsPermission('read', 'write')).toBe(false);
    expect(meetsPermission('none', 'read')).toBe(false);
  });
});

describe('baseBranch, labels and restartStrategy', () => {
  it('reads baseBranch and labels', () => {
    expect(parseRepoConfig('baseBranch: release\nlabels: [mesh-upgrade, team-mesh]\n')).toMatchObject({
      baseBranch: 'release',
      labels: ['mesh-upgrade', 'team-mesh'],
    });
  });

  it('accepts restartStrategy: annotation, the way workloads restart, and refuses any other way by name', () => {
    expect(parseRepoConfig('restartStrategy: annotation\n').restartStrategy).toBe('annotation');
    expect(() => parseRepoConfig('restartStrategy: manual\n')).toThrow(/restartStrategy is `annotation`/);
  });
});
