import type { IndexedObject } from '../model/objects.js';
import type { Substitution } from './sources/flux-substitution.js';

export type InstallStyle = 'manifests' | 'istio-operator' | 'helm' | 'external' | 'sail-operator' | 'managed';

/** An Istio Helm chart installed through an Argo CD Application or a Flux HelmRelease. */
export interface HelmRelease {
  readonly object: IndexedObject;
  readonly chart: 'base' | 'istiod' | 'gateway';
  readonly values: Readonly<Record<string, unknown>>;
  /** Where the values live; the last key holds a string of YAML when `valuesAreText`. */
  readonly valuesPath: readonly string[];
  readonly valuesAreText: boolean;
  readonly chartVersionPath: readonly string[] | null;
  readonly chartVersion: string | null;
  /** The Flux post-build variable the chart version comes from (`version: ${istio_version}`), when it does. */
  readonly chartVersionSubstitution?: Substitution | null;
  /**
   * Argo CD `helm.parameters` that set what the plan edits (`revision`, `revisionTags`,
   * `defaultRevision`, `global.operatorManageWebhooks`): they win over every values field.
   */
  readonly meshParameters?: readonly string[];
}

export interface InstalledRevision {
  readonly name: string;
  readonly version: string | null;
  readonly install: InstallStyle;
  /** What installs it: the istiod Deployment, the IstioOperator, or the Helm release. */
  readonly installer: IndexedObject | null;
  readonly helm: HelmRelease | null;
  /** Everything in git that belongs to this revision's control plane (removed at cleanup). */
  readonly ownedObjects: readonly IndexedObject[];
  readonly istiodReplicas: number | null;
  readonly hasDisruptionBudget: boolean;
  /**
   * The in-cluster operator that reconciles this revision's IstioOperator, when it is in git. A
   * revisioned operator only reconciles IstioOperators of its own revision.
   */
  readonly operator: InClusterOperator | null;
}

/** An in-cluster Istio operator deployed from git: its Deployment and the objects named after it. */
export interface InClusterOperator {
  readonly revision: string | null;
  readonly deployment: IndexedObject;
  readonly objects: readonly IndexedObject[];
  readonly version: string | null;
}

export interface RevisionTag {
  readonly tag: string;
  readonly revision: string;
  readonly object: IndexedObject;
}

export type InjectionMode =
  | { readonly mode: 'revision'; readonly value: string }
  | { readonly mode: 'injection-enabled' }
  | { readonly mode: 'disabled' }
  | { readonly mode: 'none' };

export interface MeshNamespace {
  readonly name: string;
  /** Every definition (a kustomize base and the patches that label it). */
  readonly definitions: readonly IndexedObject[];
  readonly labels: Readonly<Record<string, string>>;
  readonly injection: InjectionMode;
  /** The revision that injects new pods here, following tags; null when not meshed. */
  readonly revision: string | null;
  readonly hasBothLabels: boolean;
}

export interface MeshNamespace {
  readonly name: string;
  /** Every definition (a kustomize base and the patches that label it). */
  readonly definitions: readonly IndexedObject[];
  readonly labels: Readonly<Record<string, string>>;
  readonly injection: InjectionMode;
  /** The revision that injects new pods here, following tags; null when not meshed. */
  readonly revision: string | null;
  readonly hasBothLabels: boolean;
}

export interface Workload {
  readonly object: IndexedObject;
  readonly replicas: number;
  /** `sidecar.istio.io/inject: "false"` on the pod template. */
  readonly optedOut: boolean;
  /** A pod-template `istio.io/rev`, honoured only when the namespace has no injection label. */
  readonly podRevision: string | null;
  readonly restartMarker: string | null;
}

export interface Gateway extends Workload {
  /** How its revision is chosen: the namespace label, its own pod label, or a Helm release. */
  readonly style: 'namespace-label' | 'pod-label' | 'helm';
  readonly revision: string | null;
  /**
   * A gateway rendered with its proxy written out (`istioctl manifest generate` output): a fixed
   * `proxyv2` image and a `CA_ADDR` naming one istiod. Relabelling or restarting it changes
   * neither, so it stays on that revision until its manifest is regenerated.
   */
  readonly pinned: { readonly image: string | null; readonly caAddress: string | null } | null;
}

export interface MeshInventory {
  readonly revisions: readonly InstalledRevision[];
  /** Revisions named anywhere (namespaces, tags, Services, gateways) but not installed from git. */
  readonly externalRevisions: readonly string[];
  readonly tags: readonly RevisionTag[];
  readonly defaultValidator: IndexedObject | null;
  readonly deprecatedValidator: IndexedObject | null;
  readonly istiodService: IndexedObject | null;
  readonly nonRevisionInjector: IndexedObject | null;
  readonly namespaces: readonly MeshNamespace[];
  readonly gateways: readonly Gateway[];
  readonly helmGateways: readonly HelmRelease[];
  readonly helmBase: HelmRelease | null;
  readonly workloads: readonly Workload[];
  /** Istio config (VirtualService, …) labelled with a revision: only that revision's istiod sees it. */
  readonly revisionedConfig: readonly IndexedObject[];
  readonly argoApplications: readonly IndexedObject[];
  /** Webhook configurations in git that carry a `caBundle` (istiod owns that field at runtime). */
  readonly webhooksWithCaBundle: readonly IndexedObject[];
  /** In-cluster Istio operators deployed from git. */
  readonly operators: readonly InClusterOperator[];
}
