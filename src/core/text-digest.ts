/** A short, marker-safe name of a free text (a pause reason, an edited comment) for a marker. */
export function textDigest(text: string): string {
  // FNV-1a, 32 bit: enough to tell one pause reason from the next on one issue.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}
