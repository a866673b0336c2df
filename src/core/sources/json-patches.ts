import { posix } from 'node:path';
import { load } from 'js-yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { RawFileEdit, RepoSnapshot } from '../../model/snapshot.js';
import type { PhaseDraft } from '../phases/context.js';
import type { JsonLabelPatch, Kustomization, LabelOp, YamlIndex } from '../repo-index.js';
import { parseSelector, selectorMatches } from './kustomize-selectors.js';
import { re2ToRegExp } from './re2-target.js';

/** Labels and annotations of an object as its build has them before the JSON6902 patches. */
export interface SelectorSubject {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

const LABELS = '/metadata/labels/';
const unescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');
const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

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
    return [{ op: o, key: unescape(path.slice(LABELS.length)), value: o === 'remove' ? null : String(op.value) }];
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
 * Namespace moves whose labels a JSON6902 patch decides are written into that patch: the
 * operation that adds `istio-injection` becomes the one that adds `istio.io/rev` (path and value),
 * an `istio.io/rev` operation gets the new value. The namespace's other definitions are left alone
 * when the patch decides every label the move sets; an operation the bot cannot rewrite (flow
 * style it cannot read back, a `remove` of a label the move sets) is refused.
 */
export function routeNamespaceMoves(index: YamlIndex, draft: PhaseDraft): PhaseDraft {
  const raw: RawFileEdit[] = [];
  const objects = draft.objects.filter((placed) => {
    const json = placed.desired.toJson();
    if (json.kind !== 'Namespace') return true;
    const name = json.metadata.name;
    const patches = labelPatchesFor(
      index.kustomizations,
      name,
      selectorSubjectOf(index.ofKind('Namespace').filter((n) => n.name === name)),
    );
    if (patches.length === 0) return true;
    const rev = (json.metadata as { labels?: Record<string, string> }).labels?.[REV_LABEL];
    if (!rev) return true;
    const flat = patches.flatMap((patch) => patch.ops.map((op) => ({ patch, op })));
    const isMesh = (key: string | null) => key === INJECTION_LABEL || key === REV_LABEL;
    // The last whole-map operation decides every label before it.
    const whole = flat.reduce((at, o, i) => (o.op.key === null && o.op.op !== 'test' ? i : at), -1);
    const last = (key: string) => {
      for (let i = flat.length - 1; i > whole; i--) if (flat[i]!.op.key === key && flat[i]!.op.op !== 'test') return { ...flat[i]!, at: i };
      return null;
    };
    const injection = last(INJECTION_LABEL);
    const revision = last(REV_LABEL);
    if (revision && revision.op.op === 'remove') {
      throw new UpgradeRefusedError(
        `${revision.patch.file}: a JSON6902 patch removes istio.io/rev from Namespace ${name}, which moves to ${rev}; change the operation to add istio.io/rev=${rev} by hand, then plan again.`,
        'json-patch-not-editable',
      );
    }
    const edits: Array<{ patch: JsonLabelPatch; from: LabelOp; to: LabelOp | null; at: number }> = [];
    if (revision)
      edits.push({ patch: revision.patch, from: revision.op, to: { op: revision.op.op, key: REV_LABEL, value: rev }, at: revision.at });
    if (injection && injection.op.op !== 'remove')
      edits.push({
        patch: injection.patch,
        from: injection.op,
        to: revision ? null : { op: 'add', key: REV_LABEL, value: rev },
        at: injection.at,
      });
    const w = whole >= 0 ? flat[whole]! : null;
    if (w && w.op.op !== 'remove' && Object.keys(w.op.labels ?? {}).some(isMesh)) {
      const labels = { ...w.op.labels };
      delete labels[INJECTION_LABEL];
      labels[REV_LABEL] = rev;
      edits.push({ patch: w.patch, from: w.op, to: { ...w.op, labels }, at: whole });
    }
    // `test` operations on the mesh labels: after the operation that decides them, they check the new label; before it, they would fail.
    const decided = edits.reduce((at, e) => Math.max(at, e.at), -1);
    for (const [i, t] of flat.entries()) {
      if (t.op.op !== 'test' || !(t.op.key === null || isMesh(t.op.key))) continue;
      if (t.op.key === null || i < decided) {
        throw new UpgradeRefusedError(
          `${t.patch.file}: a JSON6902 \`test\` operation checks the ${t.op.key ?? 'labels'} of Namespace ${name} that the move to istio.io/rev=${rev} changes; kustomize would fail on it. Change or drop the test by hand, then plan again.`,
          'json-patch-not-editable',
        );
      }
      edits.push({ patch: t.patch, from: t.op, to: { op: 'test', key: REV_LABEL, value: rev }, at: i });
    }
    if (edits.length === 0) return true;
    const byPatch = new Map<JsonLabelPatch, typeof edits>();
    for (const e of edits) byPatch.set(e.patch, [...(byPatch.get(e.patch) ?? []), e]);
    for (const [patch, list] of byPatch) raw.push({ path: patch.file, content: (repo) => rewriteOps(repo, patch, list) });
    if (edits.every((e) => e.from.op === 'test')) return true;
    // The patch decides the revision: the base's definitions still change where they set istio-injection.
    // (a base `istio-injection` under a `replace` would otherwise win over the new istio.io/rev).
    return placed.targets.some((t) => t.body.metadata.labels?.[INJECTION_LABEL] !== undefined);
  });
  return { ...draft, objects, rawFiles: [...(draft.rawFiles ?? []), ...raw] };
}

/** The text with label operations rewritten (`to`), or removed (`to` null); null when it already is. */
function rewriteOps(repo: RepoSnapshot, patch: JsonLabelPatch, edits: ReadonlyArray<{ from: LabelOp; to: LabelOp | null }>): string | null {
  const text = repo.get(patch.file);
  if (text === undefined) return null;
  const refuse = (from: LabelOp, to: LabelOp | null, why: string) =>
    new UpgradeRefusedError(
      `${patch.file}: cannot rewrite the JSON6902 operation on ${from.key ?? 'the labels map'} (${why}); set ${to ? (to.key === null ? `labels ${JSON.stringify(to.labels)}` : `${to.key}=${to.value}`) : `no ${from.key}`} there by hand, then plan again.`,
      'json-patch-not-editable',
    );
  const replaced = (done: number) =>
    patch.ops.flatMap((o) => {
      const i = edits.findIndex((e) => e.from === o);
      if (i < 0 || i >= done) return [o];
      return edits[i]!.to ? [edits[i]!.to!] : [];
    });
  const now = namespaceOpsOf(text, patch);
  if (now && same(now, replaced(edits.length))) return null; // an earlier phase of this plan wrote it
  if (!now || !same(now, patch.ops)) throw refuse(edits[0]!.from, edits[0]!.to, 'it is not written as a block list the planner reads back');
  let current = text;
  for (const [n, { from, to }] of edits.entries()) {
    const lines = current.split('\n');
    const pathRe =
      from.key === null
        ? /^(\s*(?:-\s+)?path:\s*["']?)\/metadata(?:\/labels)?\/?(["']?\s*(?:#.*)?)$/
        : new RegExp(`^(\\s*(?:-\\s+)?path:\\s*["']?)${escapeRe(LABELS + escapePointer(from.key))}(["']?\\s*(?:#.*)?)$`);
    let next: string | null = null;
    for (const [at, line] of lines.entries()) {
      if (!pathRe.test(line)) continue;
      const candidate = editItem(lines, at, pathRe, from, to);
      if (candidate === null) continue;
      const check = namespaceOpsOf(candidate, patch);
      if (check && same(check, replaced(n + 1))) {
        next = candidate;
        break;
      }
    }
    if (next === null)
      throw refuse(
        from,
        to,
        from.key === null
          ? 'its value map is not written one label per line or as a simple flow map'
          : 'it is not written as a block list with one key per line',
      );
    current = next;
  }
  return current;
}

/** The file with the operation item holding line `at` edited (null when the edit cannot be made). */
function editItem(lines: readonly string[], at: number, pathRe: RegExp, from: LabelOp, to: LabelOp | null): string | null {
  // The operation's item: from its `- ` line to the next item at the same indent.
  let start = at;
  while (start > 0 && !/^\s*-\s/.test(lines[start]!)) start--;
  const dash = lines[start]!.indexOf('-');
  let end = at + 1;
  while (end < lines.length && lines[end]!.trim() !== '' && lines[end]!.length - lines[end]!.trimStart().length > dash) end++;
  const item = lines.slice(start, end);
  let next: string[];
  if (to === null) next = [];
  else if (from.key === null) {
    // A whole-map operation: istio-injection becomes istio.io/rev (or istio.io/rev gets the new value), the other labels stay.
    const had = from.labels ?? {};
    const key = (k: string) => new RegExp(`(["']?)${escapeRe(k)}\\1(\\s*:\\s*)(["']?)[-A-Za-z0-9_.]*\\3`);
    const rev = to.labels![REV_LABEL]!;
    next = [...item];
    if (had[REV_LABEL] !== undefined) {
      const i = next.findIndex((l) => key(REV_LABEL).test(l));
      if (i < 0) return null;
      next[i] = next[i]!.replace(key(REV_LABEL), (_m, q: string, sep: string, vq: string) => `${q}${REV_LABEL}${q}${sep}${vq}${rev}${vq}`);
      if (had[INJECTION_LABEL] !== undefined) {
        const j = next.findIndex((l) => new RegExp(`^\\s*${key(INJECTION_LABEL).source}\\s*(?:#.*)?$`).test(l));
        if (j < 0) return null;
        next.splice(j, 1);
      }
    } else {
      const i = next.findIndex((l) => key(INJECTION_LABEL).test(l));
      if (i < 0) return null;
      next[i] = next[i]!.replace(
        key(INJECTION_LABEL),
        (_m, q: string, sep: string, vq: string) => `${q}${REV_LABEL}${q}${sep}${vq}${rev}${vq}`,
      );
    }
  } else {
    const target = to;
    next = item.map((l) => {
      if (pathRe.test(l)) return l.replace(pathRe, `$1${LABELS}${escapePointer(target.key!)}$2`);
      if (from.op !== target.op)
        l = l.replace(new RegExp(`^(\\s*(?:-\\s+)?op:\\s*["']?)${from.op}(["']?\\s*(?:#.*)?)$`), `$1${target.op}$2`);
      return l.replace(
        /^(\s*(?:-\s+)?value:\s*)(["']?)[^"'#\s]*\2(\s*(?:#.*)?)$/,
        (_m, head: string, quote: string, tail: string) => `${head}${quote}${target.value}${quote}${tail}`,
      );
    });
  }
  return [...lines.slice(0, start), ...next, ...lines.slice(end)].join('\n');
}

function same(a: readonly LabelOp[], b: readonly LabelOp[]): boolean {
  const norm = (o: LabelOp) => JSON.stringify([o.op, o.key, o.value, o.labels ? Object.entries(o.labels).sort() : null]);
  return a.length === b.length && a.every((o, i) => norm(o) === norm(b[i]!));
}

function namespaceOpsOf(text: string, patch: JsonLabelPatch): LabelOp[] | null {
  try {
    if (!patch.inline)
      return (
        namespaceLabelPatches(
          'x/kustomization.yaml',
          { patches: [{ path: 'p.yaml', target: { kind: 'Namespace' } }] },
          new Map([['x/p.yaml', text]]),
        )[0]?.ops.slice() ?? []
      );
    const body = load(text) as Record<string, unknown>;
    const all = namespaceLabelPatches(patch.kustomization, body, new Map());
    return (
      all
        .find(
          (p) =>
            p.targetName === patch.targetName &&
            p.labelSelector === patch.labelSelector &&
            p.annotationSelector === patch.annotationSelector,
        )
        ?.ops.slice() ?? []
    );
  } catch {
    return null;
  }
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

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
