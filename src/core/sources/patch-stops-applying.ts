import { posix } from 'node:path';
import { load } from 'js-yaml';
import { INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { RepoSnapshot } from '../../model/snapshot.js';
import type { MeshInventory } from '../inventory.js';
import type { PhaseDraft } from '../phases/context.js';
import type { Kustomization, YamlIndex } from '../repo-index.js';
import { parseSelector, selectorMatches } from './kustomize-selectors.js';
import { re2ToRegExp } from './re2-target.js';

/**
 * Kustomize patches the phase's own edits make stop applying (issue 13), each a warning
 * `patch-stops-applying` naming the patch and the reason:
 * - a patch whose `target.labelSelector` matches a Namespace by its injection label
 *   (`istio-injection=enabled`, `istio.io/rev=<old>`) that the phase relabels;
 * - in cleanup, an inline strategic-merge patch without a target naming an object the phase
 *   deletes (kustomize fails: no resource matches it), or a patch targeted at such an object by
 *   name (it silently patches nothing).
 */
export function warnPatchesThatStopApplying(
  index: YamlIndex,
  snapshot: RepoSnapshot,
  inventory: MeshInventory,
  draft: PhaseDraft,
  warn: (w: PlanWarning) => void,
): void {
  const namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  for (const n of inventory.namespaces) if (!namespaceLabels.has(n.name)) namespaceLabels.set(n.name, n.labels);
  const moved = draft.objects.flatMap((placed) => {
    const json = placed.desired.toJson();
    const rev = (json.metadata as { labels?: Record<string, string> }).labels?.[REV_LABEL];
    if (json.kind !== 'Namespace' || !rev) return [];
    const before = namespaceLabels.get(json.metadata.name);
    if (!before) return [];
    const after: Record<string, string> = { ...before, [REV_LABEL]: rev };
    delete after[INJECTION_LABEL];
    return [{ name: json.metadata.name, before, after }];
  });
  const deleted = draft.deletions.filter((d) => !d.isPatch);
  if (moved.length === 0 && deleted.length === 0) return;
  for (const k of index.kustomizations) {
    let body: Record<string, unknown>;
    try {
      body = asRecord(load(snapshot.get(k.file) ?? ''));
    } catch {
      continue;
    }
    // What the kustomization builds is only needed for a selector that names a mesh label: computed then, once.
    let builtCache: Set<string> | null = null;
    const built = {
      has(name: string): boolean {
        if (builtCache === null) builtCache = moved.length > 0 ? namespacesBuiltBy(index, k) : new Set<string>();
        return builtCache.has(name);
      },
    };
    for (const entry of [...list(body.patches), ...list(body.patchesJson6902)]) {
      const e = asRecord(entry);
      const target = asRecord(e.target);
      const what = typeof e.path === 'string' ? `patch ${posix.join(k.dir, e.path)}` : `an inline patch in ${k.file}`;
      const file = typeof e.path === 'string' ? posix.normalize(posix.join(k.dir, e.path)) : k.file;
      const nameRe = typeof target.name === 'string' ? re2ToRegExp(target.name) : null;
      if (typeof target.labelSelector === 'string' && (target.kind === undefined || target.kind === 'Namespace')) {
        const terms = parseSelector(target.labelSelector);
        const mesh = terms?.some((t) => t.key === INJECTION_LABEL || t.key === REV_LABEL);
        for (const ns of moved) {
          if (!terms || !mesh || !built.has(ns.name) || (nameRe && !nameRe.test(ns.name))) continue;
          if (selectorMatches(terms, ns.before) && !selectorMatches(terms, ns.after)) {
            warn({
              code: 'patch-stops-applying',
              message: `${what} (target labelSelector: ${target.labelSelector}) stops applying to Namespace ${ns.name} in phase ${draft.id}: the relabel to ${REV_LABEL}=${ns.after[REV_LABEL]} makes its selector miss. Retarget it (e.g. labelSelector: ${REV_LABEL}=${ns.after[REV_LABEL]}) in that pull request if it should keep applying.`,
              file,
            });
          }
        }
      }
      if (deleted.length === 0) continue;
      let parsed: unknown;
      try {
        parsed = typeof e.patch === 'string' ? load(e.patch) : undefined;
      } catch {
        parsed = undefined;
      }
      const smp = asRecord(parsed);
      const named =
        Object.keys(target).length === 0 && typeof smp.kind === 'string'
          ? { kind: smp.kind, name: asRecord(smp.metadata).name }
          : typeof target.kind === 'string' && typeof target.name === 'string'
            ? { kind: target.kind, name: target.name }
            : null;
      if (!named) continue;
      const gone = deleted.find(
        (d) => d.kind === named.kind && (Object.keys(target).length === 0 ? d.name === named.name : (nameRe?.test(d.name) ?? false)),
      );
      if (!gone) continue;
      // A name pattern that still matches something kept is not stopped.
      if (
        Object.keys(target).length > 0 &&
        index.objects.some((o) => !o.isPatch && o.kind === named.kind && nameRe?.test(o.name) && !deleted.includes(o))
      )
        continue;
      warn({
        code: 'patch-stops-applying',
        message:
          Object.keys(target).length === 0
            ? `${what} patches ${gone.kind} ${gone.name}, which phase ${draft.id} deletes: kustomize fails on it (no resource matches). Remove the patch from ${k.file} in that pull request.`
            : `${what} (target ${named.kind} ${String(named.name)}) patches nothing after phase ${draft.id} deletes ${gone.kind} ${gone.name}. Remove it from ${k.file}, or retarget it to the new revision's object.`,
        file,
      });
    }
  }
}

/** Names of the Namespaces a kustomization builds (its resources, followed through the kustomizations they name). */
function namespacesBuiltBy(index: YamlIndex, root: Kustomization): Set<string> {
  const files = new Set<string>();
  const seen = new Set<string>();
  const visit = (k: Kustomization) => {
    if (seen.has(k.file)) return;
    seen.add(k.file);
    for (const r of [...k.resources, ...(k.components ?? [])]) {
      const child = index.kustomizations.find((c) => c.dir === r.replace(/\/$/, ''));
      if (child) visit(child);
      else files.add(r);
    }
  };
  visit(root);
  return new Set(
    index
      .ofKind('Namespace')
      .filter((n) => !n.isPatch && files.has(n.file))
      .map((n) => n.name),
  );
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
