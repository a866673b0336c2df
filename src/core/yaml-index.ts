import { posix } from 'node:path';
import { loadAll } from 'js-yaml';
import { MalformedYamlError } from '../model/errors.js';
import type { IndexedObject, KubeObject } from '../model/objects.js';
import { objectKey } from '../model/objects.js';
import { isYamlPath, type RepoSnapshot } from '../model/snapshot.js';
import type { Kustomization, SkippedFile, YamlIndex } from './repo-index.js';
import { namespaceLabelPatches } from './sources/json-patches.js';
import { imageEntriesOf } from './sources/kustomize-images.js';
import { unreachedFiles } from './sources/kustomize-reach.js';

const KUSTOMIZATION_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

const readFrom = new WeakMap<object, RepoSnapshot>();

/** The repo an ApplicationSet (its git generators read the repo's files) or an IstioOperator (its JSON6902 patches) was read from. */
export function snapshotOf(object: IndexedObject): RepoSnapshot | undefined {
  return readFrom.get(object.body);
}

/**
 * Parses every YAML file of the snapshot once (js-yaml: the fastest full parser available) and
 * indexes the Kubernetes objects in it. Helm templates and documents that are not Kubernetes
 * objects are skipped with a note; a file that does not parse is an error naming file and line.
 */
export function buildYamlIndex(snapshot: RepoSnapshot): YamlIndex {
  const objects: IndexedObject[] = [];
  const kustomizations: Kustomization[] = [];
  const skipped: SkippedFile[] = [];

  const parsedFiles: Array<{ file: string; documents: unknown[] }> = [];
  const kustomizationTexts: Array<{ file: string; body: unknown }> = [];
  for (const [file, text] of snapshot) {
    const base = posix.basename(file);
    if (!isYamlPath(file) && !KUSTOMIZATION_FILES.has(base)) continue;
    if (text.includes('{{') && !templatesOnlyInBlockScalars(text) && !isApplicationSetFile(text) && !isKyvernoPolicyFile(text)) {
      skipped.push({ file, reason: 'Helm/Go template (contains {{ }}), not plain Kubernetes YAML' });
      continue;
    }
    const documents = parseDocuments(file, text);
    if (KUSTOMIZATION_FILES.has(base)) {
      kustomizationTexts.push({ file, body: documents[0] });
      const kustomization = toKustomization(file, documents[0]);
      const labelPatches =
        typeof documents[0] === 'object' && documents[0] !== null
          ? namespaceLabelPatches(file, documents[0] as Record<string, unknown>, snapshot)
          : [];
      kustomizations.push(labelPatches.length > 0 ? { ...kustomization, labelPatches } : kustomization);
      continue;
    }
    parsedFiles.push({ file, documents });
  }

  // Files no kustomization names, beside or below one: kustomize build never applies them.
  const orphans = unreachedFiles(parsedFiles, kustomizationTexts);
  for (const [file, reason] of orphans) skipped.push({ file, reason });

  const patchFiles = new Set(kustomizations.flatMap((k) => k.patchFiles));
  const namespaceByFile = new Map<string, string>();
  for (const k of kustomizations) {
    if (!k.namespace) continue;
    for (const resource of k.resources) namespaceByFile.set(resource, k.namespace);
  }

  for (const { file, documents } of parsedFiles) {
    if (orphans.has(file)) continue;
    let found = 0;
    documents.forEach((document, documentIndex) => {
      if (!isKubeObject(document)) return;
      found++;
      const body = document;
      if (body.kind === 'ApplicationSet' || body.kind === 'IstioOperator') readFrom.set(body, snapshot);
      objects.push({
        file,
        documentIndex,
        apiVersion: body.apiVersion,
        kind: body.kind,
        name: body.metadata.name,
        namespace: body.metadata.namespace ?? namespaceByFile.get(file) ?? null,
        body,
        isPatch: patchFiles.has(file),
      });
    });
    if (found === 0 && documents.some((d) => d !== null && d !== undefined) && !(patchFiles.has(file) && Array.isArray(documents[0]))) {
      skipped.push({ file, reason: 'no Kubernetes objects (no apiVersion/kind/metadata.name)' });
    }
  }

  const byKey = new Map<string, IndexedObject[]>();
  const byKind = new Map<string, IndexedObject[]>();
  for (const object of objects) {
    push(byKey, objectKey(object), object);
    push(byKind, object.kind, object);
  }
  return {
    objects,
    kustomizations,
    skipped,
    find: (ref) => byKey.get(objectKey(ref)) ?? [],
    ofKind: (kind) => byKind.get(kind) ?? [],
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function parseDocuments(file: string, text: string): unknown[] {
  try {
    return loadAll(text) as unknown[];
  } catch (error) {
    const e = error as { mark?: { line?: number }; reason?: string; message?: string };
    throw new MalformedYamlError(file, (e.mark?.line ?? 0) + 1, e.reason ?? e.message ?? 'parse error');
  }
}

function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const metadata = v.metadata as Record<string, unknown> | undefined;
  return typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof metadata?.name === 'string';
}

function toKustomization(file: string, document: unknown): Kustomization {
  const dir = posix.dirname(file);
  const body = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  const resolve = (entry: string) => posix.normalize(posix.join(dir, entry));
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : []);
  const patchPaths = [
    ...strings(body.patchesStrategicMerge),
    ...(Array.isArray(body.patches) ? body.patches : [])
      .map((p: unknown) => (typeof p === 'object' && p !== null ? (p as Record<string, unknown>).path : undefined))
      .filter((p): p is string => typeof p === 'string'),
  ];
  const inlinePatchTargets = (Array.isArray(body.patches) ? body.patches : []).flatMap((p: unknown) => {
    const entry = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    const target = (typeof entry.target === 'object' && entry.target !== null ? entry.target : {}) as Record<string, unknown>;
    return typeof entry.patch === 'string' && typeof target.kind === 'string' && typeof target.name === 'string'
      ? [{ kind: target.kind, name: target.name }]
      : [];
  });
  return {
    file,
    dir,
    resources: [...strings(body.resources), ...strings(body.bases)].map(resolve),
    patchFiles: patchPaths.map(resolve),
    namespace: typeof body.namespace === 'string' ? body.namespace : null,
    ...(inlinePatchTargets.length > 0 ? { inlinePatchTargets } : {}),
    ...(imageEntriesOf(body).length > 0 ? { images: imageEntriesOf(body) } : {}),
    ...(strings(body.components).length > 0 ? { components: strings(body.components).map(resolve) } : {}),
  };
}

/**
 * True when every `{{` of the text sits inside a block scalar (`key: |` and the lines indented
 * under it): rendered manifests (`istioctl manifest generate`) carry the injector's templates as
 * ConfigMap text, which is data, not a Helm template. A `{{` anywhere else (a value, a key, a line
 * of its own) makes the file a template.
 */
function templatesOnlyInBlockScalars(text: string): boolean {
  let blockIndent: number | null = null;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (blockIndent !== null) {
      if (line.trim() === '' || indent > blockIndent) continue;
      blockIndent = null;
    }
    if (line.includes('{{')) return false;
    if (/^\s*(?:-\s+)?(?:[^#\s][^#]*?:\s+|-\s+)?[|>][-+0-9]*\s*(?:#.*)?$/.test(line)) blockIndent = indent;
  }
  return true;
}

/**
 * Argo CD ApplicationSets carry `{{ }}` placeholders in their template, yet are plain YAML (Argo CD
 * reads them as such): a file whose documents all are ApplicationSets is indexed.
 */
/**
 * Kyverno policies use `{{ }}` for their JMESPath variables (quoted strings, not templates): a file
 * of Kyverno policies that parses as YAML is read, so that policies in the way of a relabel are seen.
 */
function isKyvernoPolicyFile(text: string): boolean {
  if (!/^apiVersion:\s*kyverno\.io\//m.test(text)) return false;
  try {
    const documents = (loadAll(text) as unknown[]).filter((d) => d !== null && d !== undefined);
    return documents.length > 0 && documents.every((d) => isKubeObject(d) && d.apiVersion.startsWith('kyverno.io/'));
  } catch {
    return false;
  }
}

function isApplicationSetFile(text: string): boolean {
  if (!/^kind:\s*ApplicationSet\s*$/m.test(text)) return false;
  try {
    const documents = (loadAll(text) as unknown[]).filter((d) => d !== null && d !== undefined);
    return (
      documents.length > 0 &&
      documents.every((d) => isKubeObject(d) && d.kind === 'ApplicationSet' && d.apiVersion.startsWith('argoproj.io/'))
    );
  } catch {
    return false;
  }
}
