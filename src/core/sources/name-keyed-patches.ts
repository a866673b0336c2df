import { posix } from 'node:path';
import { describe, ISTIO_SYSTEM, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject, KubeObject } from '../../model/objects.js';
import type { FileChange, RawFileEdit, RepoSnapshot } from '../../model/snapshot.js';
import { mergePatchBetween } from '../../writer/patch-data.js';
import { documentSource, editYamlText } from '../../writer/yaml-patch.js';
import type { PlanContext } from '../phases/context.js';
import { fileForRevision, renameForRevision } from '../phases/naming.js';
import { type Renames, renameReferences, renamesOf } from './twin-references.js';

/** One patch keyed by an old-revision object's name, and its twin for the new revision's object. */
export interface Twin {
  readonly patch: IndexedObject;
  readonly name: string;
  readonly file: string;
  readonly kustomization: string;
}

/** Webhook configurations are merged by webhook name, and the revisioned injector's names differ. */
const NOT_TWINNED = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);

/**
 * Kustomize patches keyed by the name of an old-revision object of a rendered control plane
 * (`Deployment istiod` resized for prod, `ConfigMap istio` with the prod mesh config) match
 * nothing of the new revision (`istiod-<new>`, `istio-<new>`). The control-plane phase adds a twin
 * of each, keyed to the new name with the per-revision values in it fixed (`discoveryAddress`,
 * the injector's `revision`, image tags), listed with a `target:` so that it is a silent no-op
 * until the render of the new revision is committed (a strategic-merge patch without target that
 * matches nothing fails the build). Cleanup removes the old patches with the old objects.
 * Patches the bot cannot twin safely (webhook configurations, `$patch: delete`) are reported.
 */
export function twinNameKeyedPatches(ctx: PlanContext): RawFileEdit[] {
  const { installed, from, to } = ctx;
  if (installed?.install !== 'manifests') return [];
  const owned = installed.ownedObjects;
  const key = (o: { kind: string; namespace: string | null; name: string }) => `${o.kind}/${o.namespace ?? ''}/${o.name}`;
  const ownedKeys = new Set(owned.map(key));
  const patches = ctx.index.objects.filter((o) => o.isPatch && ownedKeys.has(key(o)));
  const twins: Twin[] = [];
  for (const patch of patches) {
    const name = twinName(patch, from.name, to.name);
    const kustomization = ctx.index.kustomizations.find((k) => k.patchFiles.includes(patch.file));
    if (NOT_TWINNED.has(patch.kind) || (patch.body as { $patch?: unknown }).$patch !== undefined || !kustomization) {
      ctx.warn({
        code: 'patch-not-carried-over',
        message: `${patch.file} patches ${describe(patch)} of ${from.name} by name; the new revision's object (${patch.kind} ${name}) does not match it, and the bot does not copy this patch (${NOT_TWINNED.has(patch.kind) ? 'the revisioned webhooks have other names and selectors' : 'it deletes or replaces the object'}). Add the patch for ${name} by hand before the control-plane phase merges.`,
        file: patch.file,
      });
      continue;
    }
    // References to other old objects (an HPA's scaleTargetRef, a binding's roleRef) are renamed; one whose kind is unknown stops the twin.
    const leftover: string[] = [];
    renameReferences(retarget(patch.body, from.name, to.name, from.version, to.version), twinRenames(ctx), leftover);
    if (leftover.length > 0) {
      ctx.warn({
        code: 'patch-not-carried-over',
        message: `${patch.file} patches ${describe(patch)} of ${from.name} by name, and names another object of ${from.name} at ${leftover.join(', ')}, which the bot cannot tell the new revision's name of. Add the patch for ${patch.kind} ${name} by hand, naming the objects of ${to.name}, before the control-plane phase merges.`,
        file: patch.file,
      });
      continue;
    }
    twins.push({ patch, name, file: '', kustomization: kustomization.file });
  }
  // Inline patches (`patch:` text in the kustomization) are not copied: named, for a person to copy.
  const ownedNames = new Set(owned.map((o) => `${o.kind}/${o.name}`));
  for (const k of ctx.index.kustomizations) {
    for (const target of k.inlinePatchTargets ?? []) {
      if (!ownedNames.has(`${target.kind}/${target.name}`)) continue;
      ctx.warn({
        code: 'patch-not-carried-over',
        message: `${k.file} has an inline patch of ${target.kind} ${target.name} of ${from.name}; the new revision's object does not match it, and the bot does not copy inline patches. Add the same patch for the new revision's ${target.kind} by hand before the control-plane phase merges.`,
        file: k.file,
      });
    }
  }
  // One twin file per patch document: `istiod.yaml` → `istiod-<new>.yaml` (with the kind when a file holds several).
  const perFile = new Map<string, number>();
  for (const t of twins) perFile.set(t.patch.file, (perFile.get(t.patch.file) ?? 0) + 1);
  const placed = twins.map((t) => ({ ...t, file: twinFile(t.patch, perFile.get(t.patch.file)! > 1, from.name, to.name) }));
  return placed.flatMap((twin): RawFileEdit[] => [
    { path: twin.file, content: (repo) => (repo.has(twin.file) ? null : twinText(repo, twin, ctx)) },
    { path: twin.kustomization, content: (repo) => listTwin(repo.get(twin.kustomization) ?? null, twin) },
  ]);
}

/** Writes raw file edits into the working copy; the file changes they make, in path order. */
export function applyRawFileEdits(repo: Map<string, string>, edits: readonly RawFileEdit[]): FileChange[] {
  const before = new Map<string, string | undefined>();
  for (const edit of edits) {
    if (edit.remove) {
      if (!repo.has(edit.path)) continue;
      if (!before.has(edit.path)) before.set(edit.path, repo.get(edit.path));
      repo.delete(edit.path);
      continue;
    }
    const next = edit.content(repo);
    if (next === null || next === repo.get(edit.path)) continue;
    if (!before.has(edit.path)) before.set(edit.path, repo.get(edit.path));
    repo.set(edit.path, next);
  }
  return [...before]
    .filter(([path, old]) => repo.get(path) !== old)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([path, old]) =>
      !repo.has(path)
        ? { path, action: 'delete' as const, content: null }
        : { path, action: old === undefined ? ('create' as const) : ('update' as const), content: repo.get(path)! },
    );
}

/** The new revision's name for an old object: `istiod` → `istiod-<new>`, `istiod-clusterrole-istio-system` → `istiod-clusterrole-<new>-istio-system`. */
function twinName(patch: IndexedObject, from: string, to: string): string {
  if (from !== 'default') return renameForRevision(patch.name, from, to);
  const suffix = `-${ISTIO_SYSTEM}`;
  return patch.namespace === null && patch.name.endsWith(suffix)
    ? `${patch.name.slice(0, -suffix.length)}-${to}${suffix}`
    : `${patch.name}-${to}`;
}

/** The new revision's name of each old per-revision object. */
function twinRenames(ctx: PlanContext): Renames {
  return renamesOf(ctx.installed?.ownedObjects ?? [], (o) => twinName(o, ctx.from.name, ctx.to.name));
}

export function twinFile(patch: IndexedObject, several: boolean, from: string, to: string): string {
  if (!several) return fileForRevision(patch.file, from, to);
  const ext = posix.extname(patch.file);
  const stem = patch.file.slice(0, patch.file.length - ext.length);
  return `${stem}-${patch.kind.toLowerCase()}-${to}${ext}`;
}

/** The old patch's document with the new name and the per-revision values fixed. */
export function twinText(repo: RepoSnapshot, twin: Twin, ctx: PlanContext, adjust: (body: KubeObject) => KubeObject = (b) => b): string {
  const source = repo.get(twin.patch.file)!;
  const template = documentSource(source, twin.patch) ?? '';
  const body = adjust(
    renameReferences(
      retarget(twin.patch.body, ctx.from.name, ctx.to.name, ctx.from.version, ctx.to.version),
      twinRenames(ctx),
      [],
    ) as KubeObject,
  );
  const desired = { ...body, metadata: { ...body.metadata, name: twin.name } };
  const patch = mergePatchBetween(twin.patch.body, desired);
  const text = editYamlText(twin.file, template, [{ documentIndex: 0, kind: twin.patch.kind, name: twin.patch.name, patch }]) ?? '';
  const header = `# Twin of ${posix.basename(twin.patch.file)} for ${twin.patch.kind} ${twin.name} (revision ${ctx.to.name}): kustomize matches patches by name.\n`;
  return header + text.replace(/^---\n/, '');
}

/**
 * Per-revision values of a copied patch, for the new revision: the istiod address
 * (`istiod.istio-system.svc` → `istiod-<new>.istio-system.svc`), the old revision's name, the
 * `istio.io/rev` label, the injector's `"revision"`, and the release (image tags, `"tag"`).
 */
export function retarget(value: unknown, from: string, to: string, fromVersion: string | null, toVersion: string | null): unknown {
  if (typeof value === 'string') {
    let text = value;
    if (from === 'default') {
      text = text.replace(/\bistiod\.istio-system\b/g, `istiod-${to}.istio-system`).replace(/("revision":\s*)""/g, `$1"${to}"`);
    } else {
      text = text.replace(new RegExp(`(^|[^A-Za-z0-9.-])${escapeRegExp(from)}(?![A-Za-z0-9-])`, 'g'), `$1${to}`);
    }
    if (fromVersion && toVersion)
      text = text.replace(new RegExp(`(^|[^0-9.])${escapeRegExp(fromVersion)}(?![0-9])`, 'g'), `$1${toVersion}`);
    return text;
  }
  if (Array.isArray(value)) return value.map((v) => retarget(v, from, to, fromVersion, toVersion));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === REV_LABEL && v === from ? to : k === 'name' && v === 'REVISION' ? v : retarget(v, from, to, fromVersion, toVersion);
    }
    // `env: [{name: REVISION, value: default}]` of istiod.
    if (out.name === 'REVISION' && typeof out.value === 'string' && (out.value === from || out.value === '')) out.value = to;
    return out;
  }
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The kustomization with the twin listed right after the old patch's entry in `patches:` (with a
 * `target:`, so it matches nothing until the new render is in), or at the end of `patches:`
 * (added when the old patch is listed under `patchesStrategicMerge:`). Null when it is listed.
 */
export function listTwin(text: string | null, twin: Twin): string | null {
  if (text === null) return null;
  const dir = posix.dirname(twin.kustomization);
  const relative = posix.relative(dir === '.' ? '' : dir, twin.file);
  const old = posix.relative(dir === '.' ? '' : dir, twin.patch.file);
  const listed = new RegExp(`^[ \\t]*-?[ \\t]*path:[ \\t]*["']?(?:\\./)?${escapeRegExp(relative)}["']?[ \\t]*(?:#.*)?$`, 'm');
  if (listed.test(text)) return null;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const entry = (indent: string) => {
    const inner = `${indent}  `;
    return [
      `${indent}# ${twin.patch.kind} ${twin.name} of the new revision, customised like ${twin.patch.name}`,
      `${indent}- path: ${relative}`,
      `${inner}target:`,
      `${inner}  kind: ${twin.patch.kind}`,
      `${inner}  name: ${twin.name}`,
      ...(twin.patch.namespace ? [`${inner}  namespace: ${twin.patch.namespace}`] : []),
    ];
  };
  const patchesAt = lines.findIndex((l) => /^patches:\s*(?:#.*)?$/.test(l));
  const oldItem = new RegExp(`^([ \\t]*)-[ \\t]+path:[ \\t]*["']?(?:\\./)?${escapeRegExp(old)}["']?[ \\t]*(?:#.*)?$`);
  for (let i = patchesAt + 1; patchesAt >= 0 && i < lines.length; i++) {
    const match = oldItem.exec(lines[i]!);
    if (!match) continue;
    const indent = match[1]!;
    let end = i + 1;
    while (
      end < lines.length &&
      lines[end]!.trim() !== '' &&
      !lines[end]!.trimStart().startsWith('#') &&
      indentOf(lines[end]!) > indent.length
    )
      end++;
    lines.splice(end, 0, ...entry(indent));
    return lines.join(eol);
  }
  if (patchesAt >= 0) {
    let end = patchesAt + 1;
    let indent = '  ';
    while (end < lines.length && (lines[end]!.trim() === '' || /^[ \t-]/.test(lines[end]!))) {
      const m = /^([ \t]*)-/.exec(lines[end]!);
      if (m) indent = m[1]!;
      end++;
    }
    while (end > patchesAt + 1 && lines[end - 1]!.trim() === '') end--;
    lines.splice(end, 0, ...entry(indent));
    return lines.join(eol);
  }
  const body = text.replace(/\s*$/, '');
  return `${body}${eol}patches:${eol}${entry('  ').join(eol)}${eol}`;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** A phase's file changes with the raw ones added (a path changed by both keeps its last content). */
export function withRawFiles(files: readonly FileChange[], raw: readonly FileChange[]): FileChange[] {
  if (raw.length === 0) return [...files];
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const f of raw) {
    const earlier = byPath.get(f.path);
    byPath.set(f.path, earlier ? { ...f, action: earlier.action === 'create' ? 'create' : f.action } : f);
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
