import type { Construct } from 'constructs';
import { asDict } from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import { DesiredObject } from './desired-object.js';

interface IstioOperatorRevisionProps {
  /** The IstioOperator of the running revision; its settings (and its file's layout) carry over. */
  readonly current: IndexedObject;
  readonly currentRevision: string;
  readonly name: string;
  readonly namespace: string;
  readonly revision: string;
  /** Image tag of the new release (`spec.tag`). @default - the current tag is kept */
  readonly tag?: string;
  /** Image pins of the old spec moved to the target (a merge patch of `spec`, e.g. `values.global.tag`). @default - none */
  readonly pins?: Readonly<Record<string, unknown>>;
  readonly file: string;
}

/**
 * The new revision's IstioOperator, beside the old one: same settings, `spec.revision` and
 * `spec.tag` of the target, and every gateway disabled — an operator-managed gateway Deployment
 * has no revision in its name, so a second IstioOperator that enables it would upgrade it in
 * place (istio/istio#26019). Gateways move in their own phase.
 * @see https://istio.io/latest/docs/setup/upgrade/canary/
 */
export class IstioOperatorRevision extends DesiredObject {
  constructor(scope: Construct, id: string, props: IstioOperatorRevisionProps) {
    const current = asDict(props.current.body);
    const metadata = asDict(current.metadata);
    const spec: Record<string, unknown> = mergeInto(structuredClone(asDict(current.spec)) as Record<string, unknown>, props.pins ?? {});
    spec.revision = props.revision;
    if (props.tag !== undefined) spec.tag = props.tag;
    // Written out even when the old IstioOperator says nothing: profiles such as `default` and
    // `demo` enable gateways by themselves.
    const components = asDict(spec.components);
    spec.components = {
      ...components,
      ...disabled(components, 'ingressGateways', 'istio-ingressgateway'),
      ...disabled(components, 'egressGateways', 'istio-egressgateway'),
    };
    super(scope, id, {
      apiVersion: String(current.apiVersion ?? 'install.istio.io/v1alpha1'),
      kind: 'IstioOperator',
      name: props.name,
      namespace: props.namespace,
      body: { metadata: { ...carryOver(metadata, props.currentRevision, props.revision) }, spec },
      mode: { kind: 'create', file: props.file, basedOn: props.current, revision: { from: props.currentRevision, to: props.revision } },
    });
  }
}

function disabled(components: Readonly<Record<string, unknown>>, key: string, defaultName: string): Record<string, unknown> {
  const gateways = components[key];
  if (!Array.isArray(gateways) || gateways.length === 0) return { [key]: [{ name: defaultName, enabled: false }] };
  return { [key]: gateways.map((g) => ({ ...asDict(g), enabled: false })) };
}

/** Labels and annotations of the old object, with the old revision replaced in their values. */
export function carryOver(metadata: Readonly<Record<string, unknown>>, from: string, to: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of ['labels', 'annotations'] as const) {
    const entries = Object.entries(asDict(metadata[field])).map(([k, v]) => [k, typeof v === 'string' ? v.split(from).join(to) : v]);
    if (entries.length > 0) out[field] = Object.fromEntries(entries);
  }
  return out;
}

/** `over` merged deeply into `base` (plain objects only; `over` wins). */
export function mergeInto(base: Record<string, unknown>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  for (const [key, value] of Object.entries(over)) {
    const current = base[key];
    base[key] = isRecord(value) && isRecord(current) ? mergeInto(current, value) : structuredClone(value);
  }
  return base;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
