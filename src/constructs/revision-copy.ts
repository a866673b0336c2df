import type { Construct } from 'constructs';
import type { IndexedObject } from '../model/objects.js';
import { DesiredObject } from './desired-object.js';

interface RevisionCopyProps {
  /** The old revision's object; its file's layout and comments carry over. */
  readonly current: IndexedObject;
  readonly name: string;
  readonly from: string;
  readonly to: string;
  /** Image tags to move, e.g. `1.21.2` → `1.22.1`. @default - images unchanged */
  readonly imageTag?: { readonly from: string; readonly to: string };
  readonly file: string;
}

/**
 * A copy of one of the old revision's objects for the new revision, as a person copying the file
 * would make it: every value naming the old revision names the new one, and images move to the
 * target release. Used for what a revision needs besides istiod, such as its in-cluster operator.
 */
export class RevisionCopy extends DesiredObject {
  constructor(scope: Construct, id: string, props: RevisionCopyProps) {
    const { apiVersion, kind, metadata, ...rest } = props.current.body as unknown as Record<string, unknown>;
    const renamed = renameValues({ ...rest, metadata: withoutRuntimeFields(metadata) }, props) as Record<string, unknown>;
    super(scope, id, {
      apiVersion: String(apiVersion),
      kind: String(kind),
      name: props.name,
      ...(props.current.namespace ? { namespace: props.current.namespace } : {}),
      body: renamed,
      mode: { kind: 'create', file: props.file, basedOn: props.current, rewrite: rewritesOf(props) },
    });
  }
}

/** The text replacements that make the copy: the revision everywhere, the image tag in images. */
function rewritesOf(props: RevisionCopyProps): Array<readonly [string, string]> {
  const rewrites: Array<readonly [string, string]> = [[props.from, props.to]];
  if (props.imageTag) rewrites.push([`:${props.imageTag.from}`, `:${props.imageTag.to}`]);
  return rewrites;
}

function withoutRuntimeFields(metadata: unknown): Record<string, unknown> {
  const {
    name: _n,
    namespace: _ns,
    uid: _u,
    resourceVersion: _r,
    creationTimestamp: _c,
    ...rest
  } = (metadata ?? {}) as Record<string, unknown>;
  return rest;
}

function renameValues(value: unknown, props: RevisionCopyProps): unknown {
  if (typeof value === 'string') {
    let out = value.split(props.from).join(props.to);
    if (props.imageTag)
      out = out.replace(new RegExp(`(/[^\\s:@]+:)${escapeRegExp(props.imageTag.from)}(?=$|@|-)`), `$1${props.imageTag.to}`);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => renameValues(v, props));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renameValues(v, props)]));
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
