import { posix } from 'node:path';

/** `istiod-1-21-2` → `istiod-1-22-1`; a name without the old revision gets the new one appended. */
export function renameForRevision(name: string, from: string, to: string): string {
  return name.includes(from) ? name.split(from).join(to) : `${name}-${to}`;
}

/** The file a new revision's object goes to: beside the old revision's, named after the new revision. */
export function fileForRevision(oldFile: string, from: string, to: string): string {
  const dir = posix.dirname(oldFile);
  const base = posix.basename(oldFile);
  if (base.includes(from)) return posix.join(dir, base.split(from).join(to));
  const ext = posix.extname(base);
  return posix.join(dir, `${base.slice(0, base.length - ext.length)}-${to}${ext}`);
}

/** Directory for freshly rendered manifests of a revision: `…/<old>/` becomes `…/<new>/`. */
export function manifestsDirForRevision(oldFile: string, from: string, to: string): string {
  const dir = posix.dirname(oldFile);
  return posix.basename(dir) === from ? posix.join(posix.dirname(dir), to) : dir;
}
