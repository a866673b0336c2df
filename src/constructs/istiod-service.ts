import type { Construct } from 'constructs';
import { ISTIO_SYSTEM, REV_LABEL } from '../model/kube.js';
import { DesiredObject, pointer } from './desired-object.js';

interface IstiodServiceProps {
  readonly revision: string;
  /**
   * Selector keys to drop: the non-revisioned `istiod` Service selects `istio: pilot`, which only
   * the non-revisioned istiod's pods carry. @default - none
   */
  readonly dropSelectorKeys?: readonly string[];
}

/**
 * The revision-less `istiod` Service (shipped by ASM, and by Istio's GitOps samples): validation
 * fallbacks, remote clusters and VMs reach the control plane through it, so its selector must name
 * the new revision before the old one is removed. Ports, name and other labels stay as they are.
 */
export class IstiodService extends DesiredObject {
  constructor(scope: Construct, id: string, props: IstiodServiceProps) {
    super(scope, id, {
      apiVersion: 'v1',
      kind: 'Service',
      name: 'istiod',
      namespace: ISTIO_SYSTEM,
      body: { metadata: { labels: { [REV_LABEL]: props.revision } }, spec: { selector: { [REV_LABEL]: props.revision } } },
      remove: (props.dropSelectorKeys ?? []).map((key) => pointer('spec', 'selector', key)),
      mode: { kind: 'patch' },
    });
  }
}
