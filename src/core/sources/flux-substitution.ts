import { posix } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { asDict, getPath, stringMap } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { YamlIndex } from '../repo-index.js';

/**
 * Flux post-build variable substitution, read from the repo: a Flux `Kustomization`
 * (kustomize.toolkit.fluxcd.io) whose `spec.path` holds a file replaces `${var}` (and
 * `${var:=default}`, `${var:-default}`) in everything it applies with `spec.postBuild.substitute`
 * (wins) or the ConfigMaps and Secrets of `spec.postBuild.substituteFrom` (later entries win).
 * ConfigMaps in the repo are read; Secrets cannot be (their values are not in git, or encrypted).
 * @see https://fluxcd.io/flux/components/kustomize/kustomizations/#post-build-variable-substitution
 */

/** Where a substituted variable's value comes from. */
export interface Substitution {
  readonly variable: string;
  /** The value Flux substitutes; null when the repo cannot tell (a Secret, or nothing defines it). */
  readonly value: string | null;
  readonly source: 'substitute' | 'configmap' | 'default' | 'unresolved';
  /** The Flux Kustomization that substitutes the file. */
  readonly kustomization: IndexedObject | null;
  /** The ConfigMap that holds the value (source `configmap`). */
  readonly configMap: IndexedObject | null;
  /** substituteFrom Secrets that may define the variable (never readable from git). */
  readonly secrets: readonly string[];
}

const WHOLE = /^\$\{([_a-zA-Z][_a-zA-Z0-9]*)(?::?[=-]([^}]*))?\}$/;
const ANY = /\$\{([_a-zA-Z][_a-zA-Z0-9]*)(?::?[=-]([^}]*))?\}/g;

/** True for a string that still holds a `${var}` placeholder (never a version or a revision). */
export function hasPlaceholder(value: unknown): boolean {
  return typeof value === 'string' && /\$\{[_a-zA-Z][_a-zA-Z0-9]*(?::?[=-][^}]*)?\}/.test(value);
}

function isFluxKustomization(object: IndexedObject): boolean {
  return object.kind === 'Kustomization' && object.apiVersion.startsWith('kustomize.toolkit.fluxcd.io/');
}

/** The Flux Kustomization whose `spec.path` holds `file` (the most specific one), or null. */
function kustomizationFor(index: YamlIndex, file: string): IndexedObject | null {
  let best: { object: IndexedObject; length: number } | null = null;
  for (const object of index.ofKind('Kustomization')) {
    if (!isFluxKustomization(object)) continue;
    const raw = getPath(object.body, ['spec', 'path']);
    const path =
      typeof raw === 'string'
        ? posix
            .normalize(raw.replace(/^\.?\/+/, ''))
            .replace(/\/+$/, '')
            .replace(/^\.$/, '')
        : '';
    if (path !== '' && !file.startsWith(`${path}/`)) continue;
    if (!best || path.length > best.length) best = { object, length: path.length };
  }
  return best?.object ?? null;
}

/** Resolves `${…}` in one string of `file` as Flux would. */
export function resolveVariable(index: YamlIndex, file: string, text: string): { value: string | null; substitution: Substitution | null } {
  const whole = WHOLE.exec(text);
  if (whole) {
    const substitution = lookup(index, file, whole[1]!, whole[2] ?? null);
    return { value: substitution.value, substitution };
  }
  if (!hasPlaceholder(text)) return { value: text, substitution: null };
  let unresolved = false;
  const value = text.replace(ANY, (_m, name: string, fallback: string | undefined) => {
    const found = lookup(index, file, name, fallback ?? null).value;
    if (found === null) unresolved = true;
    return found ?? '';
  });
  return { value: unresolved ? null : value, substitution: null };
}

/** Every string in `value` with its placeholders resolved; an unresolvable string is dropped. */
export function resolveDeep(index: YamlIndex, file: string, value: unknown): unknown {
  if (typeof value === 'string') return hasPlaceholder(value) ? (resolveVariable(index, file, value).value ?? undefined) : value;
  if (Array.isArray(value)) return value.map((v) => resolveDeep(index, file, v));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = resolveDeep(index, file, v);
      if (resolved !== undefined) out[k] = resolved;
    }
    return out;
  }
  return value;
}

function lookup(index: YamlIndex, file: string, variable: string, fallback: string | null): Substitution {
  const kustomization = kustomizationFor(index, file);
  const base = { variable, kustomization, configMap: null, secrets: [] as string[] };
  if (!kustomization) return { ...base, value: fallback, source: fallback !== null ? 'default' : 'unresolved' };
  const postBuild = asDict(getPath(kustomization.body, ['spec', 'postBuild']));
  const inline = stringMap(postBuild.substitute);
  if (inline[variable] !== undefined) return { ...base, value: inline[variable]!, source: 'substitute' };
  const namespace = kustomization.namespace ?? 'flux-system';
  let found: { value: string; configMap: IndexedObject } | null = null;
  const secrets: string[] = [];
  for (const ref of Array.isArray(postBuild.substituteFrom) ? postBuild.substituteFrom.map(asDict) : []) {
    if (typeof ref.name !== 'string') continue;
    if (ref.kind === 'Secret') {
      secrets.push(ref.name);
      continue;
    }
    const configMap = index.find({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: ref.name }).find((o) => !o.isPatch);
    const data = configMap ? stringMap(configMap.body.data) : {};
    if (configMap && data[variable] !== undefined) found = { value: data[variable]!, configMap };
  }
  if (found) return { ...base, value: found.value, source: 'configmap', configMap: found.configMap, secrets };
  return {
    ...base,
    secrets,
    value: secrets.length === 0 ? fallback : null,
    source: secrets.length === 0 && fallback !== null ? 'default' : 'unresolved',
  };
}

/**
 * A Flux HelmRelease's `spec.valuesFrom` ConfigMaps found in the repo, merged in order (the
 * release's own `spec.values` go on top, as helm-controller merges them). Secrets are not read.
 */
export function valuesFromConfigMaps(index: YamlIndex, release: IndexedObject): { values: Record<string, unknown>; unread: string[] } {
  const entries = getPath(release.body, ['spec', 'valuesFrom']);
  let values: Record<string, unknown> = {};
  const unread: string[] = [];
  for (const ref of Array.isArray(entries) ? entries.map(asDict) : []) {
    const name = typeof ref.name === 'string' ? ref.name : null;
    if (!name) continue;
    const configMap =
      ref.kind === 'ConfigMap'
        ? index.find({ apiVersion: 'v1', kind: 'ConfigMap', namespace: release.namespace, name }).find((o) => !o.isPatch)
        : undefined;
    const key = typeof ref.valuesKey === 'string' ? ref.valuesKey : 'values.yaml';
    const text = configMap ? stringMap(configMap.body.data)[key] : undefined;
    if (text === undefined) {
      if (ref.optional !== true) unread.push(`${String(ref.kind)} ${name}`);
      continue;
    }
    let parsed: unknown;
    if (typeof ref.targetPath === 'string') {
      parsed = ref.targetPath.split('.').reduceRight<unknown>((inner, k) => ({ [k]: inner }), text);
    } else {
      try {
        parsed = loadYaml(text);
      } catch {
        unread.push(`${String(ref.kind)} ${name}`);
        continue;
      }
    }
    values = mergeValues(values, asDict(resolveDeep(index, configMap!.file, parsed)));
  }
  return { values, unread };
}

export function mergeValues(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const current = out[k];
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof current === 'object' && current !== null && !Array.isArray(current)
        ? mergeValues(current as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
