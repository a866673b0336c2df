import { isDeepStrictEqual } from 'node:util';
import { dump, load, loadAll } from 'js-yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict, getPath } from '../../model/kube.js';
import { snapshotOf, type YamlIndex } from '../yaml-index.js';
import { type IndexedObject, type KubeObject } from '../../model/objects.js';
import { GitGeneratorError, gitParamSets, isParamsFileOf, isPathReference, matchesGlobs, pathParams, type GitGlobs } from './applicationset-git.js';
import type { PlanWarning } from '../phases/context.js';
import { patchedData } from '../../writer/patch-data.js';
import type { MergePatch } from '../../model/merge-patch.js';

/**
 * Argo CD ApplicationSets that generate Istio's Helm releases: the generators are expanded into
 * the Applications they make (read like Applications in git), and a change the phases make to a
 * generated Application is written back into the generator element that supplies the value,
 * never into the template.
 *
 * Read: `list` generators (`elements`), `git` generators over this repo (`files`: each params file
 * is an element; `directories`: read only, see applicationset-git.ts), `matrix` generators of two
 * of these; templates
 * with fasttemplate (`{{key}}`, `{{ key }}`) or Go template (`{{.key}}`, `{{ .key | default "x" }}`)
 * placeholders that are plain field references. Anything else is not guessed: the ApplicationSet
 * is reported (and refused when it looks like Istio's).
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/applicationset/Generators-List/
 */

/** Where a generator element lives: the `elements` list (a path in the ApplicationSet) and its position. */
export interface ElementSource {
  readonly path: readonly (string | number)[];
  readonly index: number;
  readonly element: Readonly<Record<string, unknown>>;
  /** A git files generator's params file (then `path` is the generator's, `index` -1, `element` the file's keys). */
  readonly file?: string;
  readonly globs?: GitGlobs;
}

function sameSource(a: ElementSource, b: ElementSource): boolean {
  return a.file !== undefined || b.file !== undefined ? a.file === b.file : a.index === b.index && isDeepStrictEqual(a.path, b.path);
}

interface Instance {
  readonly params: Readonly<Record<string, unknown>>;
  readonly sources: readonly ElementSource[];
}

export interface GeneratedApplication {
  readonly appSet: IndexedObject;
  /** The Application as Argo CD generates it (a virtual object: its file is the ApplicationSet's). */
  readonly object: IndexedObject;
  readonly instance: Instance;
  readonly goTemplate: boolean;
}

interface Expansion {
  readonly generated: readonly GeneratedApplication[];
  readonly problems: ReadonlyArray<{ readonly appSet: IndexedObject; readonly reason: string; readonly istio: boolean }>;
}

class TemplateError extends Error {}

const cache = new WeakMap<YamlIndex, Expansion>();
const generatedObjects = new WeakMap<IndexedObject, GeneratedApplication>();

/** The Applications the ApplicationSets of the repo generate (virtual objects), memoised per index. */
export function generatedApplications(index: YamlIndex): readonly IndexedObject[] {
  return expandIndex(index).generated.map((g) => g.object);
}

function expandIndex(index: YamlIndex): Expansion {
  const cached = cache.get(index);
  if (cached) return cached;
  const generated: GeneratedApplication[] = [];
  const problems: Array<{ appSet: IndexedObject; reason: string; istio: boolean }> = [];
  for (const appSet of index.ofKind('ApplicationSet')) {
    if (!appSet.apiVersion.startsWith('argoproj.io/') || appSet.isPatch) continue;
    try {
      generated.push(...expandApplicationSet(appSet, snapshotOf(appSet)));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      problems.push({ appSet, reason: error.message, istio: looksLikeIstio(appSet.body) });
    }
  }
  const expansion = { generated, problems };
  cache.set(index, expansion);
  return expansion;
}

/**
 * Warnings (and refusals) about the ApplicationSets of the repo: one that cannot be read and
 * generates Istio's charts is refused, others are named; an ApplicationSet whose Applications are
 * not updated from their elements (`applicationsSync: create-only|create-delete`) cannot carry
 * the phases and is refused when it generates Istio releases.
 */
export function applicationSetWarnings(index: YamlIndex): PlanWarning[] {
  const { generated, problems } = expandIndex(index);
  const warnings: PlanWarning[] = [];
  for (const { appSet, reason, istio } of problems) {
    const message = `ApplicationSet ${appSet.name} (${appSet.file}): ${reason}; its Applications are not read`;
    if (istio) {
      throw new UpgradeRefusedError(
        `${message}, and it generates Istio's Helm charts, so the mesh cannot be planned from the repo. Use list or git files generators (or a matrix of two) whose elements or params files hold the chart version and revision, with plain {{.field}} placeholders, or one Application per release.`,
        'applicationset-unsupported',
      );
    }
    warnings.push({ code: 'applicationset-unreadable', message: `${message}.`, file: appSet.file });
  }
  const istioSets = new Set(generated.filter((g) => isIstioChart(String(getPath(g.object.body, ['spec', 'source', 'chart']) ?? ''))).map((g) => g.appSet));
  for (const appSet of istioSets) {
    const sync = getPath(appSet.body, ['spec', 'syncPolicy', 'applicationsSync']);
    if (sync === 'create-only' || sync === 'create-delete') {
      throw new UpgradeRefusedError(
        `ApplicationSet ${appSet.name} (${appSet.file}) has syncPolicy.applicationsSync: ${String(sync)}: Argo CD does not update the Applications it generated when their generator elements change, so the phases' edits would not reach the cluster. Allow updates (create-update or sync) for the upgrade, then plan again.`,
        'applicationset-no-update',
      );
    }
    if (getPath(appSet.body, ['spec', 'syncPolicy', 'preserveResourcesOnDeletion']) === true) {
      warnings.push({
        code: 'applicationset-preserves-resources',
        message: `ApplicationSet ${appSet.name} (${appSet.file}) preserves resources on deletion: removing the old revision's element at cleanup deletes its Application but leaves its istiod running; delete it by hand afterwards.`,
        file: appSet.file,
      });
    }
  }
  return warnings;
}

function looksLikeIstio(body: unknown): boolean {
  const text = JSON.stringify(body);
  return /"chart":"(?:base|istiod|gateway)"|istio-release|"(?:base|istiod|gateway)"/.test(text);
}

function isIstioChart(chart: string): boolean {
  return chart === 'base' || chart === 'istiod' || chart === 'gateway';
}

/** Every Application one ApplicationSet generates; a generator or placeholder it cannot read throws a {@link TemplateError}. */
function expandApplicationSet(appSet: IndexedObject, repo: ReadonlyMap<string, string> | undefined): GeneratedApplication[] {
  const spec = asDict(appSet.body.spec);
  if (spec.templatePatch !== undefined) throw new TemplateError('templatePatch is not read');
  const template = asDict(spec.template);
  if (Object.keys(template).length === 0) throw new TemplateError('no spec.template');
  const goTemplate = spec.goTemplate === true;
  const generators = Array.isArray(spec.generators) ? spec.generators : [];
  const out: GeneratedApplication[] = [];
  generators.forEach((generator, g) => {
    for (const instance of generatorInstances(asDict(generator), ['spec', 'generators', g], repo, goTemplate)) {
      const rendered = asDict(renderValue(template, instance.params, goTemplate, plainValue));
      const metadata = { ...asDict(rendered.metadata) };
      if (typeof metadata.name !== 'string' || metadata.name === '') throw new TemplateError('a generated Application has no name');
      metadata.namespace = appSet.namespace ?? metadata.namespace ?? 'argocd';
      const body = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', ...rendered, metadata } as unknown as KubeObject;
      const object: IndexedObject = {
        file: appSet.file,
        // Distinct per generated Application (several come from one document); never a document of the file.
        documentIndex: 1000 * (appSet.documentIndex + 1) + out.length,
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        name: metadata.name,
        namespace: String(metadata.namespace),
        body,
        isPatch: false,
      };
      const generated = { appSet, object, instance, goTemplate };
      generatedObjects.set(object, generated);
      out.push(generated);
    }
  });
  return out;
}

function generatorInstances(generator: Readonly<Record<string, unknown>>, path: readonly (string | number)[], repo: ReadonlyMap<string, string> | undefined, goTemplate: boolean): Instance[] {
  const kinds = Object.keys(generator).filter((k) => k !== 'selector' && k !== 'template');
  if (generator.template !== undefined) throw new TemplateError('a generator with its own template is not read');
  if (generator.selector !== undefined) throw new TemplateError('a generator selector is not read');
  if (kinds.length !== 1) throw new TemplateError(`a generator with ${kinds.length === 0 ? 'no' : 'several'} kinds`);
  const kind = kinds[0]!;
  if (kind === 'list') {
    const list = asDict(generator.list);
    if (list.elementsYaml !== undefined) throw new TemplateError('list.elementsYaml is not read');
    const elements = Array.isArray(list.elements) ? list.elements : [];
    return elements.map((element, index) => {
      if (typeof element !== 'object' || element === null || Array.isArray(element)) throw new TemplateError(`list element ${index + 1} is not a mapping`);
      const record = element as Record<string, unknown>;
      return { params: record, sources: [{ path: [...path, 'list', 'elements'], index, element: record }] };
    });
  }
  if (kind === 'matrix') {
    const children = asDict(generator.matrix).generators;
    if (!Array.isArray(children) || children.length !== 2) throw new TemplateError('a matrix generator needs two child generators');
    const [a, b] = children.map((child, i) => generatorInstances(asDict(child), [...path, 'matrix', 'generators', i], repo, goTemplate));
    return a!.flatMap((x) => b!.map((y) => ({ params: { ...x.params, ...y.params }, sources: [...x.sources, ...y.sources] })));
  }
  if (kind === 'git') {
    try {
      const { sets, globs } = gitParamSets(asDict(generator.git), repo, goTemplate);
      return sets.map((set) => ({ params: set.params, sources: set.file ? [{ path: [...path, 'git'], index: -1, element: set.content, file: set.file, globs }] : [] }));
    } catch (error) {
      if (error instanceof GitGeneratorError) throw new TemplateError(error.message);
      throw error;
    }
  }
  throw new TemplateError(`the ${kind} generator is not read (list, git, and a matrix of two of these, are)`);
}

// ---------------------------------------------------------------------------------------------
// Placeholders

interface Reference {
  readonly key: readonly string[];
  readonly fallback: string | null;
}

const PLACEHOLDER = /\{\{(.*?)\}\}/gs;

function parseReference(inner: string, goTemplate: boolean): Reference {
  const text = inner.trim();
  if (goTemplate) {
    const match = /^\.([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)(?:\s*\|\s*default\s+("(?:[^"\\]|\\.)*"|`[^`]*`|[\w.-]+))?$/.exec(text);
    if (!match) throw new TemplateError(`the Go template {{${inner}}} is not a plain field reference`);
    const raw = match[2];
    const fallback = raw === undefined ? null : raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.startsWith('`') ? raw.slice(1, -1) : raw;
    return { key: match[1]!.split('.'), fallback };
  }
  if (!/^[A-Za-z_][\w-]*(?:\.[\w-]+)*$/.test(text)) throw new TemplateError(`the placeholder {{${inner}}} is not a plain parameter name`);
  return { key: text.split('.'), fallback: null };
}

function lookup(params: Readonly<Record<string, unknown>>, key: readonly string[]): unknown {
  // fasttemplate's flattened names (`path.basename`) first.
  if (key.length > 1 && Object.hasOwn(params, key.join('.'))) return params[key.join('.')];
  let current: unknown = params;
  for (const part of key) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

type Substitute = (reference: Reference, params: Readonly<Record<string, unknown>>) => string;

/** A parameter's text in a rendered string; a missing one, or a list or map, cannot be rendered faithfully. */
const plainValue: Substitute = (reference, params) => {
  const value = lookup(params, reference.key);
  if (value === undefined || value === null) {
    if (reference.fallback !== null) return reference.fallback;
    throw new TemplateError(`the parameter ${reference.key.join('.')} is missing from a generator element`);
  }
  if (typeof value === 'object') throw new TemplateError(`the parameter ${reference.key.join('.')} is a list or map, not text`);
  return String(value);
};

function renderString(text: string, params: Readonly<Record<string, unknown>>, goTemplate: boolean, substitute: Substitute): string {
  if (!text.includes('{{')) return text;
  return text.replace(PLACEHOLDER, (_m, inner: string) => substitute(parseReference(inner, goTemplate), params));
}

function renderValue(value: unknown, params: Readonly<Record<string, unknown>>, goTemplate: boolean, substitute: Substitute): unknown {
  if (typeof value === 'string') return renderString(value, params, goTemplate, substitute);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, params, goTemplate, substitute));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [renderString(k, params, goTemplate, substitute), renderValue(v, params, goTemplate, substitute)]));
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Writing back: a change to a generated Application becomes a change of its generator element.

/** A change the phases make to a generated Application. */
export type GeneratedEdit =
  | { readonly kind: 'patch'; readonly target: IndexedObject; readonly patch: Readonly<Record<string, unknown>> }
  | { readonly kind: 'create'; readonly basedOn: IndexedObject; readonly body: Readonly<Record<string, unknown>> }
  | { readonly kind: 'delete'; readonly target: IndexedObject };

/** The generated Application an object of a phase stands for, when it is one (also a release created by an earlier phase). */
export function isGeneratedTarget(repo: ReadonlyMap<string, string>, object: IndexedObject): boolean {
  if (object.kind !== 'Application' || !object.apiVersion.startsWith('argoproj.io/')) return false;
  if (generatedObjects.has(object)) return true;
  return locate(repo, object.name, object.namespace) !== null;
}

interface Located {
  readonly file: string;
  readonly text: string;
  readonly documents: unknown[];
  readonly generated: GeneratedApplication;
}

/** Finds the generated Application `name` in the ApplicationSets of the repo as it is now. */
function locate(repo: ReadonlyMap<string, string>, name: string, namespace: string | null): Located | null {
  for (const [file, text] of repo) {
    if (!/\.ya?ml$/.test(file) || !/^kind:\s*ApplicationSet\s*$/m.test(text)) continue;
    let documents: unknown[];
    try {
      documents = loadAll(text) as unknown[];
    } catch {
      continue;
    }
    for (const [documentIndex, document] of documents.entries()) {
      const body = asDict(document);
      if (body.kind !== 'ApplicationSet') continue;
      const metadata = asDict(body.metadata);
      const appSet: IndexedObject = {
        file,
        documentIndex,
        apiVersion: String(body.apiVersion ?? ''),
        kind: 'ApplicationSet',
        name: String(metadata.name ?? ''),
        namespace: typeof metadata.namespace === 'string' ? metadata.namespace : null,
        body: body as unknown as KubeObject,
        isPatch: false,
      };
      let generated: GeneratedApplication[];
      try {
        generated = expandApplicationSet(appSet, repo);
      } catch (error) {
        if (error instanceof TemplateError) continue;
        throw error;
      }
      const found = generated.find((g) => g.object.name === name && (namespace === null || g.object.namespace === namespace));
      if (found) return { file, text, documents, generated: found };
    }
  }
  return null;
}

/** What the writer does to a generator element list. */
export type ElementEdit =
  | { readonly op: 'patch'; readonly documentIndex: number; readonly path: readonly (string | number)[]; readonly patch: Readonly<Record<string, unknown>> }
  | { readonly op: 'append-copy'; readonly documentIndex: number; readonly path: readonly (string | number)[]; readonly patch: Readonly<Record<string, unknown>> }
  | { readonly op: 'remove'; readonly documentIndex: number; readonly path: readonly (string | number)[] }
  // A git files generator's params file: edited, copied under a new name (comments renamed), deleted.
  | { readonly op: 'file-patch'; readonly file: string; readonly patch: Readonly<Record<string, unknown>> }
  | { readonly op: 'file-copy'; readonly file: string; readonly newFile: string; readonly patch: Readonly<Record<string, unknown>>; readonly renames: ReadonlyArray<readonly [string, string]> }
  | { readonly op: 'file-delete'; readonly file: string };

/**
 * The element edits one change of a generated Application needs, in the repo as it is now. A
 * value the template fixes for every element is refused (`applicationset-template-value`), never
 * edited in the template.
 */
export function elementEditsFor(repo: ReadonlyMap<string, string>, edit: GeneratedEdit): { file: string; edits: ElementEdit[]; name: string; namespace: string | null } {
  const target = edit.kind === 'create' ? edit.basedOn : edit.target;
  const located = locate(repo, target.name, target.namespace);
  if (!located) {
    throw new UpgradeRefusedError(`the Application ${target.name} is generated by an ApplicationSet the bot no longer finds in ${target.file}; plan again.`, 'applicationset-element-missing');
  }
  const { generated, file } = located;
  const documentIndex = generated.appSet.documentIndex;
  if (edit.kind === 'delete') {
    const sources = sourcesOfApplication(generated);
    if (sources.length !== 1) throw shared(file, target.name);
    const source = sources[0]!;
    const others = expandApplicationSet(generated.appSet, repo).filter((g) => g.object.name !== target.name && g.instance.sources.some((s) => sameSource(s, source)));
    if (others.length > 0) throw shared(file, `${target.name} (with ${others.map((g) => g.object.name).join(', ')})`);
    if (source.file) return { file, name: target.name, namespace: target.namespace, edits: [{ op: 'file-delete', file: source.file }] };
    return { file, name: target.name, namespace: target.namespace, edits: [{ op: 'remove', documentIndex, path: [...source.path, source.index] }] };
  }
  const rendered = generated.object.body as unknown as Record<string, unknown>;
  const desired = edit.kind === 'patch' ? (patchedData(withValuesData(rendered), withoutIdentity(edit.patch) as MergePatch) as Record<string, unknown>) : withValuesData(asDict(edit.body));
  // A new release from a git files generator is a new params file: the path parameters follow its name.
  const fileSource = edit.kind === 'create' ? generated.instance.sources.find((x) => x.file !== undefined) : undefined;
  const newName = String(asDict(desired.metadata).name);
  let newFile: { path: string; renames: Array<readonly [string, string]> } | null = null;
  const paramsFor = fileSource
    ? (a: ReadonlyMap<string, unknown>, p: ReadonlyMap<string, unknown>) => {
        newFile = renamedParamsFile(generated, fileSource, a, p, newName, file);
        return { ...generated.instance.params, ...pathParams(newFile.path, true, generated.goTemplate), ...Object.fromEntries(a) };
      }
    : undefined;
  const assignments = solve(generated, desired, file, paramsFor);
  if (fileSource && newFile) {
    const foreign = [...assignments.keys()].filter((key) => sourceOf(generated, key) !== fileSource);
    if (foreign.length > 0) {
      throw new UpgradeRefusedError(
        `${file}: the new release ${newName} needs new values (${foreign.join(', ')}) from a generator element of ApplicationSet ${generated.appSet.name} besides its params file ${fileSource.file}; the bot adds one params file per release. Add it by hand, then plan again.`,
        'applicationset-template-value',
      );
    }
    const made = newFile as { path: string; renames: Array<readonly [string, string]> };
    const patch = Object.fromEntries(assignments);
    return { file, name: newName, namespace: target.namespace, edits: [{ op: 'file-copy', file: fileSource.file!, newFile: made.path, patch, renames: made.renames }] };
  }
  if (edit.kind === 'patch') {
    if (assignments.size === 0) return { file, name: target.name, namespace: target.namespace, edits: [] };
    return { file, name: target.name, namespace: target.namespace, edits: patchesFor(generated, assignments, documentIndex, file) };
  }
  // A new release: a copy of the element that supplies the changed values, appended to its list.
  const sources = [...new Set([...assignments.keys()].map((key) => sourceOf(generated, key)))];
  if (sources.length !== 1 || !sources[0]) {
    throw new UpgradeRefusedError(
      `${file}: the new release ${String(asDict(asDict(edit.body).metadata).name)} needs new values from ${sources.length} generator elements of ApplicationSet ${generated.appSet.name} (${[...assignments.keys()].join(', ')}); the bot adds one element per release. Add the element by hand, then plan again.`,
      'applicationset-template-value',
    );
  }
  const source = sources[0];
  const patch = Object.fromEntries([...assignments].map(([key, value]) => [key, value]));
  return { file, name: String(asDict(asDict(edit.body).metadata).name), namespace: target.namespace, edits: [{ op: 'append-copy', documentIndex, path: [...source.path, source.index], patch }] };
}

function shared(file: string, name: string): UpgradeRefusedError {
  return new UpgradeRefusedError(
    `${file}: ${name} is generated from several generator elements (a matrix); removing it would remove every Application one of them makes. Remove it by hand, then plan again.`,
    'applicationset-template-value',
  );
}

function sourcesOfApplication(generated: GeneratedApplication): ElementSource[] {
  // The element whose removal removes only this Application: the one that supplies the revision-specific values.
  const sources = generated.instance.sources;
  if (sources.length <= 1) return [...sources];
  const own = sources.filter((s) => Object.keys(s.element).some((k) => /revision|version|chart|component/i.test(k)));
  return own.length === 1 ? own : [...sources];
}

function sourceOf(generated: GeneratedApplication, key: string): ElementSource | undefined {
  const sources = generated.instance.sources;
  const defining = sources.filter((s) => Object.hasOwn(s.element, key));
  return defining.at(-1) ?? sources.at(-1);
}

function patchesFor(generated: GeneratedApplication, assignments: ReadonlyMap<string, unknown>, documentIndex: number, file: string): ElementEdit[] {
  const bySource = new Map<ElementSource, Record<string, unknown>>();
  for (const [key, value] of assignments) {
    const source = sourceOf(generated, key);
    if (!source) throw new UpgradeRefusedError(`${file}: no generator element to hold ${key}`, 'applicationset-template-value');
    bySource.set(source, { ...(bySource.get(source) ?? {}), [key]: value });
  }
  return [...bySource].map(([source, patch]) => (source.file ? { op: 'file-patch', file: source.file, patch } : { op: 'patch', documentIndex, path: [...source.path, source.index], patch }));
}

/**
 * The params file of a new release: the old file's path with the old values replaced by the new
 * ones (`mesh/istiod/1-21-2/config.yaml` → `…/1-22-1/…`), or `<new Application name>.<ext>` beside
 * it; it must match the generator's globs (else Argo CD would not read it) and be new.
 */
function renamedParamsFile(
  generated: GeneratedApplication,
  source: ElementSource,
  assignments: ReadonlyMap<string, unknown>,
  pathAssignments: ReadonlyMap<string, unknown>,
  newName: string,
  file: string,
): { path: string; renames: Array<readonly [string, string]> } {
  const old = source.file!;
  const renames: Array<readonly [string, string]> = [];
  for (const [key, value] of [...assignments, ...pathAssignments]) {
    const before = lookup(generated.instance.params, key.split('.'));
    if (typeof before === 'string' && typeof value === 'string' && before !== '' && before !== value && !renames.some(([f]) => f === before)) renames.push([before, value]);
  }
  renames.sort((a, b) => b[0].length - a[0].length);
  let path = renames.reduce((p, [from, to]) => p.split(from).join(to), old);
  if (path === old) {
    const ext = old.match(/\.[^./]+$/)?.[0] ?? '.yaml';
    path = `${old.slice(0, old.lastIndexOf('/') + 1)}${newName}${ext}`;
  }
  if (!matchesGlobs(path, source.globs!)) {
    throw new UpgradeRefusedError(
      `${file}: the params file of the new release ${newName} would be ${path}, which git.files of ApplicationSet ${generated.appSet.name} (${source.globs!.include.join(', ')}) does not match, so Argo CD would not read it. Add the params file by hand, then plan again.`,
      'applicationset-template-value',
    );
  }
  return { path, renames };
}

function withoutIdentity(patch: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = patch as Record<string, unknown>;
  const { name: _n, namespace: _ns, ...meta } = asDict(metadata) as Record<string, unknown>;
  return Object.keys(meta).length > 0 ? { ...rest, metadata: meta } : rest;
}

const VALUES_TEXT = ['spec', 'source', 'helm', 'values'] as const;

/** The Application with its Helm `values` text read as data (compared as data, not as text). */
function withValuesData(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const text = getPath(body, [...VALUES_TEXT]);
  if (typeof text !== 'string') return body as Record<string, unknown>;
  const copy = structuredClone(body) as Record<string, unknown>;
  const helm = asDict(getPath(copy, ['spec', 'source', 'helm'])) as Record<string, unknown>;
  helm.values = parseYaml(text);
  return copy;
}

function isValuesText(path: readonly string[], textValues: boolean): boolean {
  return textValues && path.length >= VALUES_TEXT.length && VALUES_TEXT.every((k, i) => path[i] === k);
}

function parseYaml(text: string): unknown {
  try {
    return load(text) ?? {};
  } catch (error) {
    throw new TemplateError(`Helm values text does not parse: ${(error as Error).message}`);
  }
}

/**
 * Which element parameters must change, and to what, so that the element renders `desired`. Each
 * placeholder of the template is replaced by a sentinel; walking the template (with sentinels),
 * the rendered Application and the desired one side by side, a changed field must be exactly one
 * placeholder (with fixed text around it); a changed field the template writes out is refused.
 * The result is checked by rendering the element again.
 */
function solve(
  generated: GeneratedApplication,
  desired: Record<string, unknown>,
  file: string,
  paramsFor?: (assignments: ReadonlyMap<string, unknown>, pathAssignments: ReadonlyMap<string, unknown>) => Record<string, unknown>,
): Map<string, unknown> {
  const references: Reference[] = [];
  const sentinel: Substitute = (reference) => {
    references.push(reference);
    return `__mub_param_${references.length - 1}__`;
  };
  const template = asDict(generated.appSet.body.spec).template;
  const marked = asDict(renderValue(template, generated.instance.params, generated.goTemplate, sentinel));
  const markedBody = withValuesData({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', ...marked });
  const current = withValuesData(generated.object.body as unknown as Record<string, unknown>);
  const assignments = new Map<string, unknown>();
  const pathAssignments = new Map<string, unknown>();
  const refuse = (path: readonly string[], why: string): never => {
    throw new UpgradeRefusedError(
      `${file}: ApplicationSet ${generated.appSet.name}: ${generated.object.name} needs another value at ${path.join('.')}, which the template decides for every element (${why}); the bot edits generator elements, never the template. Make the field a placeholder filled from the elements (e.g. {{.${path.at(-1)}}}), then plan again.`,
      'applicationset-template-value',
    );
  };
  const assign = (reference: Reference, value: unknown, path: readonly string[]) => {
    if (isPathReference(reference.key) && generated.instance.sources.some((x) => x.file !== undefined)) {
      // The params file's path: only a new params file (a new release) can change it.
      if (!paramsFor) refuse(path, `the placeholder names ${reference.key.join('.')}, the params file's path`);
      const key = reference.key.join('.');
      if (pathAssignments.has(key) && !isDeepStrictEqual(pathAssignments.get(key), value)) refuse(path, `${key} would need two values`);
      pathAssignments.set(key, value);
      return;
    }
    if (reference.key.length !== 1) refuse(path, `the placeholder names the nested parameter ${reference.key.join('.')}`);
    const key = reference.key[0]!;
    if (assignments.has(key) && !isDeepStrictEqual(assignments.get(key), value)) refuse(path, `${key} would need two values`);
    assignments.set(key, value);
  };
  const textValues = typeof getPath(generated.object.body, [...VALUES_TEXT]) === 'string';
  const walk = (t: unknown, r: unknown, d: unknown, path: string[]): void => {
    const inText = isValuesText(path, textValues);
    if (equivalent(r, d)) return;
    if (typeof t === 'string' && t.includes('__mub_param_')) {
      const parts = t.split(/__mub_param_(\d+)__/);
      if (parts.length !== 3) refuse(path, 'several placeholders in one field');
      const [prefix, n, suffix] = parts as [string, string, string];
      const reference = references[Number(n)]!;
      if (inText && prefix === '' && suffix === '') {
        // A whole value of the values text: the element holds its YAML text.
        const text = d === undefined ? '[]' : typeof d === 'string' ? d : dump(d, { flowLevel: 0 }).trim();
        if (d !== undefined && !equivalent(safeLoad(text), d)) refuse(path, `${JSON.stringify(d)} cannot be written as text`);
        if (d === undefined && !Array.isArray(r)) refuse(path, 'the field would have to go');
        return assign(reference, text, path);
      }
      const value = typeof d === 'number' || typeof d === 'boolean' ? String(d) : d;
      if (typeof value !== 'string' || !value.startsWith(prefix) || !value.endsWith(suffix) || value.length < prefix.length + suffix.length) {
        refuse(path, `the fixed text around the placeholder does not fit ${JSON.stringify(d)}`);
      }
      return assign(reference, (value as string).slice(prefix.length, (value as string).length - suffix.length), path);
    }
    if (Array.isArray(t) && Array.isArray(d) && Array.isArray(r) && t.length === d.length && r.length === d.length) {
      t.forEach((item, i) => walk(item, r[i], d[i], [...path, String(i)]));
      return;
    }
    if (isRecord(t) && isRecord(d) && isRecord(r)) {
      for (const key of new Set([...Object.keys(t), ...Object.keys(d)])) {
        if (!Object.hasOwn(t, key) && !equivalent(undefined, d[key])) refuse([...path, key], 'the template has no such field');
        walk(t[key], r[key], d[key], [...path, key]);
      }
      return;
    }
    if (inText && d === undefined && Array.isArray(r) && r.length === 0) return;
    refuse(path, `it reads ${JSON.stringify(t)}`);
  };
  // The Application's namespace is the ApplicationSet's, not the template's.
  walk(withoutNamespace(markedBody), withoutNamespace(current), withoutNamespace(desired), []);
  // Check: the element with the new values renders the desired Application.
  let again: Record<string, unknown>;
  try {
    const params = paramsFor ? paramsFor(assignments, pathAssignments) : { ...generated.instance.params, ...Object.fromEntries(assignments) };
    again = withValuesData(asDict(renderValue(template, params, generated.goTemplate, plainValue)));
  } catch (error) {
    if (error instanceof UpgradeRefusedError) throw error;
    throw new UpgradeRefusedError(`${file}: ${(error as Error).message}`, 'applicationset-template-value');
  }
  const { apiVersion: _a, kind: _k, ...wanted } = desired;
  const wantedMeta = { ...asDict(wanted.metadata) };
  delete wantedMeta.namespace;
  const againMeta = { ...asDict(again.metadata) };
  delete againMeta.namespace;
  if (!equivalent({ ...again, metadata: againMeta }, { ...wanted, metadata: wantedMeta })) {
    throw new UpgradeRefusedError(
      `${file}: the generator element of ${generated.object.name} cannot be edited to render what the upgrade needs (${[...assignments.keys()].join(', ') || 'no parameter'} changed); edit it by hand, then plan again.`,
      'applicationset-template-value',
    );
  }
  return assignments;
}

function safeLoad(text: string): unknown {
  try {
    return load(text);
  } catch {
    return Symbol('unreadable');
  }
}

/** Same data, where Helm values without a list read the same as an empty list (no revision tags). */
function equivalent(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equivalent(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => equivalent(a[k], b[k]) || (emptyList(a[k]) && b[k] === undefined) || (a[k] === undefined && emptyList(b[k])));
  }
  return isDeepStrictEqual(a, b);
}

function emptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutNamespace(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const metadata = { ...asDict(body.metadata) };
  delete metadata.namespace;
  return { ...body, metadata };
}

/** A params file a git files generator of the repo reads (not a Kubernetes object, yet not skipped). */
export function isGitParamsFile(index: YamlIndex, file: string): boolean {
  return isParamsFileOf(index.ofKind('ApplicationSet').map((o) => o.body), file);
}
