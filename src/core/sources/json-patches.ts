import { posix } from 'node:path';
import { load } from 'js-yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { RepoSnapshot } from '../../model/snapshot.js';
import type { JsonLabelPatch, Kustomization, LabelOp, YamlIndex } from '../repo-index.js';
import { parseSelector, selectorMatches } from './kustomize-selectors.js';
import { re2ToRegExp } from './re2-target.js';

/** Labels and annotations of an object as its build has them before the JSON6902 patches. */
interface SelectorSubject {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export const LABELS = '/metadata/labels/';
const unescapePointer = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** The JSON6902 label patches of Namespaces a kustomization lists (called while indexing). */
export function namespaceLabelPatches(file: string, body: Record<string, unknown>, snapshot: RepoSnapshot): JsonLabelPatch[] {
  const dir = posix.dirname(file);
  const out: JsonLabelPatch[] = [];
  for (const entry of [...list(body.patches), ...list(body.patchesJson6902)]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const target = (typeof e.target === 'object' && e.target !== null ? e.target : {}) as Record<string, unknown>;
    const selectors = {
      ...(typeof target.labelSelector === 'string' ? { labelSelector: target.labelSelector } : {}),
      ...(typeof target.annotationSelector === 'string' ? { annotationSelector: target.annotationSelector } : {}),
    };
    // No kind with a selector selects Namespaces too.
    if (target.kind !== 'Namespace' && !(target.kind === undefined && Object.keys(selectors).length > 0)) continue;
    const inline = typeof e.patch === 'string';
    const path = typeof e.path === 'string' ? posix.normalize(posix.join(dir, e.path)) : null;
    const text = inline ? (e.patch as string) : path ? snapshot.get(path) : undefined;
    if (text === undefined) continue;
    let ops: unknown;
    try {
      ops = load(text);
    } catch {
      continue;
    }
    if (!Array.isArray(ops)) continue;
    const labelOps = ops.flatMap((o): LabelOp[] => labelOpOf((o ?? {}) as Record<string, unknown>));
    if (labelOps.length > 0)
      out.push({
        kustomization: file,
        file: inline ? file : path!,
        inline,
        targetName: typeof target.name === 'string' ? target.name : null,
        ...selectors,
        ops: labelOps,
      });
  }
  return out;
}

function labelOpOf(op: Record<string, unknown>): LabelOp[] {
  const kind = String(op.op);
  if (typeof op.path !== 'string' || !['add', 'replace', 'remove', 'test'].includes(kind)) return [];
  const path = op.path.replace(/\/$/, '');
  const o = kind as LabelOp['op'];
  if (path.startsWith(LABELS))
    return [{ op: o, key: unescapePointer(path.slice(LABELS.length)), value: o === 'remove' ? null : String(op.value) }];
  // The whole labels map, or the whole metadata (its labels, or none).
  if (path !== '/metadata/labels' && path !== '/metadata') return [];
  if (o === 'remove') return [{ op: o, key: null, value: null, labels: {} }];
  const map = asRecord(path === '/metadata' ? asRecord(op.value).labels : op.value);
  const labels = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
  return [{ op: o, key: null, value: null, labels }];
}

/**
 * The JSON patches that reach a Namespace, in the order kustomize applies them (bases first). A
 * patch that selects by label or annotation is evaluated on the Namespace as the patches before it
 * leave it (`subject`: the resources and strategic-merge patches); without a subject, or with a
 * selector the planner cannot read (reported by warnUnreadableSelectors), it is left out.
 */
export function labelPatchesFor(kustomizations: readonly Kustomization[], namespace: string, subject?: SelectorSubject): JsonLabelPatch[] {
  const all = kustomizations.flatMap((k) => (k as { labelPatches?: readonly JsonLabelPatch[] }).labelPatches ?? []);
  // A component's patches run inside the kustomization that lists it, just before that one's own.
  const includedBy = (file: string) => kustomizations.find((k) => k.components?.includes(posix.dirname(file)));
  const depth = (p: JsonLabelPatch) => {
    const parent = includedBy(p.kustomization);
    return parent ? -parent.file.split('/').length - 0.5 : -p.kustomization.split('/').length;
  };
  const byName = all.filter((p) => p.targetName === null || targetNameRegExp(p).test(namespace)).sort((a, b) => depth(a) - depth(b));
  const out: JsonLabelPatch[] = [];
  for (const p of byName) {
    if (p.labelSelector !== undefined || p.annotationSelector !== undefined) {
      if (!subject) continue;
      const labels = withJsonLabelOps({ ...subject.labels }, out);
      const bySelector = (text: string | undefined, map: Readonly<Record<string, string>>) => {
        if (text === undefined) return true;
        const terms = parseSelector(text);
        return terms !== null && selectorMatches(terms, map);
      };
      if (!bySelector(p.labelSelector, labels) || !bySelector(p.annotationSelector, subject.annotations)) continue;
    }
    out.push(p);
  }
  return out;
}

/** A patch's `target.name` as kustomize reads it (RE2, anchored); refused when it cannot be translated. */
function targetNameRegExp(p: JsonLabelPatch): RegExp {
  const re = re2ToRegExp(p.targetName!);
  if (re) return re;
  throw new UpgradeRefusedError(
    `${p.kustomization}: cannot read the patch target name ${JSON.stringify(p.targetName)} (a Go RE2 regex using syntax the planner does not translate); write it without that syntax (e.g. list the names), then plan again.`,
    'patch-target-unreadable',
  );
}

/** Labels and annotations of a Namespace from its definitions (resources first, then strategic-merge patches). */
export function selectorSubjectOf(definitions: readonly IndexedObject[]): SelectorSubject {
  const ordered = [...definitions.filter((d) => !d.isPatch), ...definitions.filter((d) => d.isPatch)];
  const merge = (field: 'labels' | 'annotations') => {
    let out: Record<string, string> = {};
    for (const d of ordered) {
      if (d.isPatch && (d.body as { $patch?: unknown }).$patch === 'delete') return {};
      const layer = asRecord((d.body.metadata as Record<string, unknown> | undefined)?.[field]);
      if (d.isPatch && layer.$patch === 'replace') out = {};
      for (const [key, value] of Object.entries(layer)) {
        if (key === '$patch') continue;
        if (value === null && d.isPatch) delete out[key];
        else if (value !== null && value !== undefined) out[key] = String(value);
      }
    }
    return out;
  };
  return { labels: merge('labels'), annotations: merge('annotations') };
}

/**
 * Patch targets the planner cannot evaluate on Namespaces: a selector it cannot read, or a
 * strategic-merge patch file that selects by label/annotation (it reaches Namespaces other than
 * the one it names). Each is a warning naming the kustomization, never a silent miss.
 */
export function warnUnreadableSelectors(index: YamlIndex, snapshot: RepoSnapshot, warn: (w: PlanWarning) => void): void {
  for (const k of index.kustomizations) {
    let body: Record<string, unknown>;
    try {
      body = asRecord(load(snapshot.get(k.file) ?? ''));
    } catch {
      continue;
    }
    for (const entry of [...list(body.patches), ...list(body.patchesJson6902)]) {
      const e = asRecord(entry);
      const target = asRecord(e.target);
      const selectors = (['labelSelector', 'annotationSelector'] as const).filter((f) => target[f] !== undefined);
      if (selectors.length === 0) continue;
      const what = `${typeof e.path === 'string' ? `patch ${e.path}` : 'inline patch'} (target ${selectors.map((f) => `${f}: ${String(target[f])}`).join(', ')})`;
      const unreadable = selectors.filter((f) => typeof target[f] !== 'string' || parseSelector(target[f] as string) === null);
      if (unreadable.length > 0) {
        warn({
          code: 'patch-selector-unreadable',
          message: `${k.file}: cannot evaluate the selector of ${what}; the objects it patches are planned without it. Check them by hand (kubectl kustomize ${k.dir}).`,
          file: k.file,
        });
        continue;
      }
      const mayReachNamespaces = target.kind === 'Namespace' || target.kind === undefined;
      const patchText =
        typeof e.patch === 'string'
          ? e.patch
          : typeof e.path === 'string'
            ? snapshot.get(posix.normalize(posix.join(k.dir, e.path)))
            : undefined;
      let parsed: unknown;
      try {
        parsed = patchText === undefined ? undefined : load(patchText);
      } catch {
        parsed = undefined;
      }
      if (mayReachNamespaces && !Array.isArray(parsed)) {
        warn({
          code: 'patch-selector-unreadable',
          message: `${k.file}: ${what} is a strategic-merge patch selected by label/annotation; the planner reads it only for the object it names, not for every object the selector matches. Check the Namespaces it reaches by hand (kubectl kustomize ${k.dir}).`,
          file: k.file,
        });
      }
    }
  }
}

/** Labels after the JSON6902 label patches (after the resources and strategic-merge patches). */
export function withJsonLabelOps(labels: Record<string, string>, patches: readonly JsonLabelPatch[]): Record<string, string> {
  const out = { ...labels };
  for (const patch of patches) {
    for (const op of patch.ops) {
      if (op.op === 'test') continue;
      if (op.key === null) {
        for (const key of Object.keys(out)) delete out[key];
        Object.assign(out, op.labels ?? {});
      } else if (op.op === 'remove') delete out[op.key];
      else out[op.key] = op.value ?? '';
    }
  }
  return out;
}

/**
 * `commonLabels`/`labels` that set an injection label reach every Namespace the kustomization
 * builds, after its patches: a relabel in a patch cannot remove what they add.
 */
export function warnInjectionLabelsFromTransformers(index: YamlIndex, snapshot: RepoSnapshot, warn: (w: PlanWarning) => void): void {
  for (const k of index.kustomizations) {
    let body: Record<string, unknown>;
    try {
      body = (load(snapshot.get(k.file) ?? '') ?? {}) as Record<string, unknown>;
    } catch {
      continue;
    }
    const pairs = [asRecord(body.commonLabels), ...list(body.labels).map((l) => asRecord(asRecord(l).pairs))];
    for (const key of [INJECTION_LABEL, REV_LABEL]) {
      const value = pairs.find((p) => p[key] !== undefined)?.[key];
      if (value === undefined) continue;
      const namespaces = index.ofKind('Namespace').filter((n) => !n.isPatch && (k.dir === '.' || n.file.startsWith(`${k.dir}/`)));
      if (namespaces.length === 0) continue;
      warn({
        code: 'injection-label-from-transformer',
        message: `${k.file} sets ${key}=${String(value)} on everything it builds (commonLabels/labels), Namespaces ${namespaces.map((n) => n.name).join(', ')} included, after every patch: a relabel cannot remove it. Take ${key} out of its labels and set it on the Namespaces instead before the workload phases merge.`,
        file: k.file,
      });
    }
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
