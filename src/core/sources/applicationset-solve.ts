import { isDeepStrictEqual } from 'node:util';
import { dump, load } from 'js-yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict, getPath } from '../../model/kube.js';
import { type GeneratedApplication, plainValue, type Reference, renderValue, type Substitute, TemplateError } from './applicationset.js';

import { isPathReference } from './applicationset-git.js';

const VALUES_TEXT = ['spec', 'source', 'helm', 'values'] as const;

/** The Application with its Helm `values` text read as data (compared as data, not as text). */
export function withValuesData(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
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

export function parseYaml(text: string): unknown {
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
export function solve(
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
      if (
        typeof value !== 'string' ||
        !value.startsWith(prefix) ||
        !value.endsWith(suffix) ||
        value.length < prefix.length + suffix.length
      ) {
        refuse(path, `the fixed text around the placeholder does not fit ${JSON.stringify(d)}`);
      }
      return assign(reference, (value as string).slice(prefix.length, (value as string).length - suffix.length), path);
    }
    if (Array.isArray(t) && Array.isArray(d) && Array.isArray(r) && t.length === d.length && r.length === d.length) {
      t.forEach((item, i) => {
        walk(item, r[i], d[i], [...path, String(i)]);
      });
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
    const params = paramsFor
      ? paramsFor(assignments, pathAssignments)
      : { ...generated.instance.params, ...Object.fromEntries(assignments) };
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

export function safeLoad(text: string): unknown {
  try {
    return load(text);
  } catch {
    return Symbol('unreadable');
  }
}

/** Same data, where Helm values without a list read the same as an empty list (no revision tags). */
export function equivalent(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equivalent(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every(
      (k) => equivalent(a[k], b[k]) || (emptyList(a[k]) && b[k] === undefined) || (a[k] === undefined && emptyList(b[k])),
    );
  }
  return isDeepStrictEqual(a, b);
}

function emptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutNamespace(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const metadata = { ...asDict(body.metadata) };
  delete metadata.namespace;
  return { ...body, metadata };
}
