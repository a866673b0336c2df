/**
 * Who moves the upgrade on, and what they do: a person (review a PR, do manual steps, fix what
 * paused it) or the bot (waiting on Argo CD, a grace period, opening the next phase).
 */
export type NextMove =
  | {
      readonly actor: 'person';
      /** What to do, said to that person (null: resolve what paused the upgrade). */
      readonly text: string | null;
      /** Names this hand-over: a person is told once per hand-over, however often the walk runs. */
      readonly handover: string;
    }
  | { readonly actor: 'bot'; readonly text: string | null };

/** A short, marker-safe name of a free text (a pause reason) for a hand-over key. */
export function textDigest(text: string): string {
  // FNV-1a, 32 bit: enough to tell one pause reason from the next on one issue.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}
