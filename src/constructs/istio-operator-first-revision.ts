import type { Construct } from 'constructs';
import { asDict } from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import { DesiredObject } from './desired-object.js';
import { mergeInto } from './istio-operator-revision.js';

/** The annotation that makes an in-cluster operator skip an IstioOperator (istiocontrolplane_controller.go). */
export const IGNORE_RECONCILE_ANNOTATION = 'install.istio.io/ignoreReconcile';
/** Argo CD applies a higher wave only once the lower ones are healthy. */
const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

interface FirstRevisionIstioOperatorProps {
  /** The IstioOperator without revision; its settings, comments and layout carry over. */
  readonly current: IndexedObject;
  readonly name: string;
  readonly revision: string;
  /** Image tag of the new release (`spec.tag`). @default - the current tag is kept */
  readonly tag?: string;
  /** Image pins of the old spec moved to the target (a merge patch of `spec`). @default - none */
  readonly pins?: Readonly<Record<string, unknown>>;
  /** Gateway components the old IstioOperator runs (by component key), written off in the copy. */
  readonly gateways: Readonly<Record<'ingressGateways' | 'egressGateways', readonly string[]>>;
  /** Argo CD sync wave of the copy (after the operator changes of the same commit). @default - none */
  readonly syncWave?: string;
  readonly file: string;
}

/**
 * The first revisioned IstioOperator, copied from the non-revisioned one: `spec.revision` and
 * `spec.tag` of the target, the base component off (CRDs and the base chart's objects belong to
 * the install that is already there, and are never rendered twice), and every gateway off: the
 * gateway Deployments have no revision in their names, so the copy takes them over in place in the
 * gateways phase, not before. Unlike the copy between two revisions, nothing named `default` is
 * renamed: `default` is no revision string in the old file (profile `default`, namespace `default`).
 */
export class FirstRevisionIstioOperator extends DesiredObject {
  constructor(scope: Construct, id: string, props: FirstRevisionIstioOperatorProps) {
    const current = asDict(props.current.body);
    const metadata = asDict(current.metadata);
    const spec = mergeInto(structuredClone(asDict(current.spec)) as Record<string, unknown>, props.pins ?? {});
    spec.revision = props.revision;
    if (props.tag !== undefined) spec.tag = props.tag;
    const components = asDict(spec.components);
    spec.components = {
      ...components,
      base: { ...asDict(components.base), enabled: false },
      ...gatewaysOff(components, 'ingressGateways', props.gateways.ingressGateways),
      ...gatewaysOff(components, 'egressGateways', props.gateways.egressGateways),
    };
    const annotations: Record<string, unknown> = { ...asDict(metadata.annotations) };
    delete annotations[IGNORE_RECONCILE_ANNOTATION];
    if (props.syncWave !== undefined) annotations[SYNC_WAVE_ANNOTATION] = props.syncWave;
    const labels = asDict(metadata.labels);
    super(scope, id, {
      apiVersion: String(current.apiVersion ?? 'install.istio.io/v1alpha1'),
      kind: 'IstioOperator',
      name: props.name,
      namespace: props.current.namespace ?? 'istio-system',
      body: {
        metadata: {
          ...(Object.keys(labels).length > 0 ? { labels } : {}),
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        },
        spec,
      },
      mode: { kind: 'create', file: props.file, basedOn: props.current },
    });
  }
}

/** Every listed gateway off, plus the ones the profile runs by itself (written out). */
function gatewaysOff(components: Readonly<Record<string, unknown>>, key: string, running: readonly string[]): Record<string, unknown> {
  const listed = Array.isArray(components[key]) ? (components[key] as unknown[]).map(asDict) : [];
  const names = new Set(listed.map((g) => g.name));
  const all = [
    ...listed.map((g) => ({ ...g, enabled: false })),
    ...running.filter((n) => !names.has(n)).map((name) => ({ name, enabled: false })),
  ];
  return all.length > 0 ? { [key]: all } : {};
}

interface OperatorRevisionCopyProps {
  /** One object of the non-revisioned operator (`istio-operator`): Deployment, ServiceAccount, RBAC, Service. */
  readonly current: IndexedObject;
  readonly oldName: string;
  readonly name: string;
  readonly revision: string;
  /** The operator image's tag, moved to the target release. */
  readonly imageTag?: { readonly from: string; readonly to: string };
  readonly file: string;
}

/**
 * The revisioned operator of the new revision (`istioctl operator init --revision <new>`), copied
 * from the non-revisioned one in git: named `istio-operator-<new>`, REVISION set, so that it
 * reconciles the new IstioOperator only; the target release's image. Pod labels stay (Istio's own
 * operator chart keeps `name: istio-operator` for every revision).
 */
export class OperatorRevisionCopy extends DesiredObject {
  constructor(scope: Construct, id: string, props: OperatorRevisionCopyProps) {
    const { apiVersion, kind, metadata, ...rest } = props.current.body as unknown as Record<string, unknown>;
    const body = structuredClone(rest) as Record<string, unknown>;
    const rename = (v: unknown) => (v === props.oldName ? props.name : v);
    if (kind === 'Deployment') {
      const podSpec = asDict(asDict(asDict(body.spec).template).spec) as Record<string, unknown>;
      if (podSpec.serviceAccountName !== undefined) podSpec.serviceAccountName = rename(podSpec.serviceAccountName);
      if (Array.isArray(podSpec.containers)) {
        podSpec.containers = podSpec.containers.map((c) => {
          const container = { ...asDict(c) };
          if (props.imageTag && typeof container.image === 'string')
            container.image = container.image.replace(`:${props.imageTag.from}`, `:${props.imageTag.to}`);
          if (container.name === 'istio-operator' || (typeof container.image === 'string' && /\/operator:/.test(container.image))) {
            const env = Array.isArray(container.env) ? container.env.map(asDict) : [];
            const hasRevision = env.some((e) => e.name === 'REVISION');
            container.env = hasRevision
              ? env.map((e) => (e.name === 'REVISION' ? { ...e, value: props.revision } : e))
              : [...env, { name: 'REVISION', value: props.revision }];
          }
          return container;
        });
      }
    }
    // A binding renames elements of its subjects list, which an edit by element name cannot: it is
    // copied as text with its `name:` values renamed (namespaces are no `name:` values).
    const binding = kind === 'ClusterRoleBinding' || kind === 'RoleBinding';
    if (binding) {
      if (Array.isArray(body.subjects)) body.subjects = body.subjects.map((s) => ({ ...asDict(s), name: rename(asDict(s).name) }));
      if (body.roleRef) body.roleRef = { ...asDict(body.roleRef), name: rename(asDict(body.roleRef).name) };
    }
    const { name: _n, namespace: _ns, uid: _u, resourceVersion: _r, creationTimestamp: _c, ...meta } = asDict(metadata);
    super(scope, id, {
      apiVersion: String(apiVersion),
      kind: String(kind),
      name: props.name,
      ...(props.current.namespace ? { namespace: props.current.namespace } : {}),
      body: { ...body, metadata: meta },
      mode: binding
        ? {
            kind: 'create',
            file: props.file,
            basedOn: props.current,
            rewrite: [`name: ${props.oldName}\n`, `name: "${props.oldName}"`, `name: '${props.oldName}'`].map(
              (from) => [from, from.replace(props.oldName, props.name)] as const,
            ),
          }
        : { kind: 'create', file: props.file, basedOn: props.current },
    });
  }
}
