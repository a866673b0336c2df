import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import { KustomizeBuildError } from '../../../src/core/sources/kustomize-build.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { hasKubectl, kustomizeBuild } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';

function refusal(repo: RepoSnapshot): KustomizeBuildError {
  try {
    planUpgrade(repo, { to: TO });
  } catch (error) {
    if (error instanceof KustomizeBuildError) return error;
    throw error;
  }
  throw new Error('planned a repo whose kustomization does not build');
}

describe('a kustomization that does not build is refused, naming the file (fixture rendered-kustomize-patches)', () => {
  let repo: RepoSnapshot;
  beforeAll(async () => {
    repo = await loadFixture('rendered-kustomize-patches');
  });
  const without = (path: string) => new Map([...repo].filter(([p]) => p !== path));
  const edited = (path: string, from: string, to: string) =>
    new Map([...repo].map(([p, t]) => [p, p === path ? t.replace(from, to) : t] as const));

  const broken: Array<[string, () => RepoSnapshot, string, string]> = [
    ['a patch file missing', () => without('overlays/prod/mesh-config.yaml'), 'overlays/prod/kustomization.yaml', 'mesh-config.yaml'],
    [
      'a resource file missing',
      () => without('base/apps/monitoring/prometheus.yaml'),
      'base/apps/kustomization.yaml',
      'monitoring/prometheus.yaml',
    ],
    [
      'a resource directory missing',
      () => edited('base/kustomization.yaml', '  - apps/\n', '  - apps/\n  - observability/\n'),
      'base/kustomization.yaml',
      'observability/',
    ],
    [
      'a resource directory without a kustomization',
      () => without('base/istio-ingress/kustomization.yaml'),
      'base/kustomization.yaml',
      'istio-ingress/',
    ],
  ];

  for (const [what, make, file, entry] of broken) {
    it(`${what}: a typed error naming ${file} and the entry`, async () => {
      const error = refusal(make());
      expect(error.code).toBe('kustomize-build-error');
      expect(error.file).toBe(file);
      expect(error.entry).toBe(entry);
      expect(error.message).toContain(file);
      expect(error.message).toContain('nothing was written');
      // kustomize agrees: the overlay does not build.
      if (hasKubectl) await expect(kustomizeBuild(make(), 'overlays/prod')).rejects.toThrow();
    });
  }

  it('plans a repo whose kustomizations name remote bases and non-YAML files it cannot see', () => {
    const remote = edited(
      'base/kustomization.yaml',
      '  - apps/\n',
      '  - apps/\n  - https://github.com/example/policies//base?ref=v1.2.0\n  - ../../outside/the/path\n',
    );
    expect(() => planUpgrade(remote, { to: TO })).not.toThrow();
  });

  it.skipIf(!hasKubectl)('the fixture itself builds', async () => {
    expect((await kustomizeBuild(repo, 'overlays/prod')).length).toBeGreaterThan(10);
  });
});
