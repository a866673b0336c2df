import { describe, expect, it } from 'vitest';
import type { JsonLabelPatch, Kustomization } from '../../../src/core/repo-index.js';
import { labelPatchesFor } from '../../../src/core/sources/json-patches.js';
import { parseSelector, selectorMatches } from '../../../src/core/sources/kustomize-selectors.js';

describe('kustomize target selectors', () => {
  it('reads equality, set and existence terms, and matches like Kubernetes', () => {
    const terms = parseSelector('mesh=true, tier in (web, api),!legacy,team,env!=dev')!;
    expect(terms).toHaveLength(5);
    expect(selectorMatches(terms, { mesh: 'true', tier: 'web', team: 'a' })).toBe(true);
    expect(selectorMatches(terms, { mesh: 'true', tier: 'web', team: 'a', env: 'dev' })).toBe(false);
    expect(selectorMatches(terms, { mesh: 'true', tier: 'db', team: 'a' })).toBe(false);
    expect(selectorMatches(terms, { mesh: 'true', tier: 'api', team: 'a', legacy: '' })).toBe(false);
    expect(selectorMatches(parseSelector('app.kubernetes.io/part-of==shop')!, { 'app.kubernetes.io/part-of': 'shop' })).toBe(true);
  });

  it('gives up (null) on what it cannot read rather than guessing', () => {
    for (const text of ['', 'a=~b', 'a in b', 'a=b,', 'a in (b', 'owner=x@y']) expect(parseSelector(text), text).toBeNull();
  });

  it('applies a selector patch to a Namespace by its labels before the patch, after the earlier ones', () => {
    const k = (file: string, labelPatches: JsonLabelPatch[]): Kustomization => ({
      file,
      dir: file.replace(/\/kustomization.yaml$/, ''),
      resources: [],
      patchFiles: [],
      namespace: null,
      labelPatches,
    });
    const add = (key: string, value: string, selector?: string): JsonLabelPatch => ({
      kustomization: 'o/kustomization.yaml',
      file: 'o/kustomization.yaml',
      inline: true,
      targetName: null,
      ...(selector ? { labelSelector: selector } : {}),
      ops: [{ op: 'add', key, value }],
    });
    const ks = [k('o/kustomization.yaml', [add('mesh', 'true'), add('istio.io/rev', '1-20-3', 'mesh=true'), add('x', 'y', 'mesh=false')])];
    const subject = { labels: { team: 'a' }, annotations: {} };
    expect(labelPatchesFor(ks, 'orders', subject).map((p) => p.ops[0]!.key)).toEqual(['mesh', 'istio.io/rev']);
    // Without the labels to evaluate on, a selector patch is left out, never applied blindly.
    expect(labelPatchesFor(ks, 'orders').map((p) => p.ops[0]!.key)).toEqual(['mesh']);
  });
});
