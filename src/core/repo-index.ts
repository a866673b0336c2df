import type { IndexedObject, ObjectRef } from '../model/objects.js';

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

/**
 * One JSON6902 operation on the labels of a Namespace: on one label (`/metadata/labels/<key>`), or
 * on the whole map (`key` null: `/metadata/labels`, or `/metadata` with the labels of its value).
 */
export interface LabelOp {
  readonly op: 'add' | 'replace' | 'remove' | 'test';
  readonly key: string | null;
  readonly value: string | null;
  /** A whole-map operation: the labels it leaves (`{}` for `remove`). */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A kustomize `patches:`/`patchesJson6902:` entry with a `target:` of kind Namespace whose patch is
 * a JSON6902 list, inline (`patch: |-`, the text lives in the kustomization) or in a file.
 */
export interface JsonLabelPatch {
  readonly kustomization: string;
  /** The file that holds the operations: the kustomization for an inline patch, else the patch file. */
  readonly file: string;
  readonly inline: boolean;
  /** `target.name`, a regex kustomize anchors; null matches every Namespace. */
  readonly targetName: string | null;
  /** `target.labelSelector` / `target.annotationSelector`, evaluated on the Namespace's labels/annotations before this patch. */
  readonly labelSelector?: string;
  readonly annotationSelector?: string;
  readonly ops: readonly LabelOp[];
}

export interface ImageEntry {
  readonly name: string;
  readonly newName?: string;
  readonly newTag?: string;
  readonly digest?: string;
}
