import semver from 'semver';
import { isScalar, parseDocument } from 'yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { podTemplateOf, WORKLOAD_KINDS } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { RepoSnapshot } from '../../model/snapshot.js';
import { formatScalar } from '../../writer/yaml-scalar.js';
import type { PhaseDraft, PlanContext } from '../phases/context.js';
import type { ImageEntry, Kustomization, YamlIndex } from '../repo-index.js';

/**
 * kustomize `images:` entries that name an Istio image (`…/proxyv2`, `…/pilot`; Istio's
 * `docker.io/istio/*`, ASM's `gcr.io/gke-release/asm/*`). kustomize rewrites every container of
 * its build that uses the image, whatever the manifest says: the entry decides the version of
 * pre-injected sidecars, gateways with an explicit image, a rendered istiod.
 * @see https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/
 */
interface IstioImageOverride {
  readonly kustomization: string;
  readonly name: string;
  readonly component: 'proxyv2' | 'pilot';
  readonly newName: string | null;
  readonly newTag: string | null;
  readonly digest: string | null;
  /** Index of the entry in `images:`. */
  readonly entry: number;
  /** The containers of the build that use the image (object and whether it is a gateway). */
  readonly containers: ReadonlyArray<{ readonly object: IndexedObject; readonly container: string; readonly gateway: boolean }>;
}

const ISTIO_IMAGE = /(?:^|\/)(proxyv2|pilot)$/;

/** `images:` entries of a kustomization body (read while indexing). */
export function imageEntriesOf(body: Record<string, unknown>): ImageEntry[] {
  if (!Array.isArray(body.images)) return [];
  return body.images.map((raw: unknown) => {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
    return {
      name: text(e.name) ?? '',
      ...(text(e.newName) ? { newName: text(e.newName) } : {}),
      ...(text(e.newTag) ? { newTag: text(e.newTag) } : {}),
      ...(text(e.digest) ? { digest: text(e.digest) } : {}),
    };
  });
}

/** The image name without tag or digest (`docker.io/istio/proxyv2:1.20.3` → `docker.io/istio/proxyv2`). */
function imageName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

/** The resource and patch files one kustomization's build reads (its bases and components included). */
function buildFiles(index: YamlIndex, dir: string): Set<string> {
  const byDir = new Map(index.kustomizations.map((k) => [k.dir, k]));
  const files = new Set<string>();
  const seen = new Set<string>();
  const walk = (d: string) => {
    const k = byDir.get(d);
    if (!k || seen.has(d)) return;
    seen.add(d);
    for (const p of k.patchFiles) files.add(p);
    for (const entry of [...k.resources, ...(k.components ?? [])]) {
      const path = entry.replace(/\/$/, '');
      if (byDir.has(path)) walk(path);
      else files.add(path);
    }
  };
  walk(dir);
  return files;
}

/** The Istio image overrides of the repo, with the containers each one reaches. */
export function findIstioImageOverrides(index: YamlIndex): IstioImageOverride[] {
  const out: IstioImageOverride[] = [];
  for (const k of index.kustomizations as ReadonlyArray<Kustomization & { images?: readonly ImageEntry[] }>) {
    const images = k.images ?? [];
    if (!images.some((i) => ISTIO_IMAGE.test(i.name))) continue;
    const files = buildFiles(index, k.dir);
    const objects = index.objects.filter((o) => files.has(o.file) && WORKLOAD_KINDS.has(o.kind as never));
    images.forEach((image, entry) => {
      const match = ISTIO_IMAGE.exec(image.name);
      if (!match) return;
      const containers = objects.flatMap((object) => {
        const template = podTemplateOf(object.body);
        const gateway = /gateway/.test(template.labels.istio ?? '') || template.labels['gateway.istio.io/managed'] !== undefined;
        return template.containers
          .filter((c) => typeof c.image === 'string' && imageName(c.image) === image.name)
          .map((c) => ({ object, container: String(c.name), gateway }));
      });
      out.push({
        kustomization: k.file,
        name: image.name,
        component: match[1] as 'proxyv2' | 'pilot',
        newName: image.newName ?? null,
        newTag: image.newTag ?? null,
        digest: image.digest ?? null,
        entry,
        containers,
      });
    });
  }
  return out;
}

/** Proxy overrides that pin a release more than `maxSkew` minors behind the target: refused, naming the kustomization. */
export function assertImageOverrideSkew(index: YamlIndex, target: number, maxSkew: number): void {
  const stale = findIstioImageOverrides(index).filter((o) => {
    const version = o.component === 'proxyv2' && o.containers.length > 0 && o.newTag ? semver.coerce(o.newTag) : null;
    return version !== null && version.major === 1 && target - version.minor > maxSkew;
  });
  if (stale.length === 0) return;
  const names = stale.map(
    (o) =>
      `${o.kustomization} (images: ${o.name} newTag ${o.newTag}, used by ${o.containers.map((c) => `${c.object.kind} ${c.object.namespace ?? ''}/${c.object.name}`).join(', ')})`,
  );
  throw new UpgradeRefusedError(
    `Istio 1.${target} serves proxies at most ${maxSkew} minors older, and a kustomize images override pins older proxies: ${names.join('; ')}. Move the override to a release within the window (or upgrade in steps), then plan again.`,
    'proxy-version-skew',
  );
}

/**
 * Puts the images overrides of Istio's proxy into the phase that moves what they reach: the
 * gateways phase when they reach only gateways, else the last workloads phase. An override whose
 * tag is the running release gets the target's tag (that one scalar, read back); a digest or any
 * other tag is a warning naming the file and line. An override of `pilot` would pin the new
 * control plane too: a warning. Overrides that reach no container change nothing.
 */
export function withImageOverrides(
  ctx: PlanContext,
  snapshot: RepoSnapshot,
  drafts: readonly PhaseDraft[],
  phase: 'gateways' | 'workloads',
): PhaseDraft[] {
  if (drafts.length === 0) return [...drafts];
  const out = [...drafts];
  const target = out.length - 1;
  for (const o of findIstioImageOverrides(ctx.index)) {
    if (o.containers.length === 0) continue;
    const line = lineOf(snapshot.get(o.kustomization) ?? '', o.entry, o.digest ? 'digest' : 'newTag');
    if (o.component === 'pilot') {
      if (phase === 'gateways' && (o.newTag || o.digest)) {
        ctx.warn({
          code: 'image-override-manual',
          message: `${o.kustomization}:${line}: images entry ${o.name} pins ${o.digest ?? o.newTag} for every istiod of the build, the new ${ctx.to.name} included. Drop the pin or make it per revision (a patch of the old istiod) before the control-plane phase merges.`,
          file: o.kustomization,
        });
      }
      continue;
    }
    const owner = o.containers.every((c) => c.gateway) ? 'gateways' : 'workloads';
    if (owner !== phase) continue;
    const to = ctx.to.version;
    if (o.newTag !== null && o.newTag === to && !o.digest) continue;
    if (!o.digest && o.newTag !== null && o.newTag === ctx.from.version && to && (o.newName === null || ISTIO_IMAGE.test(o.newName))) {
      const draft = out[target]!;
      out[target] = { ...draft, rawFiles: [...(draft.rawFiles ?? []), { path: o.kustomization, content: (repo) => retag(repo, o, to) }] };
      continue;
    }
    ctx.warn({
      code: 'image-override-manual',
      message: `${o.kustomization}:${line}: images entry ${o.name} pins ${o.digest ? `digest ${o.digest}` : o.newTag ? `tag ${o.newTag}` : `name ${o.newName}`} (not the running ${ctx.from.version ?? ctx.from.name}) for ${o.containers.map((c) => `${c.object.kind} ${c.object.namespace ?? ''}/${c.object.name}`).join(', ')}; set it to ${to ?? ctx.to.name} by hand with the ${phase} phase.`,
      file: o.kustomization,
    });
  }
  return out;
}

/** The kustomization with the entry's `newTag` set to `to` (only that scalar); null when it already is. */
function retag(repo: RepoSnapshot, o: IstioImageOverride, to: string): string | null {
  const text = repo.get(o.kustomization);
  if (text === undefined) return null;
  const doc = parseDocument(text);
  const node = doc.getIn(['images', o.entry, 'newTag'], true);
  const refuse = (why: string) =>
    new UpgradeRefusedError(
      `${o.kustomization}: cannot edit newTag of the images entry ${o.name} (${why}); set it to ${to} by hand, then plan again.`,
      'image-override-not-editable',
    );
  if (!isScalar(node) || !node.range) throw refuse('it is not a plain value');
  if (String(node.value) === to) return null;
  if (String(node.value) !== o.newTag) return null;
  const style = node.type === 'QUOTE_DOUBLE' ? 'double-quoted-scalar' : node.type === 'QUOTE_SINGLE' ? 'single-quoted-scalar' : 'scalar';
  const result = text.slice(0, node.range[0]) + formatScalar(to, style) + text.slice(node.range[1]);
  const check = parseDocument(result).toJS() as { images?: Array<Record<string, unknown>> };
  const before = parseDocument(text).toJS() as { images?: Array<Record<string, unknown>> };
  before.images![o.entry]!.newTag = to;
  if (JSON.stringify(check) !== JSON.stringify(before)) throw refuse('the result would not read back as intended');
  return result;
}

/** 1-based line of the entry's field (or of the entry). */
function lineOf(text: string, entry: number, field: string): number {
  try {
    const doc = parseDocument(text);
    const node = doc.getIn(['images', entry, field], true) ?? doc.getIn(['images', entry], true);
    const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0] ?? 0;
    return text.slice(0, offset).split('\n').length;
  } catch {
    return 1;
  }
}
