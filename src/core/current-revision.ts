import semver from 'semver';
import type { PlanWarning } from '../model/plan-warning.js';
import type { InstalledRevision, MeshInventory } from './inventory.js';
import { parseRevision, type Revision } from './revision.js';
import type { Strategy, StrategySetting } from './upgrade-options.js';

/**
 * The revision being upgraded from: of the revisions other than the target, the one the `default`
 * tag points at, else the one the `istiod` Service selects, else the one most namespaces use.
 */
export function chooseCurrentRevision(inventory: MeshInventory, target: string, warn: (w: PlanWarning) => void): string | null {
  const candidates = [...new Set([...inventory.revisions.map((r) => r.name), ...inventory.externalRevisions])].filter((r) => r !== target);
  if (candidates.length <= 1) return candidates[0] ?? null;
  const byDefaultTag =
    inventory.tags.find((t) => t.tag === 'default' && candidates.includes(t.revision))?.revision ??
    helmDefaultRevision(inventory, candidates);
  const serviceRevision = inventory.istiodService?.body.metadata.labels?.['istio.io/rev'];
  const byService = serviceRevision && candidates.includes(serviceRevision) ? serviceRevision : undefined;
  const counts = new Map<string, number>();
  for (const ns of inventory.namespaces)
    if (ns.revision && candidates.includes(ns.revision)) counts.set(ns.revision, (counts.get(ns.revision) ?? 0) + 1);
  const byNamespaces = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  // Mid-upgrade (the target installed, `default` already on it), namespaces moving away must not
  // switch the upgrade to another old revision: it goes on from the newest one below the target.
  const midUpgrade = inventory.revisions.some((r) => r.name === target) ? newestBelow(inventory, candidates, target) : undefined;
  const chosen = byDefaultTag ?? byService ?? midUpgrade ?? byNamespaces ?? candidates.sort()[0]!;
  warn({
    code: 'several-revisions',
    message: `the repo holds several revisions besides ${target} (${candidates.join(', ')}); upgrading from ${chosen}. Finish or clean up the others first if that is not what you want.`,
    file: null,
  });
  return chosen;
}

/** The revision whose Helm release holds the `default` tag (`revisionTags`), or base's `defaultRevision`. */
function helmDefaultRevision(inventory: MeshInventory, candidates: readonly string[]): string | undefined {
  const tagged = inventory.revisions.find(
    (r) =>
      candidates.includes(r.name) &&
      Array.isArray(r.helm?.values.revisionTags) &&
      (r.helm.values.revisionTags as unknown[]).includes('default'),
  );
  const base = inventory.helmBase?.values.defaultRevision;
  return tagged?.name ?? (typeof base === 'string' && candidates.includes(base) ? base : undefined);
}

function newestBelow(inventory: MeshInventory, candidates: readonly string[], target: string): string | undefined {
  const version = (name: string) => inventory.revisions.find((r) => r.name === name)?.version ?? null;
  const top = version(target);
  const known = candidates.filter((c) => version(c) && (!top || semver.lt(version(c)!, top)));
  return known.sort((a, b) => semver.rcompare(version(a)!, version(b)!))[0];
}

export function describeRevision(name: string, installed: InstalledRevision | null): Revision {
  try {
    const parsed = parseRevision(name);
    return installed?.version ? { ...parsed, version: installed.version } : parsed;
  } catch {
    return { name, flavor: 'named', version: installed?.version ?? null };
  }
}

/** Tag strategy when asked, or (auto) when every namespace on either revision follows a tag. */
export function resolveStrategy(inventory: MeshInventory, revisions: readonly string[], requested: StrategySetting): Strategy {
  if (requested !== 'auto') return requested;
  // Gateway namespaces move by relabelling in the gateways phase whatever the strategy: they do not decide it.
  const gatewayNamespaces = new Set(inventory.gateways.filter((g) => g.style === 'namespace-label').map((g) => g.object.namespace));
  const meshed = inventory.namespaces.filter(
    (n) => n.revision !== null && revisions.includes(n.revision) && !(revisions[0] === 'default' && gatewayNamespaces.has(n.name)),
  );
  const followsTag = (n: (typeof meshed)[number]) =>
    n.injection.mode === 'injection-enabled' || (n.injection.mode === 'revision' && !revisions.includes(n.injection.value));
  return meshed.length > 0 && meshed.every(followsTag) ? 'tag' : 'relabel';
}
