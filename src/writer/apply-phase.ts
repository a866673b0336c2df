import { posix } from 'node:path';
import { load } from 'js-yaml';
import { stringify } from 'yaml';
import type { Desired, DesiredJson } from '../model/desired.js';
import { getPath } from '../model/kube.js';
import type { MergePatch, PatchValue } from '../model/merge-patch.js';
import type { IndexedObject } from '../model/objects.js';
import type { ObjectChange, PhaseEdits } from '../model/placed-object.js';
import type { FileChange } from '../model/snapshot.js';
import { mergePatchBetween } from './patch-data.js';
import { withoutPatchEntry } from './unlist-patch-entry.js';
import { type DocumentEdit, documentSource, editYamlText, editYamlTextReporting, identifyDocuments } from './yaml-patch.js';

export interface AppliedPhase {
  readonly changes: readonly ObjectChange[];
  /** The files this phase changed, in path order. */
  readonly files: readonly FileChange[];
}

const KUSTOMIZATION = 'kustomization.yaml';

/**
 * Writes a phase's desired objects into the repo, editing `repo` in place: patches edit the
 * existing definitions (only the bytes of the changed nodes), creates add files (listed in the
 * directory's kustomization when there is one), deletions remove documents, files and
 * kustomization entries. Costs the size of the phase, not of the repo.
 */
export function applyPhase(repo: Map<string, string>, phaseEdits: PhaseEdits, delegates: readonly DelegatedEdits[] = []): AppliedPhase {
  const before = new Map<string, string | undefined>();
  const next = new TrackedRepo(repo, before);
  const changes: ObjectChange[] = [];
  let edits = phaseEdits;
  for (const delegate of delegates) {
    const taken = delegate.take(repo, edits);
    taken.apply(next, changes);
    edits = taken.rest;
  }
  const byFile = new Map<string, Array<{ edit: DocumentEdit; object: IndexedObject; action: 'update' | 'delete' }>>();
  const add = (object: IndexedObject, edit: DocumentEdit, action: 'update' | 'delete') => {
    const list = byFile.get(object.file) ?? [];
    list.push({ edit, object, action });
    byFile.set(object.file, list);
  };

  const creates: Desired[] = [];
  for (const { desired, targets } of edits.objects) {
    if (desired.mode.kind === 'create') {
      creates.push(desired);
      continue;
    }
    const json = desired.toJson();
    const { apiVersion: _a, kind: _k, metadata, ...rest } = json;
    const { name: _n, namespace: _ns, ...metadataRest } = metadata as Record<string, PatchValue>;
    const patch: MergePatch = Object.keys(metadataRest).length > 0 ? { ...rest, metadata: metadataRest as MergePatch } : rest;
    for (const [target, edit] of chooseDefinitions(targets, patch)) {
      add(target, { documentIndex: target.documentIndex, kind: target.kind, name: target.name, patch: edit }, 'update');
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
    const result = editYamlTextReporting(
      file,
      source,
      entries.map((e) => e.edit),
    );
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

  // Several new objects may share a file (an operator's Deployment, RBAC and Service): the first
  // creates it, the others follow as documents. A file already in the repo means the phase is in.
  const createdHere = new Set<string>();
  for (const desired of creates) {
    if (desired.mode.kind !== 'create') continue;
    const file = desired.mode.file;
    const json = desired.toJson();
    if (next.has(file) && !createdHere.has(file)) continue;
    const text = desired.mode.rewrite
      ? rewrittenCopy(next, desired.mode.basedOn, desired.mode.rewrite, json)
      : commentsFor(renderNewFile(next, desired.mode.basedOn, json), desired.mode.revision);
    next.set(file, createdHere.has(file) ? `${next.get(file)!.replace(/\n*$/, '\n')}---\n${text.replace(/^---\n/, '')}` : text);
    changes.push({ action: 'create', file, kind: json.kind, namespace: json.metadata.namespace ?? null, name: json.metadata.name });
    if (!createdHere.has(file)) listInKustomization(next, file, changes);
    createdHere.add(file);
  }
  unlistDeleted(next, deletedFiles, changes);
  const files: FileChange[] = [];
  for (const [path, old] of [...before].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const now = repo.get(path);
    if (now === old) continue;
    if (now === undefined) files.push({ path, action: 'delete', content: null });
    else files.push({ path, action: old === undefined ? 'create' : 'update', content: now });
  }
  return { changes, files };
}

/** The files a delegate edits: reads and writes are remembered, so they appear in the phase's file changes. */
export interface EditableRepo {
  get(path: string): string | undefined;
  set(path: string, text: string): void;
  delete(path: string): void;
  keys(): IterableIterator<string>;
}

/**
 * Some objects are not documents of the repo (Applications generated by an ApplicationSet): their
 * edits go elsewhere (the generator elements). A delegate takes those edits out of the phase and
 * writes them itself; the rest goes through the ordinary writer.
 */
export interface DelegatedEdits {
  take(
    repo: ReadonlyMap<string, string>,
    edits: PhaseEdits,
  ): { readonly rest: PhaseEdits; apply(repo: EditableRepo, changes: ObjectChange[]): void };
}

/** The file operations a phase needs, over a repo map that remembers each path's first content. */
class TrackedRepo implements EditableRepo {
  constructor(
    private readonly target: Map<string, string>,
    private readonly original: Map<string, string | undefined>,
  ) {}
  get(path: string): string | undefined {
    return this.target.get(path);
  }
  /** The text before this phase's edits: a copy is made of the old object, not of its edited form. */
  before(path: string): string | undefined {
    return this.original.has(path) ? this.original.get(path) : this.target.get(path);
  }
  has(path: string): boolean {
    return this.target.has(path);
  }
  set(path: string, content: string): void {
    this.remember(path);
    this.target.set(path, content);
  }
  delete(path: string): void {
    this.remember(path);
    this.target.delete(path);
  }
  keys(): IterableIterator<string> {
    return this.target.keys();
  }
  private remember(path: string): void {
    if (!this.original.has(path)) this.original.set(path, this.target.get(path));
  }
}

/**
 * A copied file's comments speak of the revision the copy is for ("Control plane for revision X"):
 * whole-line comments are rewritten, values were already set by the construct.
 */
function commentsFor(text: string, revision: { readonly from: string; readonly to: string } | undefined): string {
  if (!revision) return text;
  return text.replace(/^([ \t]*#.*)$/gm, (line) => line.split(revision.from).join(revision.to));
}

/** A renaming copy: the template document's text with the replacements made, or a plain dump. */
function rewrittenCopy(
  snapshot: TrackedRepo,
  basedOn: IndexedObject | undefined,
  rewrites: ReadonlyArray<readonly [string, string]>,
  json: DesiredJson,
): string {
  const templateFile = basedOn ? snapshot.before(basedOn.file) : undefined;
  const template = basedOn && templateFile ? documentSource(templateFile, basedOn) : null;
  if (template === null) return stringify(json, { lineWidth: 0 });
  return rewrites.reduce((text, [from, to]) => text.split(from).join(to), template);
}

/** A new object's file text: the template document edited where it differs, or a plain dump. */
function renderNewFile(snapshot: TrackedRepo, basedOn: IndexedObject | undefined, json: DesiredJson): string {
  const templateFile = basedOn ? snapshot.before(basedOn.file) : undefined;
  const template = basedOn && templateFile ? documentSource(templateFile, basedOn) : null;
  if (!basedOn || template === null) return stringify(json, { lineWidth: 0 });
  const patch = mergePatchBetween(basedOn.body, json);
  return (
    editYamlText(basedOn.file, template, [{ documentIndex: 0, kind: basedOn.kind, name: basedOn.name, patch }]) ??
    stringify(json, { lineWidth: 0 })
  );
}

/**
 * Which definitions of an object a patch goes to. With a kustomize base and overlay patches, the
 * field is edited where it is defined; a field defined nowhere goes to the last (overriding)
 * definition.
 */
function chooseDefinitions(targets: readonly IndexedObject[], patch: MergePatch): ReadonlyArray<readonly [IndexedObject, MergePatch]> {
  if (targets.length <= 1) return targets.map((t) => [t, patch] as const);
  // A key a kustomize patch deletes (`key: null`) is decided there: removing it is already done,
  // and taking the null out would bring the base's value back.
  const decided = withoutDeletedByPatch(patch, targets, []);
  if (decided === null) return [];
  const defining = targets.filter((t) => definesAnyLeaf(t.body, decided, []));
  return (defining.length > 0 ? defining : targets.slice(-1)).map((t) => [t, decided] as const);
}

/** The patch without the removals a patch definition already makes; null when nothing is left. */
function withoutDeletedByPatch(patch: MergePatch, targets: readonly IndexedObject[], path: string[]): MergePatch | null {
  const kept: Record<string, PatchValue> = {};
  for (const [key, value] of Object.entries(patch)) {
    const at = [...path, key];
    if (value === null && targets.some((t) => t.isPatch && getPath(t.body, at) === null && getPath(t.body, path) !== undefined)) continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const inner = withoutDeletedByPatch(value as MergePatch, targets, at);
      if (inner !== null) kept[key] = inner;
      continue;
    }
    kept[key] = value;
  }
  return Object.keys(kept).length > 0 ? kept : null;
}

function definesAnyLeaf(body: unknown, patch: MergePatch, path: string[]): boolean {
  return Object.entries(patch).some(([key, value]) => {
    const at = [...path, key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return definesAnyLeaf(body, value as MergePatch, at);
    return getPath(body, at) !== undefined;
  });
}

function kustomizationIn(snapshot: TrackedRepo, dir: string): string | null {
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

function editResources(
  snapshot: TrackedRepo,
  kustomization: string,
  update: (entries: string[]) => string[],
  changes: ObjectChange[],
): void {
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

function listInKustomization(snapshot: TrackedRepo, file: string, changes: ObjectChange[]): void {
  const kustomization = kustomizationIn(snapshot, posix.dirname(file));
  if (!kustomization) return;
  const entry = posix.basename(file);
  editResources(
    snapshot,
    kustomization,
    (entries) => (entries.some((e) => posix.normalize(e) === entry) ? entries : [...entries, entry]),
    changes,
  );
}

/** Drops kustomization entries of deleted files, and of directories left with nothing to build. */
function unlistDeleted(snapshot: TrackedRepo, deletedFiles: readonly string[], changes: ObjectChange[]): void {
  const pending = [...deletedFiles];
  while (pending.length > 0) {
    const file = pending.shift()!;
    unlistPatch(snapshot, file, changes);
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
      editResources(
        snapshot,
        parentKustomization,
        (entries) => entries.filter((e) => posix.normalize(posix.join(parent, e)).replace(/\/$/, '') !== dir),
        changes,
      );
    }
  }
}

/**
 * A deleted patch file goes from the `patches` of the kustomization above it that names it in
 * the plain form `- path: <file>` (that one line goes; kustomize refuses a missing patch file).
 */
function unlistPatch(snapshot: TrackedRepo, file: string, changes: ObjectChange[]): void {
  for (let dir = posix.dirname(file); ; dir = posix.dirname(dir)) {
    const kustomization = kustomizationIn(snapshot, dir);
    if (kustomization) {
      const text = snapshot.get(kustomization)!;
      const relative = posix.relative(dir === '.' ? '' : dir, file);
      const escaped = relative.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      // The item's own lines go too: a `target:` under it, and the comment lines right above it.
      const line = new RegExp(
        `^(?:([ \\t]*)#.*\\n(?=\\1[#-]))*([ \\t]*)- path: ["']?(?:\\./)?${escaped}["']?[ \\t]*(?:#.*)?\\n(?:\\2[ \\t]+[^ \\t\\n#-][^\\n]*\\n)*`,
        'm',
      );
      if (line.test(text)) {
        snapshot.set(kustomization, text.replace(line, ''));
        changes.push({ action: 'update', file: kustomization, kind: 'Kustomization', namespace: null, name: dir });
        return;
      }
      const other = withoutPatchEntry(text, relative);
      if (other !== null) {
        snapshot.set(kustomization, other);
        changes.push({ action: 'update', file: kustomization, kind: 'Kustomization', namespace: null, name: dir });
        return;
      }
    }
    if (dir === '.' || dir === '' || dir === '/') return;
  }
}
