import type { Construct } from 'constructs';
import { REV_LABEL } from '../model/kube.js';
import { DesiredObject } from './desired-object.js';

interface WebhookRevisionProps {
  readonly kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  /** `istio-revision-tag-<tag>` or `istiod-default-validator`. */
  readonly name: string;
  readonly revision: string;
  /** Names of the webhooks whose `clientConfig.service` points at an istiod Service. */
  readonly webhookNames: readonly string[];
  /** @default - `istiod-<revision>` */
  readonly serviceName?: string;
}

/**
 * Moves a revision tag (MutatingWebhookConfiguration `istio-revision-tag-<tag>`) or the default
 * validator to a revision: the `istio.io/rev` label (istiod patches `caBundle` into every webhook
 * configuration labelled with its revision, so the label hands ownership over) and every
 * `clientConfig.service.name`. Nothing else of the object depends on the revision.
 * @see https://istio.io/latest/docs/setup/upgrade/canary/#stable-revision-labels
 */
export class WebhookRevision extends DesiredObject {
  constructor(scope: Construct, id: string, props: WebhookRevisionProps) {
    const serviceName = props.serviceName ?? `istiod-${props.revision}`;
    super(scope, id, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: props.kind,
      name: props.name,
      body: {
        metadata: { labels: { [REV_LABEL]: props.revision } },
        webhooks: props.webhookNames.map((name) => ({ name, clientConfig: { service: { name: serviceName } } })),
      },
      mode: { kind: 'patch' },
    });
  }
}
