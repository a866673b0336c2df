import type { Construct } from 'constructs';
import { DesiredObject } from './desired-object.js';

/** The label `istioctl tag set default` deactivates the non-revisioned injector with: nothing carries it. */
const DEACTIVATED_SELECTOR = { matchLabels: { 'istio.io/deactivated': 'never-match' } } as const;

interface WebhookDeactivationProps {
  readonly name: string;
  /** Every webhook of the configuration. */
  readonly webhookNames: readonly string[];
}

/**
 * Deactivates the non-revisioned injector (`istio-sidecar-injector`) as `istioctl tag set default`
 * does (DeactivateIstioInjectionWebhook): every webhook's namespaceSelector and objectSelector
 * require the label `istio.io/deactivated: never-match`, which no namespace or pod has. The existing
 * matchExpressions stay (label selectors AND their terms, so the webhook still never matches), which
 * keeps name-keyed kustomize patches of those expressions applicable, and a revert re-activates it.
 * @see https://istio.io/latest/docs/setup/upgrade/canary/#default-tag
 */
export class WebhookDeactivation extends DesiredObject {
  constructor(scope: Construct, id: string, props: WebhookDeactivationProps) {
    super(scope, id, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      name: props.name,
      body: {
        webhooks: props.webhookNames.map((name) => ({
          name,
          namespaceSelector: DEACTIVATED_SELECTOR,
          objectSelector: DEACTIVATED_SELECTOR,
        })),
      },
      mode: { kind: 'patch' },
    });
  }
}
