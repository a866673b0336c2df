import type { Desired } from './desired.js';
import type { IndexedObject } from './objects.js';

/** A desired object together with the definitions in the repo it edits (none for creates). */
export interface PlacedObject {
  readonly desired: Desired;
  readonly targets: readonly IndexedObject[];
}

export interface PhaseEdits {
  readonly objects: readonly PlacedObject[];
  readonly deletions: readonly IndexedObject[];
}

/** One object-level line of a phase: what happens to which object in which file. */
export interface ObjectChange {
  readonly action: 'create' | 'update' | 'delete';
  readonly file: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
}
