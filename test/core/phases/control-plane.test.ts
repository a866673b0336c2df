import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import type { RepoSnapshot } from '../../../src/core/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';

/** An ASM revision installed outside git (by asmcli): only a meshed namespace names it. */
const EXTERNAL_ASM: RepoSnapshot = new Map([
  ['apps/shop/namespace.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio.io/rev: asm-1130-0\n'],
  ['apps/shop/web.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{name: web, image: web:1}]\n'],
]);

const BARE_METAL_CLUSTER = 'apiVersion: baremetal.cluster.gke.io/v1\nkind: Cluster\nmetadata:\n  name: edge-1\n  namespace: cluster-edge-1\nspec:\n  anthosBareMetalVersion: 1.12.1\n';

function manualOf(snapshot: RepoSnapshot, options: Parameters<typeof planUpgrade>[1] = { to: 'asm-1140-0' }): string[] {
  return planUpgrade(snapshot, options).phases.find((p) => p.id === 'control-plane')!.manual;
}

function withFile(snapshot: RepoSnapshot, path: string, text: string): RepoSnapshot {
  return new Map([...snapshot, [path, text]]);
}

describe('control-plane manual steps for ASM (asmcli)', () => {
  let manifests: RepoSnapshot;
  beforeAll(async () => {
    manifests = await loadFixture('asm-manifests');
  });

  it('downloads the asmcli pinned to the target release, not the floating asmcli_<minor>', () => {
    for (const manual of [manualOf(EXTERNAL_ASM), manualOf(manifests)]) {
      const fetch = manual[0]!;
      expect(fetch).toContain('https://storage.googleapis.com/csm-artifacts/asm/asmcli_1.14.0-asm.0-config1 ');
      expect(fetch).not.toContain('/asm/asmcli_1.14 ');
    }
  });

  it('uses the GKE flags by default, with obvious placeholders', () => {
    const install = manualOf(EXTERNAL_ASM).find((s) => s.startsWith('./asmcli install'))!;
    expect(install).toContain('--project_id PROJECT_ID --cluster_name CLUSTER_NAME --cluster_location CLUSTER_LOCATION');
    expect(install).not.toContain('--platform multicloud');
  });

  it('uses the multicloud flags when asked (GKE flags fail on bare metal, VMware and other clouds)', () => {
    for (const manual of [manualOf(EXTERNAL_ASM, { to: 'asm-1140-0', platform: 'multicloud' }), manualOf(manifests, { to: 'asm-1140-0', platform: 'multicloud' })]) {
      const asmcli = manual.filter((s) => s.startsWith('./asmcli '));
      expect(asmcli).toHaveLength(1);
      expect(asmcli[0]).toContain('--platform multicloud --kubeconfig KUBECONFIG --fleet_id FLEET_PROJECT_ID');
      expect(asmcli[0]).not.toMatch(/--project_id|--cluster_name|--cluster_location/);
    }
  });

  it('detects an Anthos bare-metal cluster in the repo, unless the platform is given', () => {
    const bareMetal = withFile(EXTERNAL_ASM, 'bmctl/edge-1.yaml', BARE_METAL_CLUSTER);
    expect(manualOf(bareMetal).join('\n')).toContain('--platform multicloud --kubeconfig KUBECONFIG --fleet_id FLEET_PROJECT_ID');
    expect(manualOf(bareMetal, { to: 'asm-1140-0', platform: 'gke' }).join('\n')).toContain('--project_id PROJECT_ID');
  });

  it('detects an IstioOperator with the asm-multicloud profile', () => {
    const operator = 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: asm-overlay\n  namespace: istio-system\nspec:\n  profile: asm-multicloud\n';
    expect(manualOf(withFile(EXTERNAL_ASM, 'istio/overlay.yaml', operator)).join('\n')).toContain('--platform multicloud');
  });

  it('creates the output directory before redirecting the rendered manifests into it', () => {
    const manual = manualOf(manifests);
    const dir = 'clusters/prod/istio-system/asm-1140-0';
    const mkdir = manual.findIndex((s) => s.startsWith(`mkdir -p ${dir}`));
    const render = manual.findIndex((s) => s.includes(`> ${dir}/istiod.yaml`));
    expect(mkdir).toBeGreaterThanOrEqual(0);
    expect(mkdir).toBeLessThan(render);
    // The istioctl the pinned asmcli downloads: <output_dir>/istio-<release>/bin/istioctl.
    expect(manual[render]).toMatch(/^\.\/asm-1140-0\/istio-1\.14\.0-asm\.0\/bin\/istioctl manifest generate /);
  });
});
