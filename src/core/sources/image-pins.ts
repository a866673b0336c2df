import { UpgradeRefusedError } from '../../model/errors.js';
import { parseImageReference, parseImageTag, retagTag } from '../../model/image-reference.js';
import { asDict, getPath } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { HelmRelease } from '../inventory.js';
import type { Revision } from '../revision.js';

/**
 * Image pins of the istiod chart's values: keys that hold a tag, and keys that hold an image
 * (a repository, or a whole reference with a tag or digest). `hub` keys are registries and never
 * pin a release. The same keys sit under `spec.values` of an IstioOperator; `tag` and `image` are
 * `pilot.tag` and `pilot.image` of the flattened istiod chart (1.24 on).
 * @see https://github.com/istio/istio/blob/master/manifests/charts/istio-control/istio-discovery/values.yaml
 */
const HELM_TAG_KEYS: readonly (readonly string[])[] = [['global', 'tag'], ['pilot', 'tag'], ['tag']];
const HELM_IMAGE_KEYS: readonly (readonly string[])[] = [
  ['pilot', 'image'],
  ['image'],
  ['global', 'proxy', 'image'],
  ['global', 'proxy_init', 'image'],
];

/** Where the values sit, for the messages: the file and the key path that leads to them. */
interface PinSource {
  readonly file: string;
  readonly prefix: string;
}

/**
 * The values a copy for the new revision must set so that it runs the target release: every
 * image pin that names the old release, retagged to the target with its variant kept
 * (`1.20.3-distroless` → `1.21.2-distroless`), as a nested merge patch (empty when nothing is
 * pinned). A copy that kept the pin would start `istiod-<new>` on the old image and inject the old
 * proxy. A digest or a tag that names another release cannot be moved by the bot: refused
 * (`image-pinned`) with the file and key.
 */
export function imagePinOverrides(
  values: Readonly<Record<string, unknown>>,
  from: Revision,
  to: Revision,
  source: PinSource,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const path of HELM_TAG_KEYS) {
    const value = at(values, path);
    if (value === undefined || value === null || value === '') continue;
    const next = retaggedTag(String(value), from, to, source, path);
    if (next !== null) set(patch, path, next);
  }
  for (const path of HELM_IMAGE_KEYS) {
    const value = at(values, path);
    if (typeof value !== 'string' || value === '') continue;
    const next = retaggedImage(value, from, to, source, path);
    if (next !== null) set(patch, path, next);
  }
  return patch;
}

/**
 * The same for an IstioOperator's spec: `spec.tag`, `spec.components.pilot.tag` and the chart
 * values under `spec.values`. Returns a merge patch of `spec`.
 */
export function istioOperatorPinOverrides(
  spec: Readonly<Record<string, unknown>>,
  from: Revision,
  to: Revision,
  source: PinSource,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const path of [['tag'], ['components', 'pilot', 'tag']]) {
    const value = at(spec, path);
    if (value === undefined || value === null || value === '') continue;
    const next = retaggedTag(String(value), from, to, source, path);
    if (next !== null) set(patch, path, next);
  }
  const values = imagePinOverrides(asDict(spec.values), from, to, { file: source.file, prefix: `${source.prefix}.values` });
  if (Object.keys(values).length > 0) patch.values = values;
  return patch;
}

/** Deep merge of plain objects; `over` wins. */
export function mergeValues(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlain(value) && isPlain(current) ? mergeValues(current, value) : value;
  }
  return out;
}

function retaggedTag(tag: string, from: Revision, to: Revision, source: PinSource, path: readonly string[]): string | null {
  // A tag field may carry a digest (`1.21.2@sha256:…`: the charts write `<hub>/<image>:<tag>`), which wins over the tag.
  if (tag.includes('@')) throw refusal(source, path, tag, 'digest', to);
  // An unresolved variable (`${istio_tag}` from a Secret): the copy would run whatever it says, most likely the old release.
  if (/\$\{|\{\{/.test(tag)) throw refusal(source, path, tag, 'variable', to);
  const { version } = parseImageTag(tag);
  if (to.version !== null && version === to.version) return null;
  if (to.version === null || !namesOldRelease(version, from)) throw refusal(source, path, tag, 'tag', to);
  return retagTag(tag, to.version);
}

function retaggedImage(image: string, from: Revision, to: Revision, source: PinSource, path: readonly string[]): string | null {
  const ref = parseImageReference(image);
  if (ref.tag === null && ref.digest === null) return null;
  if (ref.digest !== null) throw refusal(source, path, image, 'digest', to);
  return retaggedTag(ref.tag!, from, to, source, path) === null ? null : `${ref.name}:${retagTag(ref.tag!, to.version!)}`;
}

/** A tag names the running release when it is that release (any variant); with the old release unknown, any release tag does. */
function namesOldRelease(version: string | null, from: Revision): boolean {
  if (version === null) return false;
  return from.version === null || version === from.version;
}

function refusal(
  source: PinSource,
  path: readonly string[],
  value: string,
  why: 'tag' | 'digest' | 'variable',
  to: Revision,
): UpgradeRefusedError {
  const key = `${source.prefix}.${path.join('.')}`;
  const target = to.version ?? to.name;
  const reason =
    why === 'variable'
      ? `pins the image tag with a variable the bot cannot read (${value}): a copy for ${to.name} would run whatever it says`
      : why === 'digest'
        ? `pins the image by digest (${value}): a copy for ${to.name} would run the same image, and the bot cannot know the digest of ${target}`
        : `pins the image tag ${value}, which is not the running release${to.version === null ? ' (and the target names no release to retag it to)' : ''}: a copy for ${to.name} would run it instead of ${target}`;
  const fix =
    why === 'digest'
      ? `Replace the digest with the tag of the running release`
      : why === 'variable'
        ? `Give the variable a value the bot can read (a substitution ConfigMap), or set ${key} to the tag of the running release`
        : `Set ${key} to the tag of the running release`;
  return new UpgradeRefusedError(
    `${source.file}: ${key} ${reason}. ${fix} (or remove it to use the chart's own), then plan again; the bot then moves it to ${target} in the new revision's copy.`,
    'image-pinned',
  );
}

function at(values: unknown, path: readonly string[]): unknown {
  let current: unknown = values;
  for (const key of path) {
    if (!isPlain(current)) return undefined;
    current = current[key];
  }
  return current;
}

function set(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlain(current[key])) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[path[path.length - 1]!] = value;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Argo CD `helm.parameters` that set an image pin: they win over every values field, so an inline override would not. */
const PIN_PARAMETER = /^(global\.tag|pilot\.tag|pilot\.image|global\.proxy\.image|global\.proxy_init\.image)$/;

/**
 * The overrides of an istiod release's copy: pins read from its effective values (inline values,
 * Flux `valuesFrom`, substitutions), written inline on the copy, where they win over the shared source.
 */
export function releaseImagePinOverrides(release: HelmRelease, from: Revision, to: Revision): Record<string, unknown> {
  const source = { file: release.object.file, prefix: release.valuesPath.join('.') };
  const parameters = getPath(release.object.body, ['spec', 'source', 'helm', 'parameters']);
  for (const parameter of Array.isArray(parameters) ? parameters.map(asDict) : []) {
    if (typeof parameter.name !== 'string' || !PIN_PARAMETER.test(parameter.name)) continue;
    const path = parameter.name.split('.');
    const values = {};
    set(values, path, parameter.value);
    // Refused unless already the target: a copy's parameter cannot be overridden by its values.
    const moved = imagePinOverrides(values, from, to, { file: source.file, prefix: 'spec.source.helm.parameters' });
    if (Object.keys(moved).length > 0) {
      throw new UpgradeRefusedError(
        `${source.file}: Argo CD helm.parameters ${parameter.name}=${String(parameter.value)} pins the image, and parameters win over values: a copy for ${to.name} would run it. Move the pin into ${source.prefix} (or remove it), then plan again.`,
        'image-pinned',
      );
    }
  }
  return imagePinOverrides(release.values, from, to, source);
}

/**
 * Objects copied for the new revision with their image tags moved (the in-cluster operator): an
 * image pinned by digest would still run the old release beside the new tag. Refused (`image-pinned`).
 */
export function assertNoDigestImages(objects: readonly IndexedObject[], to: Revision): void {
  for (const object of objects) {
    const containers = [
      ...list(getPath(object.body, ['spec', 'template', 'spec', 'containers'])),
      ...list(getPath(object.body, ['spec', 'template', 'spec', 'initContainers'])),
    ].map(asDict);
    for (const [i, container] of containers.entries()) {
      if (typeof container.image !== 'string' || parseImageReference(container.image).digest === null) continue;
      throw new UpgradeRefusedError(
        `${object.file}: ${object.kind} ${object.name} runs ${container.image}, pinned by digest: its copy for ${to.name} would run the same image, and the bot cannot know the digest of ${to.version ?? to.name}. Replace the digest with the tag of the running release (at containers[${i}].image of ${object.kind} ${object.name}), then plan again.`,
        'image-pinned',
      );
    }
  }
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
