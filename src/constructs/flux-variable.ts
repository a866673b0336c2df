import type { Construct } from 'constructs';
import type { IndexedObject } from '../model/objects.js';
import { DesiredObject } from './desired-object.js';

interface FluxVariableProps {
  /** The ConfigMap of a `postBuild.substituteFrom`, or the Flux Kustomization with `postBuild.substitute`. */
  readonly object: IndexedObject;
  readonly variable: string;
  readonly value: string;
  readonly where: 'configmap' | 'substitute';
}

/**
 * Sets a Flux post-build variable at its source: `data.<variable>` of the ConfigMap a Kustomization
 * substitutes from, or `spec.postBuild.substitute.<variable>` of the Kustomization itself.
 * @see https://fluxcd.io/flux/components/kustomize/kustomizations/#post-build-variable-substitution
 */
export class FluxVariable extends DesiredObject {
  constructor(scope: Construct, id: string, props: FluxVariableProps) {
    const { object } = props;
    const body =
      props.where === 'configmap'
        ? { data: { [props.variable]: props.value } }
        : { spec: { postBuild: { substitute: { [props.variable]: props.value } } } };
    super(scope, id, {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: object.name,
      ...(object.namespace ? { namespace: object.namespace } : {}),
      body,
      mode: { kind: 'patch' },
    });
  }
}
