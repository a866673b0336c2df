import type { Construct } from 'constructs';
import type { MergePatch } from '../model/merge-patch.js';
import { DesiredObject, nest, pointer } from './desired-object.js';

/** Annotation that remembers how the old control plane ran before it was scaled to zero. */
export const SCALED_FROM_ANNOTATION = 'mesh-upgrade-bot.io/scaled-down-from';

interface ControlPlaneScaleProps {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | null;
  /** Where the replica settings live in the object, and their new values. */
  readonly path: readonly string[];
  readonly values: MergePatch;
  /** JSON of the settings before scale-down (kept in an annotation), or null to drop the annotation. */
  readonly scaledFrom: string | null;
}

/**
 * Scales the old istiod to zero (or back): reversible, unlike deleting it, so the old control plane
 * can come back within the grace period. A zero-replica Deployment also switches its HPA off.
 */
export class ControlPlaneScale extends DesiredObject {
  constructor(scope: Construct, id: string, props: ControlPlaneScaleProps) {
    super(scope, id, {
      apiVersion: props.apiVersion,
      kind: props.kind,
      name: props.name,
      ...(props.namespace ? { namespace: props.namespace } : {}),
      body: {
        ...nest(props.path, props.values),
        ...(props.scaledFrom !== null ? { metadata: { annotations: { [SCALED_FROM_ANNOTATION]: props.scaledFrom } } } : {}),
      },
      ...(props.scaledFrom === null ? { remove: [pointer('metadata', 'annotations', SCALED_FROM_ANNOTATION)] } : {}),
      mode: { kind: 'patch' },
    });
  }
}
