import { load } from 'js-yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { RawFileEdit, RepoSnapshot } from '../../model/snapshot.js';
import type { PhaseDraft } from '../phases/context.js';
import type { JsonLabelPatch, LabelOp, YamlIndex } from '../repo-index.js';
import { LABELS, labelPatchesFor, namespaceLabelPatches, selectorSubjectOf } from './json-patches.js';

/**
 * Namespace moves whose labels a JSON6902 patch decides are written into that patch: the
 * operation that adds `istio-injection` becomes the one that adds `istio.io/rev` (path and value),
 * an `istio.io/rev` operation gets the new value. The namespace's other definitions are left alone
 * when the patch decides every label the move sets; an operation the bot cannot rewrite (flow
 * style it cannot read back, a `remove` of a label the move sets) is refused.
 */
export function routeNamespaceMoves(index: YamlIndex, draft: PhaseDraft): PhaseDraft {
  // Most repos have no JSON6902 label patches: nothing to route, and no per-namespace lookups to pay for.
  if (!index.kustomizations.some((k) => (k.labelPatches?.length ?? 0) > 0)) return draft;
  const namespacesByName = new Map<string, IndexedObject[]>();
  for (const n of index.ofKind('Namespace')) namespacesByName.set(n.name, [...(namespacesByName.get(n.name) ?? []), n]);
  const raw: RawFileEdit[] = [];
  const objects = draft.objects.filter((placed) => {
    const json = placed.desired.toJson();
    if (json.kind !== 'Namespace') return true;
    const name = json.metadata.name;
    const patches = labelPatchesFor(index.kustomizations, name, selectorSubjectOf(namespacesByName.get(name) ?? []));
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

export function same(a: readonly LabelOp[], b: readonly LabelOp[]): boolean {
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

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
