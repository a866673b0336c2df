import type { Construct } from 'constructs';
import { RESTART_ANNOTATION, REV_LABEL } from '../model/kube.js';
import { DesiredObject } from './desired-object.js';

interface WorkloadRestartProps {
  readonly apiVersion: string;
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  readonly namespace: string;
  readonly name: string;
  /** The revision the new pods must get; it is the restart marker's value. */
  readonly revision: string;
  /**
   * Also set the pod-template `istio.io/rev` label (gateways and workloads that pick their
   * revision per pod rather than per namespace).
   * @default false
   */
  readonly podRevisionLabel?: boolean;
  /** Also set `istio.io/rev` on the workload's own metadata. @default false */
  readonly workloadRevisionLabel?: boolean;
}

/**
 * Rolls a workload's pods so they are re-injected by the new revision (injection only happens at
 * pod creation). The marker value names the revision, so applying it twice changes nothing.
 */
export class WorkloadRestart extends DesiredObject {
  constructor(scope: Construct, id: string, props: WorkloadRestartProps) {
    const podMetadata: Record<string, unknown> = { annotations: { [RESTART_ANNOTATION]: props.revision } };
    if (props.podRevisionLabel) podMetadata.labels = { [REV_LABEL]: props.revision };
    super(scope, id, {
      apiVersion: props.apiVersion,
      kind: props.kind,
      name: props.name,
      namespace: props.namespace,
      body: {
        ...(props.workloadRevisionLabel ? { metadata: { labels: { [REV_LABEL]: props.revision } } } : {}),
        spec: { template: { metadata: podMetadata } },
      },
      mode: { kind: 'patch' },
    });
  }
}
