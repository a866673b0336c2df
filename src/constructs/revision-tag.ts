import type { Construct } from 'constructs';
import { asDict, REV_LABEL, TAG_LABEL } from '../model/kube.js';
import { DesiredObject } from './desired-object.js';

interface RevisionTagProps {
  /** An existing tag webhook configuration of the mesh (usually `istio-revision-tag-default`) to take the shape from. */
  readonly template: Readonly<Record<string, unknown>>;
  readonly tag: string;
  readonly revision: string;
  readonly file: string;
}

/** Webhooks a tag other than `default` has (the `namespace.`/`object.` ones serve istio-injection=enabled, default only). */
const TAG_WEBHOOKS = new Set(['rev.namespace.sidecar-injector.istio.io', 'rev.object.sidecar-injector.istio.io']);

const DEFAULT_TAG_WEBHOOKS = new Set(['namespace.sidecar-injector.istio.io', 'object.sidecar-injector.istio.io']);

/**
 * A new revision tag, `istio-revision-tag-<tag>` → revision: what `istioctl tag generate <tag>
 * --revision <rev>` renders, shaped after the mesh's existing tag. Namespaces labelled
 * `istio.io/rev=<tag>` are injected by that revision; moving the tag later moves them all.
 * @see https://istio.io/latest/docs/setup/upgrade/canary/#stable-revision-labels
 */
export class RevisionTag extends DesiredObject {
  constructor(scope: Construct, id: string, props: RevisionTagProps) {
    const template = asDict(props.template);
    const labels = { ...asDict(asDict(template.metadata).labels), [TAG_LABEL]: props.tag, [REV_LABEL]: props.revision };
    const webhooks = (Array.isArray(template.webhooks) ? template.webhooks : [])
      .map(asDict)
      // The `default` tag also serves istio-injection=enabled and sidecar.istio.io/inject=true
      // (`namespace.`/`object.`), as istioctl tag generate default renders it.
      .filter((w) => TAG_WEBHOOKS.has(String(w.name)) || (props.tag === 'default' && DEFAULT_TAG_WEBHOOKS.has(String(w.name))))
      .map((w) => retarget(w, props.tag, `istiod-${props.revision}`));
    super(scope, id, {
      apiVersion: String(template.apiVersion ?? 'admissionregistration.k8s.io/v1'),
      kind: 'MutatingWebhookConfiguration',
      name: `istio-revision-tag-${props.tag}`,
      body: { metadata: { labels }, webhooks },
      mode: { kind: 'create', file: props.file },
    });
  }
}

/** A webhook of the template with its selectors naming `tag` and its service the new istiod. */
function retarget(webhook: Readonly<Record<string, unknown>>, tag: string, service: string): Record<string, unknown> {
  const copy = structuredClone(webhook) as Record<string, unknown>;
  const clientConfig = asDict(copy.clientConfig) as Record<string, unknown>;
  const { caBundle: _caBundle, ...rest } = clientConfig;
  copy.clientConfig = { ...rest, ...(rest.service ? { service: { ...asDict(rest.service), name: service } } : {}) };
  for (const selector of ['namespaceSelector', 'objectSelector']) {
    const expressions = asDict(copy[selector]).matchExpressions;
    if (!Array.isArray(expressions)) continue;
    copy[selector] = {
      ...asDict(copy[selector]),
      matchExpressions: expressions.map((e) => {
        const expression = asDict(e);
        return expression.key === REV_LABEL && Array.isArray(expression.values) ? { ...expression, values: [tag] } : expression;
      }),
    };
  }
  return copy;
}
