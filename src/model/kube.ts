import type { IndexedObject, KubeObject } from './objects.js';

/** Label and annotation keys the mesh is steered by. */
export const REV_LABEL = 'istio.io/rev';
export const TAG_LABEL = 'istio.io/tag';
export const INJECTION_LABEL = 'istio-injection';
export const INJECT_LABEL = 'sidecar.istio.io/inject';
export const INJECT_TEMPLATES_ANNOTATION = 'inject.istio.io/templates';
/**
 * Pod-template annotation that restarts a workload onto a revision. Its value is the revision, so
 * re-running a phase changes nothing, and any change of it rolls the pods (as `kubectl rollout
 * restart` does with `kubectl.kubernetes.io/restartedAt`, but deterministic).
 */
export const RESTART_ANNOTATION = 'mesh-upgrade-bot.io/restarted-for-revision';

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
export const ISTIO_SYSTEM = 'istio-system';

type Dict = Readonly<Record<string, unknown>>;

export function asDict(value: unknown): Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Dict) : {};
}

export function stringMap(value: unknown): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asDict(value))) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

export function labelsOf(object: KubeObject): Readonly<Record<string, string>> {
  return stringMap(object.metadata.labels);
}

export function podTemplateOf(object: KubeObject): {
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  containers: Dict[];
} {
  const metadata = asDict(asDict(asDict(object.spec).template).metadata);
  const spec = asDict(asDict(asDict(object.spec).template).spec);
  const containers = Array.isArray(spec.containers) ? (spec.containers as unknown[]).map(asDict) : [];
  return { labels: stringMap(metadata.labels), annotations: stringMap(metadata.annotations), containers };
}

/** Replicas a workload runs; Kubernetes defaults a missing field to 1. DaemonSets count one per node, unknown here: 1. */
export function replicasOf(object: KubeObject): number {
  const replicas = asDict(object.spec).replicas;
  return typeof replicas === 'number' && replicas >= 0 ? replicas : 1;
}

export function getPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) current = asDict(current)[key];
  return current;
}

export function describe(object: Pick<IndexedObject, 'kind' | 'namespace' | 'name'>): string {
  return object.namespace ? `${object.kind} ${object.namespace}/${object.name}` : `${object.kind} ${object.name}`;
}
