import { asDict } from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import type { YamlIndex } from './repo-index.js';

/**
 * Where the cluster runs, as asmcli needs to know it: `gke` (Google Cloud: project, cluster name
 * and location) or `multicloud` (Anthos on bare metal, VMware, other clouds: a kubeconfig and a
 * fleet project). The GKE flags fail outside Google Cloud.
 */
export const PLATFORMS = ['gke', 'multicloud'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * API groups of Anthos clusters outside Google Cloud whose objects a cluster-config repo may hold:
 * bare metal (`bmctl`'s `Cluster`, `NodePool`) and VMware (`onprem.cluster.gke.io`).
 */
const OFF_GCP_GROUPS = ['baremetal.cluster.gke.io', 'onprem.cluster.gke.io'];

/** The IstioOperator profile ASM used off Google Cloud before asmcli (`istioctl install --set profile=asm-multicloud`). */
const OFF_GCP_PROFILE = 'asm-multicloud';

/**
 * `multicloud` when the repo shows the cluster runs outside Google Cloud, else `gke`. Only hints
 * that name the platform count; anything else (including nothing) is GKE, asmcli's own default.
 */
export function detectPlatform(index: YamlIndex): Platform {
  return index.objects.some((o) => isOffGcpObject(o) || usesMulticloudProfile(o)) ? 'multicloud' : 'gke';
}

function isOffGcpObject(object: IndexedObject): boolean {
  const group = object.apiVersion.includes('/') ? object.apiVersion.slice(0, object.apiVersion.indexOf('/')) : '';
  return OFF_GCP_GROUPS.some((g) => group === g || group.endsWith(`.${g}`));
}

function usesMulticloudProfile(object: IndexedObject): boolean {
  return object.kind === 'IstioOperator' && asDict(object.body.spec).profile === OFF_GCP_PROFILE;
}
