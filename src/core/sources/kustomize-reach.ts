import { posix } from 'node:path';
import { said, settingHint, UpgradeRefusedError } from '../../model/errors.js';
import type { IndexedObject } from '../../model/objects.js';
import { objectKey } from '../../model/objects.js';
import type { YamlIndex } from '../repo-index.js';

/**
 * Files `kustomize build` never reads. Argo CD and Flux build a directory that holds a
 * kustomization with kustomize, so a YAML file there (or in a directory below it that nothing
 * points at) that no kustomization names (resource, patch, component, generator input, ...) is not
 * applied: a leftover patch or an old copy of a manifest. It is not part of the effective state.
 */
interface KustomizationText {
  readonly file: string;
  readonly body: unknown;
}

/** The orphan files among `files` with the reason they are left out, by file. */
export function unreachedFiles(
  files: ReadonlyArray<{ readonly file: string; readonly documents: readonly unknown[] }>,
  kustomizations: readonly KustomizationText[],
): Map<string, string> {
  const kustomizationDirs = new Map<string, string>();
  for (const k of kustomizations) kustomizationDirs.set(posix.dirname(k.file), k.file);
  const referenced = new Set<string>();
  for (const k of kustomizations) {
    const dir = posix.dirname(k.file);
    for (const text of strings(k.body)) {
      for (const candidate of [text, text.slice(text.indexOf('=') + 1)]) {
        if (candidate.includes('\n') || candidate === '') continue;
        referenced.add(posix.normalize(posix.join(dir, candidate)).replace(/\/$/, ''));
      }
    }
  }
  // Directories an Argo CD Application or a Flux Kustomization builds by themselves.
  const entryDirs = new Set<string>();
  let generatedPaths = false;
  for (const { documents } of files) {
    for (const d of documents) {
      const doc = record(d);
      if (doc.kind === 'ApplicationSet') generatedPaths = true;
      const spec = record(doc.spec);
      const sources = [record(spec.source), ...(Array.isArray(spec.sources) ? spec.sources.map(record) : [])];
      for (const path of [spec.path, ...sources.map((s) => s.path)])
        if (typeof path === 'string') entryDirs.add(posix.normalize(path.replace(/^\.\//, '')).replace(/\/$/, ''));
    }
  }
  const out = new Map<string, string>();
  for (const { file, documents } of files) {
    if (referenced.has(file)) continue;
    // Argo CD and Flux bootstrap objects (an app-of-apps root, flux-system) are often applied by hand: they stay.
    if (
      !documents.some(isObject) ||
      documents.some((d) => /^(argoproj\.io|(kustomize|source)\.toolkit\.fluxcd\.io)\//.test(String(record(d).apiVersion)))
    )
      continue;
    const own = kustomizationDirs.get(posix.dirname(file));
    if (own) {
      out.set(file, `not named by ${own} (resources, patches, components): kustomize build, and so Argo CD or Flux, never applies it`);
      continue;
    }
    if (generatedPaths) continue;
    // Below a kustomization: orphan unless something builds this directory (or one between) by itself.
    let dir = posix.dirname(file);
    let built = false;
    while (dir !== '.' && !kustomizationDirs.has(dir)) {
      if (entryDirs.has(dir)) built = true;
      dir = posix.dirname(dir);
    }
    const above = dir === '.' ? undefined : kustomizationDirs.get(dir);
    if (above && !built)
      out.set(
        file,
        `below ${above} but not named by any kustomization (resources, patches, components): kustomize build, and so Argo CD or Flux, never applies it`,
      );
  }
  return out;
}

function isObject(value: unknown): boolean {
  const v = record(value);
  return typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof record(v.metadata).name === 'string';
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * The objects defined more than once as resources (not patches): in one kustomize build that is
 * an error kustomize reports itself; across builds (two overlays) the planner cannot tell which
 * definition to edit. Both are refused with the files named, never a stack trace.
 */
export function duplicateDefinitionRefusal(index: YamlIndex, kind: string, id: string): UpgradeRefusedError {
  const groups = new Map<string, IndexedObject[]>();
  for (const o of index.objects)
    if (!o.isPatch && o.kind === kind && id.endsWith(o.name)) groups.set(objectKey(o), [...(groups.get(objectKey(o)) ?? []), o]);
  const twice = [...groups.values()].find((g) => new Set(g.map((o) => o.file)).size > 1) ?? [...groups.values()].find((g) => g.length > 1);
  const files = [...new Set((twice ?? []).map((o) => o.file))];
  const what = twice ? `${kind} ${twice[0]!.namespace ? `${twice[0]!.namespace}/` : ''}${twice[0]!.name}` : `${kind} ${id}`;
  return new UpgradeRefusedError(
    said`${what} is defined more than once${files.length > 0 ? ` (${files.join(', ')})` : ''}; the planner edits one definition per object. Keep one of them (or turn the other into a patch), or plan each overlay apart (${settingHint('path')}), then plan again; nothing was written.`,
    'duplicate-object',
  );
}

/** Resource files each build of a root kustomization reads, for refusing two definitions in one build. */
export function assertNoDuplicateInBuild(index: YamlIndex): void {
  const byDir = new Map(index.kustomizations.map((k) => [k.dir, k]));
  const included = new Set(index.kustomizations.flatMap((k) => [...k.resources, ...(k.components ?? [])].map((e) => e.replace(/\/$/, ''))));
  for (const root of index.kustomizations.filter((k) => !included.has(k.dir))) {
    const files = new Set<string>();
    const seen = new Set<string>();
    const walk = (dir: string) => {
      const k = byDir.get(dir);
      if (!k || seen.has(dir)) return;
      seen.add(dir);
      for (const entry of [...k.resources, ...(k.components ?? [])]) {
        const path = entry.replace(/\/$/, '');
        if (byDir.has(path)) walk(path);
        else files.add(path);
      }
    };
    walk(root.dir);
    const byKey = new Map<string, IndexedObject[]>();
    for (const o of index.objects) {
      if (o.isPatch || !files.has(o.file)) continue;
      const key = objectKey(o);
      byKey.set(key, [...(byKey.get(key) ?? []), o]);
    }
    for (const list of byKey.values()) {
      if (list.length < 2) continue;
      const [a, b] = list as [IndexedObject, IndexedObject];
      throw new UpgradeRefusedError(
        `${root.file}: kustomize cannot build it: ${a.kind} ${a.namespace ? `${a.namespace}/` : ''}${a.name} is defined twice (${a.file}${a.file === b.file ? `, documents ${a.documentIndex + 1} and ${b.documentIndex + 1}` : ` and ${b.file}`}). Keep one definition (or make the other a patch), then plan again; nothing was written.`,
        'duplicate-object',
      );
    }
  }
}
