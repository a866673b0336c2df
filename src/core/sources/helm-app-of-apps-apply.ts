import type { Desired } from '../../model/desired.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PhaseEdits, PlacedObject } from '../../model/placed-object.js';
import type { AppliedPhase } from '../../writer/apply-phase.js';
import { renderPhase } from '../render-phase.js';
import { type AppOfApps, virtual } from './helm-app-of-apps.js';
import { ValuesWriter } from './helm-app-of-apps-writer.js';

/**
 * Writes a phase into the repo: edits of rendered objects go into the values files (new and
 * removed istiod releases as list elements), everything else through {@link renderPhase}.
 */
export function applyPhaseWithCharts(repo: Map<string, string>, edits: PhaseEdits, aoa: AppOfApps | null): AppliedPhase {
  if (!aoa || aoa.charts.length === 0) return renderPhase(repo, edits);
  const before = new Map<string, string | undefined>();
  const writer = new ValuesWriter(repo, before, aoa);
  const changes: AppliedPhase['changes'][number][] = [];
  const rest: PlacedObject[] = [];
  for (const placed of edits.objects) {
    const { desired, targets } = placed;
    if (desired.mode.kind === 'create' && desired.mode.basedOn && virtual.has(desired.mode.basedOn)) {
      writer.create(desired, desired.mode.basedOn, desired.mode.file);
      changes.push(change('create', desired, writer.lastFile));
      continue;
    }
    const virtualTargets = targets.filter((t) => virtual.has(t) || writer.isCreated(t));
    if (desired.mode.kind === 'patch' && virtualTargets.length > 0) {
      for (const target of virtualTargets) if (writer.patch(desired, target)) changes.push(change('update', desired, writer.lastFile));
      const others = targets.filter((t) => !virtualTargets.includes(t));
      if (others.length > 0) rest.push({ desired, targets: others });
      continue;
    }
    rest.push(placed);
  }
  const deletions: IndexedObject[] = [];
  const removed = new Set<IndexedObject>();
  for (const object of edits.deletions) {
    if (virtual.has(object)) {
      if (removed.has(object)) continue;
      removed.add(object);
      if (writer.remove(object))
        changes.push({ action: 'delete', file: writer.lastFile, kind: object.kind, namespace: object.namespace, name: object.name });
    } else deletions.push(object);
  }
  const applied = renderPhase(repo, { objects: rest, deletions });
  const files = [...applied.files];
  for (const [path, old] of before) {
    const now = repo.get(path);
    if (now !== old && !files.some((f) => f.path === path))
      files.push({ path, action: old === undefined ? 'create' : now === undefined ? 'delete' : 'update', content: now ?? null });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { changes: [...changes, ...applied.changes], files };
}

export function change(action: 'create' | 'update', desired: Desired, file: string) {
  const json = desired.toJson();
  return { action, file, kind: json.kind, namespace: json.metadata.namespace ?? null, name: json.metadata.name };
}
