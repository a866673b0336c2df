import type { Construct } from 'constructs';
import { REV_LABEL } from '../model/kube.js';
import { DesiredObject, pointer } from './desired-object.js';

interface RevisionLabelProps {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  /** The revision to label it with, or null to remove `istio.io/rev`. */
  readonly revision: string | null;
  /** `istio.io/rev` is its only label: removing it removes `labels` (no `labels: {}` left behind). */
  readonly onlyLabel?: boolean;
}

/**
 * Sets or removes `istio.io/rev` on an Istio config object (VirtualService, DestinationRule, …).
 * An istiod reads labelled config only when the label names its own revision, and unlabelled
 * config always: removing the label makes it visible to both revisions while clients move.
 */
export class RevisionLabel extends DesiredObject {
  constructor(scope: Construct, id: string, props: RevisionLabelProps) {
    super(scope, id, {
      apiVersion: props.apiVersion,
      kind: props.kind,
      name: props.name,
      ...(props.namespace ? { namespace: props.namespace } : {}),
      ...(props.revision === null
        ? { remove: [props.onlyLabel ? pointer('metadata', 'labels') : pointer('metadata', 'labels', REV_LABEL)] }
        : { body: { metadata: { labels: { [REV_LABEL]: props.revision } } } }),
      mode: { kind: 'patch' },
    });
  }
}
