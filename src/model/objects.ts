/** Identity of a Kubernetes object: enough to find every definition of it in the repo. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
}

/** One document of one file that holds a Kubernetes object. */
export interface IndexedObject extends ObjectRef {
  readonly file: string;
  /** Position of the document in its file, counting every `---`-separated document. */
  readonly documentIndex: number;
  readonly body: KubeObject;
  /** The document is a kustomize strategic-merge patch, not a resource. */
  readonly isPatch: boolean;
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

export function objectKey(ref: ObjectRef): string {
  return `${groupOf(ref.apiVersion)}|${ref.kind}|${ref.namespace ?? ''}|${ref.name}`;
}

/** The API group without version, so `autoscaling/v1` and `autoscaling/v2` name one object. */
function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
