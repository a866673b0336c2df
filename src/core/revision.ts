import semver from 'semver';
import { z } from 'zod';
import { RevisionError } from '../model/errors.js';

/**
 * Highest patch release of each Istio 1.x minor (OSS and ASM builds alike), used to split the
 * concatenated digits of ASM revision names (`asm-1140-0` → 1.14.0, never 1.1.40). Minors newer
 * than the table accept any patch up to {@link UNKNOWN_MINOR_MAX_PATCH}.
 */
const HIGHEST_PATCH_BY_MINOR: Readonly<Record<number, number>> = {
  0: 8,
  1: 17,
  2: 10,
  3: 8,
  4: 10,
  5: 10,
  6: 14,
  7: 8,
  8: 6,
  9: 9,
  10: 6,
  11: 8,
  12: 9,
  13: 9,
  14: 6,
  15: 7,
  16: 7,
  17: 8,
  18: 7,
  19: 10,
  20: 8,
  21: 6,
  22: 8,
  23: 6,
  24: 6,
  25: 5,
  26: 4,
  27: 3,
  28: 2,
};
const NEWEST_KNOWN_MINOR = 28;
/** Allow a few future minors before a revision is called unknown. */
const HIGHEST_PLAUSIBLE_MINOR = NEWEST_KNOWN_MINOR + 8;
const UNKNOWN_MINOR_MAX_PATCH = 20;
/** Revisions (and so revision-named ASM builds) exist from Istio 1.6 on. */
export const FIRST_REVISIONED_MINOR = 6;

/**
 * Istio revision names are DNS-1123 labels; the revision also suffixes `istiod-<rev>`, so it is
 * kept lowercase and at most 56 characters.
 */
export const RevisionName = z
  .string()
  .max(56, 'a revision name has at most 56 characters (it becomes part of the Service name istiod-<revision>)')
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'a revision name is a lowercase DNS-1123 label: a-z, 0-9 and -, starting and ending with a letter or digit',
  );

/** An Istio or ASM release, e.g. `1.22.1` or `1.14.0-asm.0`. */
export const IstioVersion = z.string().transform((value, ctx) => {
  const parsed = semver.parse(value.replace(/^v/, ''));
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a version like 1.22.1 or 1.14.0-asm.0` });
    return z.NEVER;
  }
  return parsed.version;
});

type RevisionFlavor = 'asm' | 'oss' | 'named' | 'managed';

export interface Revision {
  readonly name: string;
  /** The release this revision runs, or null when the name does not say and none was given. */
  readonly version: string | null;
  readonly flavor: RevisionFlavor;
}

const ASM_REVISION = /^asm-(\d+)-(\d+)$/;
const ASM_MANAGED_REVISION = /^asm-managed(-rapid|-stable)?$/;
/** `asm-managed`, `asm-managed-rapid`, `asm-managed-stable`: the revisions of the managed release channels. */
export function isManagedChannel(name: string): boolean {
  return ASM_MANAGED_REVISION.test(name);
}

/** `1-22-1`, and Sail-style `<name>-v1-22-1`. */
const OSS_REVISION = /^(?:[a-z0-9-]*?-)?v?(\d+)-(\d+)-(\d+)$/;

/** `1.14.0` from the `1140` of `asm-1140-0`, using the real range of Istio minors and patches. */
function splitAsmDigits(digits: string): Array<{ minor: number; patch: number }> {
  if (!digits.startsWith('1')) return [];
  const rest = digits.slice(1);
  const candidates: Array<{ minor: number; patch: number }> = [];
  for (const minorWidth of [1, 2]) {
    const minorText = rest.slice(0, minorWidth);
    const patchText = rest.slice(minorWidth);
    if (minorText.length !== minorWidth || patchText.length === 0) continue;
    if (/^0\d/.test(minorText) || /^0\d/.test(patchText)) continue;
    const minor = Number(minorText);
    const patch = Number(patchText);
    if (minor < FIRST_REVISIONED_MINOR || minor > HIGHEST_PLAUSIBLE_MINOR) continue;
    const highestPatch = HIGHEST_PATCH_BY_MINOR[minor] ?? UNKNOWN_MINOR_MAX_PATCH;
    if (patch > highestPatch) continue;
    candidates.push({ minor, patch });
  }
  return candidates;
}

/**
 * Parses a revision name. The version comes from `explicitVersion` when given (and must agree
 * with what the name encodes), otherwise from the name itself; names that encode no version
 * (`canary`, `stable`) need an explicit version.
 */
export function parseRevision(name: string, explicitVersion?: string): Revision {
  const valid = RevisionName.safeParse(name);
  if (!valid.success) {
    throw new RevisionError(`invalid revision '${name}': ${valid.error.issues[0]?.message}`);
  }
  let version: string | null = null;
  if (explicitVersion !== undefined) {
    const parsed = IstioVersion.safeParse(explicitVersion);
    if (!parsed.success) throw new RevisionError(`invalid --version: ${parsed.error.issues[0]?.message}`);
    version = parsed.data;
  }

  if (ASM_MANAGED_REVISION.test(name)) {
    // A release channel names no release: Google picks it, so a version is never invented or accepted.
    if (version !== null) {
      throw new RevisionError(
        `'${name}' is a Google-managed release channel (Cloud Service Mesh); it has no release of its own, Google upgrades it. Drop --version, or name an in-cluster revision such as asm-1200-1 with --version 1.20.1-asm.1.`,
      );
    }
    return { name, flavor: 'managed', version: null };
  }

  const asm = ASM_REVISION.exec(name);
  if (asm) {
    const [, digits = '', build = ''] = asm;
    const splits = splitAsmDigits(digits);
    if (splits.length === 1) {
      const { minor, patch } = splits[0]!;
      const encoded = `1.${minor}.${patch}-asm.${build}`;
      return { name, flavor: 'asm', version: reconcile(name, encoded, version) };
    }
    if (version) return { name, flavor: 'asm', version };
    const reason =
      splits.length === 0
        ? 'matches no Istio release (1.6 or later)'
        : `is ambiguous (${splits.map((s) => `1.${s.minor}.${s.patch}`).join(' or ')})`;
    throw new RevisionError(
      `revision '${name}' ${reason}; ASM revisions are asm-<major><minor><patch>-<build>, e.g. asm-1140-0 for 1.14.0-asm.0. Pass --version to say which release it is.`,
    );
  }

  const oss = OSS_REVISION.exec(name);
  if (oss) {
    const [, major, minor, patch] = oss;
    const encoded = `${Number(major)}.${Number(minor)}.${Number(patch)}`;
    return { name, flavor: 'oss', version: reconcile(name, encoded, version) };
  }

  if (version) return { name, flavor: 'named', version };
  throw new RevisionError(
    `revision '${name}' does not name a release (expected asm-1140-0 or 1-22-1); pass --version X.Y.Z (or X.Y.Z-asm.N) to say which Istio release it runs.`,
  );
}

function reconcile(name: string, encoded: string, explicit: string | null): string {
  if (explicit === null) return encoded;
  const a = semver.parse(encoded)!;
  const b = semver.parse(explicit)!;
  if (a.major !== b.major || a.minor !== b.minor || a.patch !== b.patch) {
    throw new RevisionError(`revision '${name}' encodes ${encoded} but --version says ${explicit}; fix one of them.`);
  }
  return explicit;
}

/** Major.minor of a version, e.g. `1.14` for `1.14.6-asm.11`. */
export function minorOf(version: string): string {
  const v = semver.parse(version)!;
  return `${v.major}.${v.minor}`;
}

/**
 * The revision name a version would get, in the flavor of an existing revision: `asm-1140-0`
 * for an ASM build, `1-22-1` otherwise. Used to suggest intermediate upgrades.
 */
export function revisionNameFor(version: string, flavor: RevisionFlavor): string {
  const v = semver.parse(version)!;
  const asmBuild = /^asm\.(\d+)$/.exec(v.prerelease.join('.'));
  if (flavor === 'asm' || asmBuild) return `asm-${v.major}${v.minor}${v.patch}-${asmBuild?.[1] ?? '0'}`;
  return `${v.major}-${v.minor}-${v.patch}`;
}

/**
 * The release an istiod image runs: `gcr.io/gke-release/asm/pilot:1.13.0-asm.0` → `1.13.0-asm.0`.
 * Returns null for digests, `latest` and other non-version tags.
 */
export function versionFromImage(image: string): string | null {
  const tag = /:([^:@/]+)$/.exec(image.split('@')[0] ?? '')?.[1];
  return tag ? parseVersion(tag) : null;
}

/** A release from an image tag or chart version (`1.22.1`, `v1.22.1-distroless`), or null. */
export function parseVersion(text: string): string | null {
  const parsed = IstioVersion.safeParse(text.replace(/-distroless$/, ''));
  return parsed.success ? parsed.data : null;
}
