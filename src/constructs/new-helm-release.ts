import type { Construct } from 'constructs';
import { asDict, getPath, ISTIO_SYSTEM } from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import { DesiredObject } from './desired-object.js';
import { withWebhookDriftIgnored } from './helm-release.js';

interface NewHelmReleaseProps {
  /** Release (and object) name: `istio-base`, `istiod-<rev>`. */
  readonly name: string;
  readonly chart: 'base' | 'istiod' | 'gateway';
  readonly version: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Namespace the chart installs into. @default istio-system */
  readonly targetNamespace?: string;
  readonly file: string;
}

interface ArgoApplicationProps extends NewHelmReleaseProps {
  readonly repoURL: string;
  /** The Application that syncs the IstioOperator today: namespace, project, destination cluster and sync policy come from it. */
  readonly like: IndexedObject | null;
  /** Argo CD's resources finalizer (delete the Application → delete what it rendered). */
  readonly cascade: boolean;
}

/**
 * A new Argo CD Application of one of Istio's charts, shaped after the Application that syncs the
 * IstioOperator: same Argo CD namespace, project, destination cluster and automated sync policy,
 * values in `helm.valuesObject`, and the webhook fields istiod rewrites at runtime ignored.
 */
export class ArgoHelmApplication extends DesiredObject {
  constructor(scope: Construct, id: string, props: ArgoApplicationProps) {
    const like = asDict(props.like?.body);
    const spec = asDict(like.spec);
    const destination = asDict(spec.destination);
    const cluster =
      destination.name !== undefined ? { name: destination.name } : { server: destination.server ?? 'https://kubernetes.default.svc' };
    const automated = getPath(spec, ['syncPolicy', 'automated']);
    const body = {
      metadata: props.cascade ? { finalizers: ['resources-finalizer.argocd.argoproj.io'] } : {},
      spec: withWebhookDriftIgnored({
        project: spec.project ?? 'default',
        source: {
          repoURL: props.repoURL,
          chart: props.chart,
          targetRevision: props.version,
          helm: { releaseName: props.name, valuesObject: props.values },
        },
        destination: { ...cluster, namespace: props.targetNamespace ?? ISTIO_SYSTEM },
        ...(automated !== undefined ? { syncPolicy: { automated: structuredClone(automated) } } : {}),
      }),
    };
    super(scope, id, {
      apiVersion: props.like?.apiVersion ?? 'argoproj.io/v1alpha1',
      kind: 'Application',
      name: props.name,
      namespace: props.like?.namespace ?? 'argocd',
      body,
      mode: { kind: 'create', file: props.file },
    });
  }
}

interface FluxHelmReleaseProps extends NewHelmReleaseProps {
  readonly repository: { readonly name: string; readonly namespace: string | null };
  /** An existing HelmRelease of the repo: its apiVersion and interval are copied. */
  readonly like: IndexedObject | null;
  readonly dependsOn?: readonly string[];
}

/** A new Flux HelmRelease of one of Istio's charts, in the namespace it installs into. */
export class FluxHelmRelease extends DesiredObject {
  constructor(scope: Construct, id: string, props: FluxHelmReleaseProps) {
    const namespace = props.targetNamespace ?? ISTIO_SYSTEM;
    const interval = getPath(props.like?.body, ['spec', 'interval']) ?? '10m';
    const body = {
      spec: {
        interval,
        releaseName: props.name,
        chart: {
          spec: {
            chart: props.chart,
            version: props.version,
            sourceRef: {
              kind: 'HelmRepository',
              name: props.repository.name,
              ...(props.repository.namespace ? { namespace: props.repository.namespace } : {}),
            },
          },
        },
        ...(props.dependsOn && props.dependsOn.length > 0 ? { dependsOn: props.dependsOn.map((name) => ({ name })) } : {}),
        values: props.values,
      },
    };
    super(scope, id, {
      apiVersion: props.like?.apiVersion.startsWith('helm.toolkit.fluxcd.io/') ? props.like.apiVersion : 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      name: props.name,
      namespace,
      body,
      mode: { kind: 'create', file: props.file },
    });
  }
}

/** Flux's source of Istio's charts. */
export class IstioHelmRepository extends DesiredObject {
  constructor(
    scope: Construct,
    id: string,
    props: { readonly name: string; readonly namespace: string; readonly url: string; readonly file: string },
  ) {
    super(scope, id, {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'HelmRepository',
      name: props.name,
      namespace: props.namespace,
      body: { spec: { interval: '1h', url: props.url } },
      mode: { kind: 'create', file: props.file },
    });
  }
}
