import semver from 'semver';

/**
 * A container image reference, split the way a registry reads it:
 * `[registry[:port]/]repository[:tag][@digest]`. The tag of an Istio image is a release with an
 * optional variant (`1.20.3`, `1.20.3-distroless`, `1.20.3-asm.1-distroless`); the digest, when
 * present, is what the runtime pulls, whatever the tag says.
 */
interface ImageReference {
  /** Registry host (with port) and repository: `registry:5000/istio/proxyv2`. */
  readonly name: string;
  /** Last path segment of the repository: `proxyv2`. */
  readonly repository: string;
  readonly tag: string | null;
  /** `sha256:…` */
  readonly digest: string | null;
  /** The release the tag names (`1.20.3`, `1.20.3-asm.1`), null when the tag names none or there is no tag. */
  readonly version: string | null;
  /** What follows the release in the tag (`-distroless`, `-debug`), or ''. */
  readonly variant: string;
}

/** Image variants Istio publishes beside the plain tag. */
const VARIANT = /((?:-(?:distroless|debug))+)$/;

export function parseImageReference(ref: string): ImageReference {
  const at = ref.indexOf('@');
  const digest = at === -1 ? null : ref.slice(at + 1);
  const rest = at === -1 ? ref : ref.slice(0, at);
  // A colon after the last slash separates the tag; one before it is a registry port.
  const colon = rest.lastIndexOf(':');
  const hasTag = colon > rest.lastIndexOf('/');
  const name = hasTag ? rest.slice(0, colon) : rest;
  const tag = hasTag ? rest.slice(colon + 1) : null;
  const { version, variant } = tag === null ? { version: null, variant: '' } : parseImageTag(tag);
  return { name, repository: name.slice(name.lastIndexOf('/') + 1), tag, digest, version, variant };
}

/** The release and variant of a tag alone: `1.20.3-asm.1-distroless` → `1.20.3-asm.1` + `-distroless`. */
export function parseImageTag(tag: string): { version: string | null; variant: string } {
  const variant = VARIANT.exec(tag)?.[1] ?? '';
  const release = tag.slice(0, tag.length - variant.length);
  const version = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(release) && semver.valid(release) ? release : null;
  return { version, variant: version === null ? '' : variant };
}

/** The reference with its tag set to `version` plus the same variant; null for a digest (the digest would still win). */
export function retagImage(ref: string, version: string): string | null {
  const parsed = parseImageReference(ref);
  if (parsed.digest !== null) return null;
  return `${parsed.name}:${version}${parsed.variant}`;
}

/** The tag for `version` in the variant of `tag`. */
export function retagTag(tag: string, version: string): string {
  return `${version}${parseImageTag(tag).variant}`;
}
