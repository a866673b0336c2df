import type { Scalar } from './scalar.js';

/**
 * A JSON merge patch (RFC 7386) with one extension: an array of objects that all carry `name`
 * is merged element by element by that key (as Kubernetes strategic merge does for webhooks and
 * containers). `null` removes a key. An object patch against a string value edits the YAML held
 * in that string (Helm `values: |` blocks).
 */
export type PatchValue = Scalar | null | readonly PatchValue[] | MergePatch;
export interface MergePatch {
  readonly [key: string]: PatchValue;
}
