import type { Construct } from 'constructs';
import { INJECTION_LABEL, REV_LABEL } from '../model/kube.js';
import { DesiredObject, pointer } from './desired-object.js';

interface NamespaceInjectionProps {
  readonly namespace: string;
  /** The revision new pods in this namespace are injected by. */
  readonly revision: string;
}

/**
 * Points a namespace at a revision: `istio.io/rev=<revision>`, and no `istio-injection` label,
 * which would otherwise win over `istio.io/rev`.
 * @see https://istio.io/latest/docs/setup/upgrade/canary/#data-plane
 */
export class NamespaceInjection extends DesiredObject {
  constructor(scope: Construct, id: string, props: NamespaceInjectionProps) {
    super(scope, id, {
      apiVersion: 'v1',
      kind: 'Namespace',
      name: props.namespace,
      body: { metadata: { labels: { [REV_LABEL]: props.revision } } },
      remove: [pointer('metadata', 'labels', INJECTION_LABEL)],
      mode: { kind: 'patch' },
    });
  }
}
