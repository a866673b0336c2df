import { isDeepStrictEqual } from 'node:util';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict, getPath } from '../../model/kube.js';
import type { IndexedObject, KubeObject } from '../../model/objects.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { YamlIndex } from '../repo-index.js';
import { snapshotOf } from '../yaml-index.js';
import { GitGeneratorError, type GitGlobs, gitParamSets, isParamsFileOf } from './applicationset-git.js';

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

export function sameSource(a: ElementSource, b: ElementSource): boolean {
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

export class TemplateError extends Error {}

const cache = new WeakMap<YamlIndex, Expansion>();
export const generatedObjects = new WeakMap<IndexedObject, GeneratedApplication>();

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
  const istioSets = new Set(
    generated.filter((g) => isIstioChart(String(getPath(g.object.body, ['spec', 'source', 'chart']) ?? ''))).map((g) => g.appSet),
  );
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
export function expandApplicationSet(appSet: IndexedObject, repo: ReadonlyMap<string, string> | undefined): GeneratedApplication[] {
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

function generatorInstances(
  generator: Readonly<Record<string, unknown>>,
  path: readonly (string | number)[],
  repo: ReadonlyMap<string, string> | undefined,
  goTemplate: boolean,
): Instance[] {
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
      if (typeof element !== 'object' || element === null || Array.isArray(element))
        throw new TemplateError(`list element ${index + 1} is not a mapping`);
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
      return sets.map((set) => ({
        params: set.params,
        sources: set.file ? [{ path: [...path, 'git'], index: -1, element: set.content, file: set.file, globs }] : [],
      }));
    } catch (error) {
      if (error instanceof GitGeneratorError) throw new TemplateError(error.message);
      throw error;
    }
  }
  throw new TemplateError(`the ${kind} generator is not read (list, git, and a matrix of two of these, are)`);
}

// ---------------------------------------------------------------------------------------------
// Placeholders

export interface Reference {
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
    const fallback =
      raw === undefined ? null : raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.startsWith('`') ? raw.slice(1, -1) : raw;
    return { key: match[1]!.split('.'), fallback };
  }
  if (!/^[A-Za-z_][\w-]*(?:\.[\w-]+)*$/.test(text)) throw new TemplateError(`the placeholder {{${inner}}} is not a plain parameter name`);
  return { key: text.split('.'), fallback: null };
}

export function lookup(params: Readonly<Record<string, unknown>>, key: readonly string[]): unknown {
  // fasttemplate's flattened names (`path.basename`) first.
  if (key.length > 1 && Object.hasOwn(params, key.join('.'))) return params[key.join('.')];
  let current: unknown = params;
  for (const part of key) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export type Substitute = (reference: Reference, params: Readonly<Record<string, unknown>>) => string;

/** A parameter's text in a rendered string; a missing one, or a list or map, cannot be rendered faithfully. */
export const plainValue: Substitute = (reference, params) => {
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

export function renderValue(
  value: unknown,
  params: Readonly<Record<string, unknown>>,
  goTemplate: boolean,
  substitute: Substitute,
): unknown {
  if (typeof value === 'string') return renderString(value, params, goTemplate, substitute);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, params, goTemplate, substitute));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        renderString(k, params, goTemplate, substitute),
        renderValue(v, params, goTemplate, substitute),
      ]),
    );
  }
  return value;
}

/** A params file a git files generator of the repo reads (not a Kubernetes object, yet not skipped). */
export function isGitParamsFile(index: YamlIndex, file: string): boolean {
  return isParamsFileOf(
    index.ofKind('ApplicationSet').map((o) => o.body),
    file,
  );
}
