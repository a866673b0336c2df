import type { Construct } from 'constructs';
import { REV_LABEL } from '../core/kube.js';
import { DesiredObject } from './desired-object.js';

export interface RevisionLabelProps {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly revision: string;
}

/**
 * Relabels an Istio config object (VirtualService, DestinationRule, …) that carries
 * `istio.io/rev`: in Istio 1.14 only the istiod of that revision reads it, so it moves with the
 * workloads or the new control plane would not see it.
 */
export class RevisionLabel extends DesiredObject {
  constructor(scope: Construct, id: string, props: RevisionLabelProps) {
    super(scope, id, {
      apiVersion: props.apiVersion,
      kind: props.kind,
      name: props.name,
      ...(props.namespace ? { namespace: props.namespace } : {}),
      body: { metadata: { labels: { [REV_LABEL]: props.revision } } },
      mode: { kind: 'patch' },
    });
  }
}
