import { posix } from 'node:path';
import { load } from 'js-yaml';
import { stringify } from 'yaml';
import type { DesiredObject } from '../constructs/desired-object.js';
import { getPath } from '../core/kube.js';
import type { RepoSnapshot } from '../core/snapshot.js';
import type { IndexedObject } from '../core/yaml-index.js';
import { documentSource, editYamlText, editYamlTextReporting, identifyDocuments, mergePatchBetween, type DocumentEdit, type MergePatch, type PatchValue } from './yaml-patch.js';

/** A desired object together with the definitions in the repo it edits (none for creates). */
export interface PlacedObject {
  readonly desired: DesiredObject;
  readonly targets: readonly IndexedObject[];
}

export interface PhaseEdits {
  readonly objects: readonly PlacedObject[];
  readonly deletions: readonly IndexedObject[];
}

/** One object-level line of a phase: what happens to which object in which file. */
export interface ObjectChange {
  readonly action: 'create' | 'update' | 'delete';
  readonly file: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
}

export interface AppliedPhase {
  readonly snapshot: RepoSnapshot;
  readonly changes: readonly ObjectChange[];
}

const KUSTOMIZATION = 'kustomization.yaml';

/**
 * Writes a phase's desired objects into the repo: patches edit the existing definitions in place
 * (only the bytes of the changed nodes), creates add files (listed in the directory's
 * kustomization when there is one), deletions remove documents, files and kustomization entries.
 */
export function applyPhase(snapshot: RepoSnapshot, edits: PhaseEdits): AppliedPhase {
  const next = new Map(snapshot);
  const changes: ObjectChange[] = [];
  const byFile = new Map<string, Array<{ edit: DocumentEdit; object: IndexedObject; action: 'update' | 'delete' }>>();
  const add = (object: IndexedObject, edit: DocumentEdit, action: 'update' | 'delete') => {
    const list = byFile.get(object.file) ?? [];
    list.push({ edit, object, action });
    byFile.set(object.file, list);
  };

  const creates: DesiredObject[] = [];
  for (const { desired, targets } of edits.objects) {
    if (desired.mode.kind === 'create') {
      creates.push(desired);
      continue;
    }
    const json = desired.toJson();
    const { apiVersion: _a, kind: _k, metadata, ...rest } = json;
    const { name: _n, namespace: _ns, ...metadataRest } = metadata as Record<string, PatchValue>;
    const patch: MergePatch = Object.keys(metadataRest).length > 0 ? { ...rest, metadata: metadataRest as MergePatch } : rest;
    for (const target of chooseDefinitions(targets, patch)) {
      add(target, { documentIndex: target.documentIndex, kind: target.kind, name: target.name, patch }, 'update');
    }
  }
  const deleted = new Set<string>();
  for (const object of edits.deletions) {
    const key = `${object.file}#${object.documentIndex}`;
    if (deleted.has(key)) continue;
    deleted.add(key);
    add(object, { documentIndex: object.documentIndex, kind: object.kind, name: object.name, remove: true }, 'delete');
  }

  const deletedFiles: string[] = [];
  for (const [file, entries] of [...byFile].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const source = next.get(file);
    if (source === undefined) continue;
    const result = editYamlTextReporting(file, source, entries.map((e) => e.edit));
    entries.forEach((entry, i) => {
      if (!result.changed.has(i)) return;
      const { kind, namespace, name } = entry.object;
      changes.push({ action: entry.action, file, kind, namespace, name });
    });
    if (result.text === null) {
      next.delete(file);
      deletedFiles.push(file);
    } else if (result.text !== source) {
      next.set(file, result.text);
    }
  }

  for (const desired of creates) {
    if (desired.mode.kind !== 'create') continue;
    const file = desired.mode.file;
    const json = desired.toJson();
    if (next.has(file)) continue;
    next.set(file, renderNewFile(next, desired.mode.basedOn, json));
    changes.push({ action: 'create', file, kind: json.kind, namespace: json.metadata.namespace ?? null, name: json.metadata.name });
    listInKustomization(next, file, changes);
  }
  unlistDeleted(next, deletedFiles, changes);
  return { snapshot: next, changes };
}

/** A new object's file text: the template document edited where it differs, or a plain dump. */
function renderNewFile(snapshot: ReadonlyMap<string, string>, basedOn: IndexedObject | undefined, json: ReturnType<DesiredObject['toJson']>): string {
  const templateFile = basedOn ? snapshot.get(basedOn.file) : undefined;
  const template = basedOn && templateFile ? documentSource(templateFile, basedOn) : null;
  if (!basedOn || template === null) return stringify(json, { lineWidth: 0 });
  const patch = mergePatchBetween(basedOn.body, json);
  return editYamlText(basedOn.file, template, [{ documentIndex: 0, kind: basedOn.kind, name: basedOn.name, patch }]) ?? stringify(json, { lineWidth: 0 });
}

/**
 * Which definitions of an object a patch goes to. With a kustomize base and overlay patches, the
 * field is edited where it is defined; a field defined nowhere goes to the last (overriding)
 * definition.
 */
function chooseDefinitions(targets: readonly IndexedObject[], patch: MergePatch): readonly IndexedObject[] {
  if (targets.length <= 1) return targets;
  const defining = targets.filter((t) => definesAnyLeaf(t.body, patch, []));
  return defining.length > 0 ? defining : targets.slice(-1);
}

function definesAnyLeaf(body: unknown, patch: MergePatch, path: string[]): boolean {
  return Object.entries(patch).some(([key, value]) => {
    const at = [...path, key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return definesAnyLeaf(body, value as MergePatch, at);
    return getPath(body, at) !== undefined;
  });
}

function kustomizationIn(snapshot: ReadonlyMap<string, string>, dir: string): string | null {
  for (const name of [KUSTOMIZATION, 'kustomization.yml', 'Kustomization']) {
    const path = dir === '.' ? name : `${dir}/${name}`;
    if (snapshot.has(path)) return path;
  }
  return null;
}

function resourcesOf(text: string): string[] {
  const resources = (load(text) as { resources?: unknown } | null)?.resources;
  return Array.isArray(resources) ? resources.filter((r): r is string => typeof r === 'string') : [];
}

function editResources(snapshot: Map<string, string>, kustomization: string, update: (entries: string[]) => string[], changes: ObjectChange[]): void {
  const text = snapshot.get(kustomization)!;
  const current = resourcesOf(text);
  const wanted = update(current);
  if (wanted.length === current.length && wanted.every((w, i) => w === current[i])) return;
  const identity = identifyDocuments(text)[0];
  const result = editYamlTextReporting(kustomization, text, [
    { documentIndex: 0, kind: identity?.kind ?? null, name: identity?.name ?? null, patch: { resources: wanted } },
  ]);
  if (result.text !== null && result.text !== text) {
    snapshot.set(kustomization, result.text);
    changes.push({ action: 'update', file: kustomization, kind: 'Kustomization', namespace: null, name: posix.dirname(kustomization) });
  }
}

function listInKustomization(snapshot: Map<string, string>, file: string, changes: ObjectChange[]): void {
  const kustomization = kustomizationIn(snapshot, posix.dirname(file));
  if (!kustomization) return;
  const entry = posix.basename(file);
  editResources(snapshot, kustomization, (entries) => (entries.some((e) => posix.normalize(e) === entry) ? entries : [...entries, entry]), changes);
}

/** Drops kustomization entries of deleted files, and of directories left with nothing to build. */
function unlistDeleted(snapshot: Map<string, string>, deletedFiles: readonly string[], changes: ObjectChange[]): void {
  const pending = [...deletedFiles];
  while (pending.length > 0) {
    const file = pending.shift()!;
    const dir = posix.dirname(file);
    const kustomization = kustomizationIn(snapshot, dir);
    if (kustomization && kustomization !== file) {
      editResources(snapshot, kustomization, (entries) => entries.filter((e) => posix.normalize(posix.join(dir, e)) !== file), changes);
      const left = resourcesOf(snapshot.get(kustomization)!);
      const othersInDir = [...snapshot.keys()].some((p) => p.startsWith(`${dir}/`) && p !== kustomization);
      if (left.length === 0 && !othersInDir) {
        snapshot.delete(kustomization);
        changes.push({ action: 'delete', file: kustomization, kind: 'Kustomization', namespace: null, name: dir });
        pending.push(kustomization);
      }
      continue;
    }
    // A directory listed by its parent's kustomization goes from that list when it is empty.
    const parent = posix.dirname(dir);
    const parentKustomization = kustomizationIn(snapshot, parent);
    const dirEmpty = ![...snapshot.keys()].some((p) => p.startsWith(`${dir}/`));
    if (parentKustomization && dirEmpty) {
      editResources(snapshot, parentKustomization, (entries) => entries.filter((e) => posix.normalize(posix.join(parent, e)).replace(/\/$/, '') !== dir), changes);
    }
  }
}
