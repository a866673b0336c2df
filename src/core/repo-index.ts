import { type ImageEntry } from './sources/kustomize-images.js';
import { type IndexedObject, type ObjectRef } from '../model/objects.js';
import { type JsonLabelPatch } from './sources/json-patches.js';

export interface Kustomization {
  readonly file: string;
  readonly dir: string;
  readonly resources: readonly string[];
  readonly patchFiles: readonly string[];
  readonly namespace: string | null;
  /** JSON6902 patches of Namespace labels (inline or in files), in the order listed. */
  readonly labelPatches?: readonly JsonLabelPatch[];
  /** `components:` entries (directories of `kind: Component` kustomizations), resolved. */
  readonly components?: readonly string[];
  /** Targets of inline `patches:` entries (`patch:` text) that name one object: kind and name. */
  readonly inlinePatchTargets?: ReadonlyArray<{ readonly kind: string; readonly name: string }>;
  /** `images:` entries (name, newName, newTag, digest), in order. */
  readonly images?: readonly ImageEntry[];
}

export interface SkippedFile {
  readonly file: string;
  readonly reason: string;
}

export interface YamlIndex {
  readonly objects: readonly IndexedObject[];
  readonly kustomizations: readonly Kustomization[];
  readonly skipped: readonly SkippedFile[];
  /** Every definition of an object (a kustomize base and its patches share a key). */
  find(ref: ObjectRef): readonly IndexedObject[];
  ofKind(kind: string): readonly IndexedObject[];
}
