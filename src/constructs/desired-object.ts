import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { Desired, DesiredJson, DesiredMode } from '../model/desired.js';

interface DesiredObjectProps {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** @default - cluster-scoped */
  readonly namespace?: string;
  /** Everything of the object besides apiVersion, kind, name and namespace. */
  readonly body?: Readonly<Record<string, unknown>>;
  /** Fields to remove, as JSON pointers (`/metadata/labels/istio-injection`). @default - none */
  readonly remove?: readonly string[];
  readonly mode: DesiredMode;
}

/**
 * Base of every construct a phase synthesizes: one Kubernetes object (whole, or the fields to
 * change), with an explicit name. Removals are `null`s in the result (merge-patch semantics).
 */
export class DesiredObject extends Construct implements Desired {
  readonly mode: DesiredMode;
  readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: DesiredObjectProps) {
    super(scope, id);
    this.mode = props.mode;
    const body = props.body ?? {};
    this.removals = props.remove ?? [];
    const metadata = {
      ...(body.metadata as Record<string, unknown> | undefined),
      name: props.name,
      ...(props.namespace ? { namespace: props.namespace } : {}),
    };
    this.resource = new ApiObject(this, 'Resource', { ...body, apiVersion: props.apiVersion, kind: props.kind, metadata });
  }

  /** Fields to remove, as JSON pointers. */
  private readonly removals: readonly string[];

  /** The synthesized object (a merge patch when `mode` is patch). */
  toJson(): DesiredJson {
    const json = this.resource.toJson() as DesiredJson;
    return this.removals.length > 0 ? (withRemovals(json, this.removals) as typeof json) : json;
  }
}

/**
 * The synthesized object with `null` (merge-patch "remove") at each pointer. cdk8s drops nulls and
 * empty objects when it synthesizes, so removals are added afterwards. A segment that meets a list
 * of named objects names the element (`/spec/rules/<rule name>/validate/pattern`), as the writer
 * merges such lists by name.
 */
function withRemovals(json: unknown, pointers: readonly string[]): Record<string, unknown> {
  const copy = structuredClone(json) as Record<string, unknown>;
  for (const p of pointers) {
    const keys = p
      .slice(1)
      .split('/')
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: Record<string, unknown> | unknown[] = copy;
    for (const key of keys.slice(0, -1)) {
      if (Array.isArray(node)) {
        const element = node.find((e) => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === key);
        if (!element) throw new Error(`no element named '${key}' for removal ${p}`);
        node = element as Record<string, unknown>;
        continue;
      }
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    if (Array.isArray(node)) throw new Error(`removal ${p} ends in a list`);
    node[keys[keys.length - 1]!] = null;
  }
  return copy;
}

/** JSON pointer for a path of keys (`istio.io/rev` → `istio.io~1rev`). */
export function pointer(...keys: readonly string[]): string {
  return `/${keys.map((k) => k.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}

/** `{a: {b: value}}` from `['a', 'b']`. */
export function nest(path: readonly string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), value as Record<string, unknown>);
}
