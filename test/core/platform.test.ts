import { describe, expect, it } from 'vitest';
import { detectPlatform } from '../../src/core/platform.js';
import { buildYamlIndex } from '../../src/core/yaml-index.js';
import { FIXTURE_CASES, loadFixture } from '../helpers/fixtures.js';

const detect = (files: Record<string, string>) => detectPlatform(buildYamlIndex(new Map(Object.entries(files))));

describe('detectPlatform', () => {
  it.each([
    [
      'an Anthos bare-metal Cluster',
      'apiVersion: baremetal.cluster.gke.io/v1\nkind: Cluster\nmetadata:\n  name: edge\n  namespace: cluster-edge\n',
    ],
    [
      'an Anthos on VMware object',
      'apiVersion: onprem.cluster.gke.io/v1alpha1\nkind: OnPremUserCluster\nmetadata:\n  name: user-1\n  namespace: kube-system\n',
    ],
    [
      'an IstioOperator with profile asm-multicloud',
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: asm\n  namespace: istio-system\nspec:\n  profile: asm-multicloud\n',
    ],
  ])('says multicloud for %s', (_, text) => {
    expect(detect({ 'x.yaml': text })).toBe('multicloud');
  });

  it('says gke for other profiles, look-alike groups and an empty repo', () => {
    expect(
      detect({
        'iop.yaml': 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: asm\nspec:\n  profile: asm-gcp\n',
      }),
    ).toBe('gke');
    expect(detect({ 'x.yaml': 'apiVersion: notbaremetal.cluster.gke.io/v1\nkind: Cluster\nmetadata:\n  name: a\n' })).toBe('gke');
    expect(detect({})).toBe('gke');
  });

  it.each(FIXTURE_CASES.map((c) => c.name))('says gke for fixture %s', async (name) => {
    expect(detectPlatform(buildYamlIndex(await loadFixture(name)))).toBe('gke');
  });
});
