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

/** The Service a revision's istiod answers on: `istiod` for the non-revisioned control plane (`default`). */
export function istiodServiceFor(revision: string): string {
  return revision === 'default' ? 'istiod' : `istiod-${revision}`;
}

/**
 * A command that counts the proxies still connected to `from`'s istiod (0 when none). The pods of
 * the non-revisioned istiod are `istiod-<hash>-<hash>`, a prefix of every revision's, so for
 * `default` it counts the proxies on any istiod but `to`'s.
 */
export function countProxiesOn(from: string, to: string): string {
  // `istiod-<rev>-<replicaset hash>-<pod hash>`, anchored: `asm-managed` must not count `asm-managed-rapid` pods.
  return from === 'default'
    ? `istioctl proxy-status | awk 'NR > 1 && !/ istiod-${to}-/' | grep -c ' istiod-'`
    : `istioctl proxy-status | grep -cE 'istiod-${from}-[a-z0-9]+-[a-z0-9]{5}( |$)'`;
}

/**
 * Where a new webhook configuration beside `object` goes so that it is applied like `object`: the
 * directory of the kustomization that lists `object`'s file (the writer adds it to its resources),
 * else `object`'s own directory.
 */
export function fileBeside(
  kustomizations: ReadonlyArray<{ readonly dir: string; readonly resources: readonly string[] }>,
  objectFile: string,
  base: string,
): string {
  const listing = kustomizations.find((k) => k.resources.includes(objectFile));
  return posix.join(listing ? listing.dir : posix.dirname(objectFile), base);
}

/**
 * Directory for the first revisioned control plane rendered beside a non-revisioned one: a
 * directory of its own named after the revision, next to the old render's directory (or inside
 * `istio-system/` when the old render sits there directly).
 */
export function manifestsDirForFirstRevision(oldFile: string, to: string): string {
  const dir = posix.dirname(oldFile);
  return posix.basename(dir) === 'istio-system' || dir === '.' ? posix.join(dir, to) : posix.join(posix.dirname(dir), to);
}
