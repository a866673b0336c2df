import { posix } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { parseImageReference, parseImageTag, retagTag } from '../../model/image-reference.js';
import { describe, ISTIO_SYSTEM, podTemplateOf, WORKLOAD_KINDS } from '../../model/kube.js';
import type { RawFileEdit, RepoSnapshot } from '../../model/snapshot.js';
import type { PhaseDraft, PlanContext } from '../phases/context.js';
import type { YamlIndex } from '../repo-index.js';
import type { Revision } from '../revision.js';

/**
 * A kustomize patch that writes a pre-injected `istio-proxy` container (`istioctl kube-inject`
 * output) into a workload: a pinned `proxyv2` image and/or the istiod it talks to (`CA_ADDR`,
 * `--discoveryAddress`).
 */
interface SidecarPatch {
  /** The file that holds the patch text: the patch file, or the kustomization for an inline patch. */
  readonly file: string;
  readonly kustomization: string;
  readonly inline: boolean;
  readonly format: 'strategic-merge' | 'json6902';
  readonly workload: { readonly kind: string; readonly name: string; readonly namespace: string | null };
  /** The proxyv2 images and istiod addresses the patch writes. */
  readonly images: readonly string[];
  readonly addresses: readonly string[];
  /**
   * True when every value sits where the bot can edit it without guessing: a strategic-merge
   * patch file whose container is named `istio-proxy`, or JSON6902 operations whose path ends at
   * the image or the env/arg value.
   */
  readonly unambiguous: boolean;
  /** An inline patch's text (the only string of the kustomization an edit may change). */
  readonly inlineText?: string;
}

const PROXY_IMAGE = /proxyv2:[^\s"'@]+/;
const ISTIOD_HOST = /istiod(?:-[a-z0-9]+(?:-[a-z0-9]+)*)?\.istio-system\.svc/;

/** Every patch of the repo that writes an `istio-proxy` container's pinned values into a workload. */
export function findSidecarPatches(index: YamlIndex, snapshot: RepoSnapshot): SidecarPatch[] {
  const found: SidecarPatch[] = [];
  // Strategic-merge patch files (indexed as patches).
  for (const object of index.objects) {
    if (!object.isPatch || !WORKLOAD_KINDS.has(object.kind)) continue;
    const template = podTemplateOf(object.body);
    if (/gateway$/.test(template.labels.istio ?? '')) continue;
    const proxy = template.containers.find((c) => c.name === 'istio-proxy');
    if (!proxy) continue;
    const { images, addresses } = pinnedValues(proxy);
    if (images.length === 0 && addresses.length === 0) continue;
    const kustomization = index.kustomizations.find((k) => k.patchFiles.includes(object.file));
    found.push({
      file: object.file,
      kustomization: kustomization?.file ?? object.file,
      inline: false,
      format: 'strategic-merge',
      workload: { kind: object.kind, name: object.name, namespace: object.namespace },
      images,
      addresses,
      unambiguous: true,
    });
  }
  // JSON6902 operations (files or inline) and inline strategic-merge patches, read from the kustomizations.
  for (const k of index.kustomizations) {
    let body: Record<string, unknown>;
    try {
      body = asRecord(load(snapshot.get(k.file) ?? ''));
    } catch {
      continue;
    }
    for (const entry of [...list(body.patches), ...list(body.patchesJson6902)].map(asRecord)) {
      const target = asRecord(entry.target);
      const inline = typeof entry.patch === 'string';
      const path = typeof entry.path === 'string' ? posix.normalize(posix.join(k.dir, entry.path)) : null;
      const text = inline ? (entry.patch as string) : path ? snapshot.get(path) : undefined;
      if (text === undefined) continue;
      let documents: unknown[];
      try {
        documents = loadAll(text);
      } catch {
        continue;
      }
      const first = documents[0];
      if (Array.isArray(first)) {
        if (
          !WORKLOAD_KINDS.has(String(target.kind)) ||
          typeof target.name !== 'string' ||
          isGateway(index, String(target.kind), target.name)
        )
          continue;
        const images: string[] = [];
        const addresses: string[] = [];
        let unambiguous = true;
        for (const op of first.map(asRecord)) {
          const values = pinnedValues(op.value);
          if (values.images.length === 0 && values.addresses.length === 0) continue;
          images.push(...values.images);
          addresses.push(...values.addresses);
          const opPath = typeof op.path === 'string' ? op.path : '';
          const atValue =
            typeof op.value === 'string' &&
            (/\/containers\/\d+\/image$/.test(opPath) || /\/containers\/\d+\/(?:env\/\d+\/value|args\/\d+)$/.test(opPath));
          if (!atValue) unambiguous = false;
        }
        if (images.length === 0 && addresses.length === 0) continue;
        const namespace =
          typeof target.namespace === 'string'
            ? target.namespace
            : (resourceNamespace(index, String(target.kind), target.name) ?? k.namespace);
        found.push({
          file: inline ? k.file : path!,
          kustomization: k.file,
          inline,
          format: 'json6902',
          workload: { kind: String(target.kind), name: target.name, namespace },
          images,
          addresses,
          unambiguous,
          ...(inline ? { inlineText: text } : {}),
        });
      } else if (inline) {
        // An inline strategic-merge patch: read, not edited (its text lives in the kustomization).
        for (const document of documents.map(asRecord)) {
          if (
            !WORKLOAD_KINDS.has(String(document.kind)) ||
            isGateway(index, String(document.kind), String(asRecord(document.metadata).name))
          )
            continue;
          const proxy = podTemplateOf(document as never).containers.find((c) => c.name === 'istio-proxy');
          if (!proxy) continue;
          const { images, addresses } = pinnedValues(proxy);
          if (images.length === 0 && addresses.length === 0) continue;
          const name = String(asRecord(document.metadata).name ?? target.name ?? '');
          const ns = asRecord(document.metadata).namespace;
          found.push({
            file: k.file,
            kustomization: k.file,
            inline,
            format: 'strategic-merge',
            workload: {
              kind: String(document.kind),
              name,
              namespace: typeof ns === 'string' ? ns : (resourceNamespace(index, String(document.kind), name) ?? k.namespace),
            },
            images,
            addresses,
            unambiguous: false,
          });
        }
      }
    }
  }
  return found;
}

/** True while the patch still pins something of the old revision (an image other than the target's, the old istiod). */
export function namesOldRevision(patch: SidecarPatch, from: Revision, to: Revision): boolean {
  // The release of the tag (`1.21.2-distroless` runs 1.21.2); a tag naming no release counts as stale.
  const staleTag = (tag: string) => {
    const version = parseImageTag(tag).version;
    return to.version !== null ? version !== to.version : version === from.version;
  };
  return patch.images.some((i) => staleTag(tagOf(i))) || patch.addresses.some((a) => hostOf(a) === oldHost(from));
}

/**
 * The workload phases edit the sidecar patches of their namespaces (image tag to the target, the
 * address to `istiod-<new>`), or, where the bot would have to guess, name the file and the
 * regeneration command as a manual step that blocks the phase until the file is regenerated.
 * A patch whose namespace no wave moves goes with the last wave.
 */
export function withSidecarPatches(ctx: PlanContext, snapshot: RepoSnapshot, waves: readonly PhaseDraft[]): PhaseDraft[] {
  const patches = findSidecarPatches(ctx.index, snapshot).filter((p) => namesOldRevision(p, ctx.from, ctx.to));
  if (patches.length === 0 || waves.length === 0) return [...waves];
  const out = waves.map((w) => ({ ...w }));
  for (const patch of patches) {
    const found = out.findIndex((w) => w.namespaces.includes(patch.workload.namespace ?? ''));
    const index = found === -1 ? out.length - 1 : found;
    const wave = out[index]!;
    const edit = patch.unambiguous && ctx.to.version !== null ? editedText(snapshot.get(patch.file) ?? '', patch, ctx.from, ctx.to) : null;
    if (edit !== null) {
      const raw: RawFileEdit = {
        path: patch.file,
        content: (repo) => {
          const text = repo.get(patch.file);
          if (text === undefined) return null;
          const next = editedText(text, patch, ctx.from, ctx.to);
          return next === null || next === text ? null : next;
        },
      };
      out[index] = { ...wave, rawFiles: [...(wave.rawFiles ?? []), raw] };
    } else {
      out[index] = { ...wave, manual: [...wave.manual, manualStep(ctx, patch)], manualDone: false, manualResult: 'repo' };
      ctx.warn({
        code: 'sidecar-patch-manual',
        message: `${patch.file} writes a pre-injected istio-proxy into ${describeWorkload(patch)} (${[...new Set([...patch.images, ...patch.addresses])].join(', ')}) in a form the bot does not edit${patch.images.some((i) => parseImageReference(i).digest !== null) ? ' (pinned by digest: a new tag beside the old digest would still pull the old proxy)' : ''}; regenerate it with istioctl ${ctx.to.version ?? ctx.to.name} kube-inject --revision ${ctx.to.name} in phase ${wave.id}.`,
        file: patch.file,
      });
    }
  }
  return out;
}

/** Cleanup waits for the sidecar patches that still pin the old revision and that no phase edits. */
export function sidecarPatchBlockers(ctx: PlanContext, snapshot: RepoSnapshot): string[] {
  return findSidecarPatches(ctx.index, snapshot)
    .filter(
      (p) =>
        namesOldRevision(p, ctx.from, ctx.to) && !(p.unambiguous && editedText(snapshot.get(p.file) ?? '', p, ctx.from, ctx.to) !== null),
    )
    .map(
      (p) => `pre-injected sidecar of ${describeWorkload(p)} in ${p.file} (regenerate with istioctl kube-inject --revision ${ctx.to.name})`,
    );
}

function manualStep(ctx: PlanContext, patch: SidecarPatch): string {
  const dir = posix.dirname(patch.kustomization);
  return `kubectl kustomize ${dir} | istioctl kube-inject --revision ${ctx.to.name} -f -   # istioctl ${ctx.to.version ?? ctx.to.name}; copy the istio-proxy container of ${describeWorkload(patch)} (proxyv2 image, CA_ADDR, --discoveryAddress) into ${patch.file} and commit it`;
}

function describeWorkload(patch: SidecarPatch): string {
  return describe({ kind: patch.workload.kind, namespace: patch.workload.namespace, name: patch.workload.name });
}

/**
 * The text with the old proxy tags and the old istiod host replaced, or null when the result
 * does not read back as exactly those values changed (then a person regenerates the file).
 */
function editedText(text: string, patch: SidecarPatch, from: Revision, to: Revision): string | null {
  const version = to.version;
  if (version === null) return null;
  // A digest is what the runtime pulls: a new tag beside the old digest would still run the old
  // proxy, and the bot cannot know the new digest (a person regenerates the file).
  if (patch.images.some((i) => parseImageReference(i).digest !== null)) return null;
  const replace = (s: string) =>
    s
      .replace(/(proxyv2:)([^\s"'@]+)/g, (m, head: string, tag: string) =>
        patch.images.some((i) => tagOf(i) === tag) ? `${head}${retagTag(tag, version)}` : m,
      )
      .replace(new RegExp(ISTIOD_HOST.source, 'g'), (m) => (m === oldHost(from) ? newHost(to) : m));
  const next = replace(text);
  try {
    const before = loadAll(text);
    const after = loadAll(next);
    // An inline patch shares its file with the rest of the kustomization: only its own text may change.
    const expected = JSON.stringify(
      mapStrings(before, patch.inlineText === undefined ? replace : (s) => (s === patch.inlineText ? replace(s) : s)),
    );
    if (JSON.stringify(after) !== expected) return null;
  } catch {
    return null;
  }
  return next;
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

/** The proxyv2 images and istiod addresses anywhere in a value (a container, an op's value). */
function pinnedValues(value: unknown): { images: string[]; addresses: string[] } {
  const images: string[] = [];
  const addresses: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      if (PROXY_IMAGE.test(v)) images.push(v);
      if (ISTIOD_HOST.test(v)) addresses.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(value);
  return { images, addresses };
}

function tagOf(image: string): string {
  return PROXY_IMAGE.exec(image)![0].slice('proxyv2:'.length);
}

function hostOf(address: string): string | null {
  return ISTIOD_HOST.exec(address)?.[0] ?? null;
}

function oldHost(from: Revision): string {
  return from.name === 'default' ? `istiod.${ISTIO_SYSTEM}.svc` : `istiod-${from.name}.${ISTIO_SYSTEM}.svc`;
}

function newHost(to: Revision): string {
  return to.name === 'default' ? `istiod.${ISTIO_SYSTEM}.svc` : `istiod-${to.name}.${ISTIO_SYSTEM}.svc`;
}

/** Gateways pin their proxy on purpose and are regenerated by the gateways phase. */
function isGateway(index: YamlIndex, kind: string, name: string): boolean {
  return index.ofKind(kind).some((o) => o.name === name && /gateway$/.test(podTemplateOf(o.body).labels.istio ?? ''));
}

function resourceNamespace(index: YamlIndex, kind: string, name: string): string | null {
  return index.ofKind(kind).find((o) => !o.isPatch && o.name === name)?.namespace ?? null;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
