import type { Construct } from 'constructs';
import { asDict, getPath } from '../model/kube.js';
import type { MergePatch } from '../model/merge-patch.js';
import type { IndexedObject } from '../model/objects.js';
import { DesiredObject, nest } from './desired-object.js';
import { carryOver } from './istio-operator-revision.js';

interface HelmValuesProps {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | null;
  /** Where the chart values live (`spec.source.helm.valuesObject`, `…/values`, `spec.values`). */
  readonly valuesPath: readonly string[];
  /** @default - values unchanged */
  readonly values?: MergePatch;
  /** Where the chart version lives, and the version to set. @default - unchanged */
  readonly chartVersion?: { readonly path: readonly string[]; readonly version: string };
  /** Other fields of the release to set in the same edit (e.g. an Argo CD sync policy). @default - none */
  readonly also?: MergePatch;
  /** Fields to remove, as JSON pointers. @default - none */
  readonly remove?: readonly string[];
}

/**
 * Changes values (and optionally the chart version) of an Istio Helm release managed as an Argo CD
 * Application or a Flux HelmRelease: `revision` of a gateway, `revisionTags` of istiod,
 * `defaultRevision` of base. Values kept as a YAML string are edited inside the string.
 */
export class HelmValues extends DesiredObject {
  constructor(scope: Construct, id: string, props: HelmValuesProps) {
    let body: Record<string, unknown> = props.values ? nest(props.valuesPath, props.values) : {};
    if (props.chartVersion) body = deepMerge(body, nest(props.chartVersion.path, props.chartVersion.version));
    if (props.also) body = deepMerge(body, props.also as Record<string, unknown>);
    super(scope, id, {
      apiVersion: props.apiVersion,
      kind: props.kind,
      name: props.name,
      ...(props.namespace ? { namespace: props.namespace } : {}),
      body,
      ...(props.remove ? { remove: props.remove } : {}),
      mode: { kind: 'patch' },
    });
  }
}

interface IstiodReleaseProps {
  /** The release of the running revision; its settings (and its file's layout) carry over. */
  readonly current: IndexedObject;
  readonly currentRevision: string;
  readonly name: string;
  readonly namespace: string | null;
  readonly revision: string;
  readonly valuesPath: readonly string[];
  /** New values: the current ones with `revision` set and `revisionTags` dropped (tags move later). */
  readonly values: Readonly<Record<string, unknown>> | string;
  readonly chartVersion?: { readonly path: readonly string[]; readonly version: string };
  readonly file: string;
}

/**
 * A second `istiod` Helm release for the new revision, beside the old one, as Istio's Helm canary
 * upgrade does (`helm install istiod-canary istio/istiod --set revision=canary`).
 * @see https://istio.io/latest/docs/setup/upgrade/helm/#canary-upgrade-recommended
 */
export class IstiodRelease extends DesiredObject {
  constructor(scope: Construct, id: string, props: IstiodReleaseProps) {
    const current = asDict(props.current.body);
    let body: Record<string, unknown> = { ...(structuredClone(current) as Record<string, unknown>) };
    delete body.status;
    body = setPath(body, props.valuesPath, props.values);
    if (props.chartVersion) body = setPath(body, props.chartVersion.path, props.chartVersion.version);
    // The Helm release name usually carries the revision (`istiod-1-21-2`); two releases cannot share one.
    for (const path of [
      ['spec', 'source', 'helm', 'releaseName'],
      ['spec', 'releaseName'],
    ]) {
      const releaseName = getPath(body, path);
      if (typeof releaseName === 'string' && releaseName.includes(props.currentRevision)) {
        body = setPath(body, path, releaseName.split(props.currentRevision).join(props.revision));
      } else if (typeof releaseName === 'string' && props.currentRevision === 'default') {
        // The non-revisioned release's name (`istiod`) names no revision: the new one gets its own.
        body = setPath(body, path, `${releaseName}-${props.revision}`);
      }
    }
    const metadata = asDict(current.metadata);
    // Argo CD's resources finalizer is what makes deleting the Application delete istiod later.
    body.metadata = {
      ...carryOver(metadata, props.currentRevision, props.revision),
      ...(Array.isArray(metadata.finalizers) ? { finalizers: [...metadata.finalizers] } : {}),
    };
    if (String(current.apiVersion).startsWith('argoproj.io/')) body.spec = withWebhookDriftIgnored(asDict(body.spec));
    super(scope, id, {
      apiVersion: String(current.apiVersion),
      kind: String(current.kind),
      name: props.name,
      ...(props.namespace ? { namespace: props.namespace } : {}),
      body,
      mode: { kind: 'create', file: props.file, basedOn: props.current, revision: { from: props.currentRevision, to: props.revision } },
    });
  }
}

const WEBHOOK_GROUP = 'admissionregistration.k8s.io';
/** Fields istiod rewrites at runtime on the webhook configurations it serves. */
const RUNTIME_WEBHOOK_FIELDS = {
  MutatingWebhookConfiguration: ['.webhooks[]?.clientConfig.caBundle'],
  ValidatingWebhookConfiguration: ['.webhooks[]?.clientConfig.caBundle', '.webhooks[]?.failurePolicy'],
} as const;

/**
 * The Application spec with every runtime-owned webhook field in `ignoreDifferences` (and
 * `RespectIgnoreDifferences`, so a sync does not write them back): an Application the bot creates
 * must not start OutOfSync against istiod.
 */
export function withWebhookDriftIgnored(spec: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const entries = Array.isArray(spec.ignoreDifferences) ? spec.ignoreDifferences.map(asDict) : [];
  const added: Record<string, unknown>[] = [];
  for (const [kind, paths] of Object.entries(RUNTIME_WEBHOOK_FIELDS)) {
    const covering = entries.filter((e) => e.kind === kind && (e.group === undefined || e.group === WEBHOOK_GROUP) && e.name === undefined);
    const covered = JSON.stringify(covering);
    const missing = paths.filter((p) => !covered.includes(p.replace('.webhooks[]?.', '')));
    if (missing.length > 0) added.push({ group: WEBHOOK_GROUP, kind, jqPathExpressions: missing });
  }
  const syncPolicy = asDict(spec.syncPolicy);
  const options = Array.isArray(syncPolicy.syncOptions) ? syncPolicy.syncOptions.filter((o): o is string => typeof o === 'string') : [];
  const respects = options.some((o) => o.startsWith('RespectIgnoreDifferences='));
  return {
    ...spec,
    ...(added.length > 0 ? { ignoreDifferences: [...entries, ...added] } : {}),
    ...(respects ? {} : { syncPolicy: { ...syncPolicy, syncOptions: [...options, 'RespectIgnoreDifferences=true'] } }),
  };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return target;
  return { ...target, [head]: rest.length === 0 ? value : setPath({ ...asDict(target[head]) }, rest, value) };
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof out[k] === 'object'
        ? deepMerge(asDict(out[k]) as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
