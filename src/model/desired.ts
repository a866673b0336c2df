import type { MergePatch } from './merge-patch.js';
import type { IndexedObject } from './objects.js';

/** What the writer does with a desired object. */
export type DesiredMode =
  /** Edit the existing object in place: set the fields given, remove those given as null. */
  | { readonly kind: 'patch' }
  /**
   * A new object, written to `file` (skipped when the file already exists). With `basedOn`, the
   * file starts as a copy of that object's document (comments, key order and quoting included)
   * and only the fields that differ are edited, as a person copying the old revision's file would.
   */
  | {
      readonly kind: 'create';
      readonly file: string;
      readonly basedOn?: IndexedObject;
      /** The copy is for another revision: whole-line comments naming `from` name `to` instead. */
      readonly revision?: { readonly from: string; readonly to: string };
      /**
       * Write the template document's text with these replacements made everywhere (values and
       * comments), instead of editing it field by field: a copy that only renames.
       */
      readonly rewrite?: ReadonlyArray<readonly [string, string]>;
    };

/** A synthesized object: the whole object for a create, the fields to change for a patch. */
export type DesiredJson = MergePatch & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

/** What the writer needs of a desired object (the constructs in `constructs/` implement it). */
export interface Desired {
  readonly mode: DesiredMode;
  /** The synthesized object, with `null` at each field to remove (merge-patch semantics). */
  toJson(): DesiredJson;
}
