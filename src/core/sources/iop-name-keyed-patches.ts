import { posix } from 'node:path';
import { load } from 'js-yaml';
import { asDict, ISTIO_SYSTEM } from '../../model/kube.js';
import type { IndexedObject, KubeObject } from '../../model/objects.js';
import type { RawFileEdit, RepoSnapshot } from '../../model/snapshot.js';
import type { PlanContext } from '../phases/context.js';
import { fileForRevision, renameForRevision } from '../phases/naming.js';
import { snapshotOf } from '../yaml-index.js';
import { isOperatorToHelm } from './iop-to-helm.js';
import { listTwin, retarget, type Twin, twinFile, twinText } from './name-keyed-patches.js';

/** A JSON6902 patch file listed with `target: {kind: IstioOperator, name: <old>}`. */
interface JsonTwin {
  readonly kustomization: string;
  readonly path: string;
  readonly namespace: string | null;
}

const GATEWAYS = ['ingressGateways', 'egressGateways'] as const;

/**
 * Kustomize patches keyed by the old IstioOperator's name (`istiocontrolplane-1-21-2` resized,
 * given the prod mesh config or mirror hub in an overlay) match nothing of the new revision's
 * IstioOperator (`istiocontrolplane-<new>`), which would come up without them. The control-plane
 * phase adds a twin of each strategic-merge patch file and of each JSON6902 patch file, keyed to
 * the new name with `spec.revision`, `spec.tag` and `istio.io/rev` of the new revision and every
 * gateway disabled (a CRD's lists are replaced whole, so a patch listing a gateway enabled would
 * re-enable it in the new IstioOperator and upgrade it in place), listed right after the old patch
 * with a `target:`. Cleanup removes the old patches with the old IstioOperator. Inline patches and
 * patches that delete the object, or JSON6902 operations on gateways, are named for a person.
 */
export function twinIstioOperatorPatches(ctx: PlanContext): RawFileEdit[] {
  const { installed, from, to } = ctx;
  const iop = installed?.install === 'istio-operator' ? installed.installer : null;
  if (!iop || from.name === 'default' || isOperatorToHelm(installed, to)) return [];
  const name = renameForRevision(iop.name, from.name, to.name);
  const notCarried = (file: string, what: string, why: string) =>
    ctx.warn({
      code: 'patch-not-carried-over',
      message: `${file} ${what} of IstioOperator ${iop.name} by name; the new revision's IstioOperator ${name} does not match it, and the bot does not copy this patch (${why}). Add the patch for ${name} by hand before the control-plane phase merges.`,
      file,
    });

  const twins: Twin[] = [];
  for (const patch of oldIopPatches(ctx, iop)) {
    const kustomization = ctx.index.kustomizations.find((k) => k.patchFiles.includes(patch.file));
    if (!kustomization) continue;
    if ((patch.body as { $patch?: unknown }).$patch !== undefined) {
      notCarried(patch.file, 'patches', 'it deletes or replaces the object');
      continue;
    }
    twins.push({ patch, name, file: '', kustomization: kustomization.file });
  }
  const perFile = new Map<string, number>();
  for (const t of twins) perFile.set(t.patch.file, (perFile.get(t.patch.file) ?? 0) + 1);
  const placed = twins.map((t) => ({ ...t, file: twinFile(t.patch, perFile.get(t.patch.file)! > 1, from.name, to.name) }));
  const adjust = (body: KubeObject): KubeObject => forNewRevision(body, to.name, to.version);
  const edits = placed.flatMap((twin): RawFileEdit[] => [
    { path: twin.file, content: (repo) => (repo.has(twin.file) ? null : twinText(repo, twin, ctx, adjust)) },
    { path: twin.kustomization, content: (repo) => listTwin(repo.get(twin.kustomization) ?? null, twin) },
  ]);

  const snapshot = snapshotOf(iop);
  for (const k of ctx.index.kustomizations) {
    for (const target of k.inlinePatchTargets ?? []) {
      if (target.kind === 'IstioOperator' && target.name === iop.name)
        notCarried(k.file, 'has an inline patch', 'it does not copy inline patches');
    }
    for (const json of snapshot ? jsonPatchFiles(snapshot, k.file, iop.name) : []) {
      const ops = snapshot!.get(json.path);
      if (ops === undefined) continue;
      if (/Gateways/.test(ops)) {
        notCarried(json.path, 'patches', 'its operations touch gateways, which stay on the old IstioOperator until the gateways phase');
        continue;
      }
      const file = fileForRevision(json.path, from.name, to.name);
      // listTwin reads the old patch's kind, name, namespace and file only.
      const twin: Twin = { patch: { ...iop, file: json.path, namespace: json.namespace }, name, file, kustomization: json.kustomization };
      const text = `# Twin of ${posix.basename(json.path)} for IstioOperator ${name} (revision ${to.name}): kustomize matches patches by name.\n${retarget(ops, from.name, to.name, from.version, to.version) as string}`;
      edits.push(
        { path: file, content: (repo) => (repo.has(file) ? null : text) },
        { path: json.kustomization, content: (repo) => listTwin(repo.get(json.kustomization) ?? null, twin) },
      );
    }
  }
  return edits;
}

/** Strategic-merge patch documents of the old IstioOperator (the same name; no namespace or the same one). */
function oldIopPatches(ctx: PlanContext, iop: IndexedObject): IndexedObject[] {
  const namespace = iop.namespace ?? ISTIO_SYSTEM;
  return ctx.index.objects.filter(
    (o) => o.isPatch && o.kind === 'IstioOperator' && o.name === iop.name && (o.namespace ?? namespace) === namespace,
  );
}

/** The patch's revision, tag and gateways as the new IstioOperator needs them. */
function forNewRevision(body: KubeObject, revision: string, version: string | null): KubeObject {
  const spec = { ...asDict(body.spec) };
  if (spec.revision !== undefined) spec.revision = revision;
  if (spec.tag !== undefined && version) spec.tag = version;
  const components = asDict(spec.components);
  if (GATEWAYS.some((g) => Array.isArray(components[g]))) {
    spec.components = {
      ...components,
      ...Object.fromEntries(
        GATEWAYS.filter((g) => Array.isArray(components[g])).map((g) => [
          g,
          (components[g] as unknown[]).map((x) => ({ ...asDict(x), enabled: false })),
        ]),
      ),
    };
  }
  return body.spec === undefined ? body : { ...body, spec };
}

/** `patches:`/`patchesJson6902:` entries of a kustomization with a patch file and a target of the old IstioOperator. */
function jsonPatchFiles(snapshot: RepoSnapshot, kustomization: string, oldName: string): JsonTwin[] {
  let body: unknown;
  try {
    body = load(snapshot.get(kustomization) ?? '');
  } catch {
    return [];
  }
  const dict = asDict(body);
  const dir = posix.dirname(kustomization);
  const entries = [
    ...(Array.isArray(dict.patches) ? dict.patches : []),
    ...(Array.isArray(dict.patchesJson6902) ? dict.patchesJson6902 : []),
  ];
  return entries.flatMap((e): JsonTwin[] => {
    const entry = asDict(e);
    const target = asDict(entry.target);
    if (typeof entry.path !== 'string' || target.kind !== 'IstioOperator' || target.name !== oldName) return [];
    const path = posix.normalize(posix.join(dir, entry.path));
    // A strategic-merge patch listed with a target is twinned as a document (oldIopPatches).
    let ops: unknown;
    try {
      ops = load(snapshot.get(path) ?? '');
    } catch {
      return [];
    }
    return Array.isArray(ops) ? [{ kustomization, path, namespace: typeof target.namespace === 'string' ? target.namespace : null }] : [];
  });
}

/**
 * Cleanup: the old IstioOperator's JSON6902 patch files go with it (with their object gone they
 * patch nothing), and their `patches:` entries with the `target:` and the comment right above.
 */
export function removeOldIopJsonPatches(ctx: PlanContext): RawFileEdit[] {
  const { installed, from, to } = ctx;
  const iop = installed?.install === 'istio-operator' ? installed.installer : null;
  const snapshot = iop ? snapshotOf(iop) : undefined;
  if (!iop || !snapshot || from.name === 'default' || isOperatorToHelm(installed, to)) return [];
  return (
    ctx.index.kustomizations
      .flatMap((k) => jsonPatchFiles(snapshot, k.file, iop.name))
      // An entry in another form (`- target:` first) stays, and so does its file: kustomize refuses a missing patch file.
      .filter((json) => unlistJsonPatch(snapshot.get(json.kustomization) ?? null, json) !== null)
      .flatMap((json): RawFileEdit[] => [
        { path: json.path, content: () => null, remove: true },
        { path: json.kustomization, content: (repo) => unlistJsonPatch(repo.get(json.kustomization) ?? null, json) },
      ])
  );
}

function unlistJsonPatch(text: string | null, json: JsonTwin): string | null {
  if (text === null) return null;
  const dir = posix.dirname(json.kustomization);
  const relative = posix.relative(dir === '.' ? '' : dir, json.path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const item = new RegExp(
    `^(?:([ \\t]*)#.*\\r?\\n(?=\\1[#-]))*([ \\t]*)- path: ["']?(?:\\./)?${relative}["']?[ \\t]*(?:#.*)?\\r?\\n(?:\\2[ \\t]+[^ \\t\\r\\n#-][^\\n]*\\n)*`,
    'm',
  );
  return item.test(text) ? text.replace(item, '') : null;
}
