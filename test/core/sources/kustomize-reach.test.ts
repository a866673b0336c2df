import { describe, expect, it } from 'vitest';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

describe('files kustomize never applies', () => {
  it('skips a file beside or below a kustomization that no kustomization names, keeps what is named or built by itself', () => {
    const repo = new Map([
      [
        'apps/kustomization.yaml',
        'resources:\n  - a.yaml\n  - sub/b.yaml\nconfigMapGenerator:\n  - name: c\n    files:\n      - conf=cm/data.yaml\npatches:\n  - path: p.yaml\n',
      ],
      ['apps/a.yaml', ns('a')],
      ['apps/sub/b.yaml', ns('b')],
      ['apps/cm/data.yaml', ns('data')],
      ['apps/p.yaml', ns('a')],
      ['apps/leftover.yaml', ns('old')],
      ['apps/old/c.yaml', ns('c')],
      ['apps/raw/d.yaml', ns('d')],
      [
        'argocd/raw.yaml',
        'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: raw\nspec:\n  source:\n    path: apps/raw\n',
      ],
      ['apps/app.yaml', 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: bootstrap\n'],
      [
        'apps/flux.yaml',
        'apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  path: ./apps\n',
      ],
      ['apps/notes.yaml', 'owners: [a, b]\n'],
      ['plain/e.yaml', ns('e')],
    ]);
    const index = buildYamlIndex(repo);
    expect(
      index.skipped
        .filter((s) => s.reason.includes('never applies'))
        .map((s) => s.file)
        .sort(),
    ).toEqual(['apps/leftover.yaml', 'apps/old/c.yaml']);
    expect(index.objects.map((o) => o.file).sort()).toEqual([
      'apps/a.yaml',
      'apps/app.yaml',
      'apps/cm/data.yaml',
      'apps/flux.yaml',
      'apps/p.yaml',
      'apps/raw/d.yaml',
      'apps/sub/b.yaml',
      'argocd/raw.yaml',
      'plain/e.yaml',
    ]);
  });
});
