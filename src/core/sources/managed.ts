import { planHint, said, UpgradeRefusedError } from '../../model/errors.js';
import { getPath, INJECTION_LABEL, ISTIO_SYSTEM, labelsOf, podTemplateOf, REV_LABEL, TAG_LABEL, WORKLOAD_KINDS } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { YamlIndex } from '../repo-index.js';
import { isManagedChannel, type Revision } from '../revision.js';

/**
 * Managed Cloud Service Mesh (formerly managed ASM): Google runs the control plane of a release
 * channel (`asm-managed` regular, `asm-managed-rapid`, `asm-managed-stable`) outside the cluster.
 * Git holds at most a `ControlPlaneRevision` per channel and the data plane: namespace and pod
 * labels, gateways, Istio config. Nothing in git says which release a channel runs.
 */
export interface ManagedMesh {
  /** Channels the repo names: ControlPlaneRevisions, namespace or pod labels, managed injectors. */
  readonly channels: readonly string[];
  /** The `ControlPlaneRevision` objects in git (`mesh.cloud.google.com/v1beta1` or `v1alpha1`). */
  readonly controlPlaneRevisions: readonly IndexedObject[];
  /** Files that show the mesh is managed. */
  readonly evidence: readonly string[];
}

const CHANNEL_OF: Readonly<Record<string, string>> = {
  'asm-managed': 'regular',
  'asm-managed-rapid': 'rapid',
  'asm-managed-stable': 'stable',
};

/** The GKE/CSM release channel a managed revision follows: `asm-managed-rapid` → `rapid`. */
export function channelOf(revision: string): string {
  return CHANNEL_OF[revision] ?? revision;
}

/** Finds a managed control plane in the repo, or null when nothing says the mesh is managed. */
export function detectManagedMesh(index: YamlIndex): ManagedMesh | null {
  const channels = new Set<string>();
  const evidence = new Set<string>();
  const controlPlaneRevisions = index
    .ofKind('ControlPlaneRevision')
    .filter((o) => !o.isPatch && /^mesh\.cloud\.google\.com\/v1(beta1|alpha1)$/.test(o.apiVersion));
  for (const cr of controlPlaneRevisions) {
    evidence.add(cr.file);
    if (isManagedChannel(cr.name)) channels.add(cr.name);
  }
  for (const ns of index.ofKind('Namespace')) {
    const rev = labelsOf(ns.body)[REV_LABEL];
    if (rev && isManagedChannel(rev)) {
      channels.add(rev);
      evidence.add(ns.file);
    }
  }
  for (const kind of WORKLOAD_KINDS) {
    for (const workload of index.ofKind(kind)) {
      const rev = podTemplateOf(workload.body).labels[REV_LABEL];
      if (rev && isManagedChannel(rev)) {
        channels.add(rev);
        evidence.add(workload.file);
      }
    }
  }
  for (const mwc of index.ofKind('MutatingWebhookConfiguration')) {
    const rev = /^istiod-(asm-managed(?:-rapid|-stable)?)$/.exec(mwc.name)?.[1];
    if (rev) {
      channels.add(rev);
      evidence.add(mwc.file);
    }
  }
  // asmcli's managed options (`asm-options` in istio-system) and the fleet feature's `mesh` config.
  for (const cm of index.ofKind('ConfigMap')) {
    if (cm.namespace === ISTIO_SYSTEM && cm.name === 'asm-options') evidence.add(cm.file);
  }
  // Config Connector: the fleet's `servicemesh` feature, or a membership of it with mesh management.
  for (const feature of [...index.ofKind('GKEHubFeature'), ...index.ofKind('GKEHubFeatureMembership')]) {
    if (getPath(feature.body, ['spec', 'resourceID']) === 'servicemesh' || getPath(feature.body, ['spec', 'mesh']) !== undefined)
      evidence.add(feature.file);
  }
  if (evidence.size === 0) return null;
  return { channels: [...channels].sort(), controlPlaneRevisions, evidence: [...evidence].sort() };
}

/**
 * The revision `istio-injection=enabled` namespaces follow when the `default` tag is outside git:
 * the channel the upgrade started from (the bot's state), else the one channel besides the target
 * that the repo names, or null (no revision is visible, or several are).
 */
export function assumedDefaultChannel(managed: ManagedMesh | null, index: YamlIndex, target: string, startedFrom?: string): string | null {
  if (!managed) return null;
  // The target appears in git as namespaces move to it; the tag stays where it was until default-revision.
  const others = managed.channels.filter((c) => c !== target);
  const channel = startedFrom !== undefined && isManagedChannel(startedFrom) ? startedFrom : others.length === 1 ? others[0]! : null;
  if (channel === null) return null;
  const tagInGit = index.ofKind('MutatingWebhookConfiguration').some((o) => labelsOf(o.body)[TAG_LABEL] === 'default');
  const injectionEnabled = index.ofKind('Namespace').some((o) => labelsOf(o.body)[INJECTION_LABEL] === 'enabled');
  return !tagInGit && injectionEnabled ? channel : null;
}

/**
 * Whether the repo is a managed mesh that names no revision at all (namespaces only say
 * istio-injection=enabled, the default tag is outside git) and the target is a channel: the
 * starting revision is whatever the default tag serves, unknown to git.
 */
export function followsUnseenDefault(managed: ManagedMesh | null, index: YamlIndex, to: string, startedUnseen = false): boolean {
  // Namespaces already moved to the target name it; what matters is that nothing else is named.
  if (!managed || managed.channels.some((c) => c !== to) || !isManagedChannel(to)) return false;
  // Planned again during an upgrade that started so: still so once the last namespace has moved.
  if (startedUnseen) return true;
  const tagInGit = index.ofKind('MutatingWebhookConfiguration').some((o) => labelsOf(o.body)[TAG_LABEL] === 'default');
  const revisioned = index.ofKind('Namespace').some((o) => (labelsOf(o.body)[REV_LABEL] ?? to) !== to);
  const injectionEnabled = index.ofKind('Namespace').some((o) => labelsOf(o.body)[INJECTION_LABEL] === 'enabled');
  return !tagInGit && !revisioned && injectionEnabled;
}

/** A channel with `--version` cannot be planned: Google picks a channel's release. */
export function assertManagedTarget(to: string, version: string | undefined): void {
  if (!isManagedChannel(to) || version === undefined) return;
  throw new UpgradeRefusedError(
    said`${to} is a managed Cloud Service Mesh release channel: Google picks and upgrades its release, so --version ${version} cannot be honoured. Drop --version to move to the channel, or name an in-cluster revision with its release (e.g. ${planHint('asm-1200-1', { version: '1.20.1-asm.1' })}).`,
    'managed-channel-version',
  );
}

/**
 * Which moves involve a managed channel and make sense (Google's docs): between channels (each
 * channel is its own control plane revision; namespaces move by relabel and restart), and from an
 * in-cluster ASM revision to a channel (migrate from in-cluster to managed). Not planned: from OSS
 * Istio to a channel (Cloud Service Mesh onboarding first), and from a channel back to an
 * in-cluster revision.
 */
export function assertManagedMove(from: Revision, to: Revision): void {
  if (to.flavor === 'managed' && from.flavor !== 'managed' && from.flavor !== 'asm') {
    throw new UpgradeRefusedError(
      `${from.name} is an open-source Istio control plane; moving it to the managed channel ${to.name} is a Cloud Service Mesh onboarding, not a canary upgrade. Onboard the cluster to Cloud Service Mesh first (gcloud container fleet mesh enable, then gcloud container fleet mesh update --management automatic --memberships MEMBERSHIP), then plan again: the bot moves the namespaces.`,
      'managed-from-open-source',
    );
  }
  if (from.flavor === 'managed' && to.flavor !== 'managed') {
    throw new UpgradeRefusedError(
      `${from.name} is a managed Cloud Service Mesh control plane; going back to an in-cluster revision (${to.name}) is not planned. Pick another channel (asm-managed, asm-managed-rapid or asm-managed-stable), or install ${to.name} with asmcli by hand and plan from the repo again.`,
      'managed-to-in-cluster',
    );
  }
}
