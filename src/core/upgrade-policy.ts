import semver from 'semver';
import { planHint, said, type UserText } from '../model/errors.js';
import { FIRST_REVISIONED_MINOR, type Revision, revisionNameFor } from './revision.js';

type UpgradePolicyDecision =
  | { readonly kind: 'allow'; readonly direction: 'upgrade' | 'downgrade' | 'same-version'; readonly warnings: readonly PolicyWarning[] }
  | { readonly kind: 'noop'; readonly reason: string }
  | { readonly kind: 'refuse'; readonly code: string; readonly reason: string | UserText };

interface PolicyWarning {
  readonly code: string;
  readonly message: string;
}

interface UpgradePolicyOptions {
  /** The user asked for a downgrade explicitly (`--downgrade`). */
  readonly downgrade?: boolean;
}

/**
 * Canary upgrade policy: +1 minor is fine; +2 minors is what Istio supports for canary upgrades,
 * allowed with a warning; more is refused with the intermediate release to go through. Going
 * down is refused unless asked for explicitly. Every refusal says why and what to do instead.
 */
export function evaluateUpgradePolicy(from: Revision | null, to: Revision, options: UpgradePolicyOptions = {}): UpgradePolicyDecision {
  if (from?.name === to.name) {
    return { kind: 'noop', reason: `the mesh already runs revision ${to.name}` };
  }
  const target = to.version ? semver.parse(to.version) : null;
  if (target && (target.major !== 1 || target.minor < FIRST_REVISIONED_MINOR)) {
    return {
      kind: 'refuse',
      code: 'unsupported-version',
      reason: `Istio ${to.version} predates revision-based (canary) upgrades, which start at 1.${FIRST_REVISIONED_MINOR}; choose a 1.${FIRST_REVISIONED_MINOR}+ release.`,
    };
  }
  if (!from?.version || !target) {
    return {
      kind: 'allow',
      direction: 'upgrade',
      warnings: [
        {
          code: 'version-unknown',
          message: `the ${from?.version ? 'target' : 'current'} release is unknown, so the skip-version policy was not checked; pass --version or pin the istiod image tag.`,
        },
      ],
    };
  }

  const current = semver.parse(from.version)!;
  if (current.major !== target.major) {
    return {
      kind: 'refuse',
      code: 'major-change',
      reason: `${from.version} → ${to.version} changes the major version; that is not a canary upgrade.`,
    };
  }
  const minorStep = target.minor - current.minor;
  const comparison = semver.compare(
    `${target.major}.${target.minor}.${target.patch}`,
    `${current.major}.${current.minor}.${current.patch}`,
  );

  if (comparison < 0) {
    if (!options.downgrade) {
      return {
        kind: 'refuse',
        code: 'downgrade-not-requested',
        reason: said`${to.name} (${to.version}) is older than the running ${from.name} (${from.version}); if you mean to go back, ask for it explicitly: ${planHint(to.name, { downgrade: true })}.`,
      };
    }
    if (minorStep < -2) {
      const via = `1.${current.minor - 2}`;
      return {
        kind: 'refuse',
        code: 'skip-too-many-minors',
        reason: said`a downgrade from ${from.version} to ${to.version} crosses ${-minorStep} minor versions; at most 2 are supported. Downgrade to a ${via}.x release first (e.g. ${planHint(revisionNameFor(`${via}.0`, from.flavor), { downgrade: true })}).`,
      };
    }
    return { kind: 'allow', direction: 'downgrade', warnings: minorStep === -2 ? [skipTwoWarning(from, to)] : [] };
  }

  if (minorStep > 2) {
    const via = `1.${current.minor + 2}`;
    return {
      kind: 'refuse',
      code: 'skip-too-many-minors',
      reason: said`${from.version} → ${to.version} skips ${minorStep - 1} minor versions; canary upgrades support at most two minors at a time. Upgrade to a ${via}.x release first (e.g. ${planHint(revisionNameFor(`${via}.0`, from.flavor))}), then to ${to.name}.`,
    };
  }
  const warnings = minorStep === 2 ? [skipTwoWarning(from, to)] : [];
  return { kind: 'allow', direction: comparison === 0 ? 'same-version' : 'upgrade', warnings };
}

function skipTwoWarning(from: Revision, to: Revision): PolicyWarning {
  return {
    code: 'skip-two-minors',
    message: `${from.version} → ${to.version} crosses two minor versions: supported for canary upgrades, but read the release notes of both minors (deprecated APIs, changed defaults) before merging.`,
  };
}
