import { posix } from 'node:path';
import { isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Node as YamlNode } from 'yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict, getPath } from '../../model/kube.js';
import type { IndexedObject, KubeObject } from '../../model/objects.js';
import { objectKey } from '../../model/objects.js';
import type { RepoSnapshot } from '../../model/snapshot.js';
import type { SkippedFile, YamlIndex } from '../repo-index.js';
import { type Guard, type Iteration, renderTemplate, type ValuesPath } from './helm-template.js';

/**
 * Argo CD app-of-apps rendered by Helm: an Application whose source is a local chart
 * (`spec.source.path` → a directory with `Chart.yaml` and `templates/`), whose templates render
 * the Istio Applications and the app Namespaces from values files. The templates are rendered with
 * a minimal evaluator (./helm-template.ts); the rendered objects join the index as virtual objects
 * whose fields remember the values path they come from, and a phase's edits of them are written
 * into the values files at those paths (the highest-precedence file that sets a value). A new
 * istiod release becomes a new element of the list a template ranges over; when the template
 * renders one release from scalar values, a copy of the template reading a values key of its own
 * (./helm-template-copy.ts), and the old release is later turned off by its enable flag.
 */

/** Where a rendered field comes from. */
export type FieldSource =
  | { readonly kind: 'value' | 'subtree'; readonly path: ValuesPath }
  | { readonly kind: 'derived'; readonly path: ValuesPath; readonly prefix: string; readonly suffix: string };

export interface ValuesLayer {
  /** The values file (repo path), or null for values inline in the parent Application. */
  readonly file: string | null;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface LocalChart {
  readonly app: IndexedObject;
  readonly dir: string;
  /** Lowest precedence first (the chart's values.yaml, valueFiles in order, inline values). */
  readonly layers: readonly ValuesLayer[];
  readonly values: Readonly<Record<string, unknown>>;
  /** `.Release` as Argo CD renders it. */
  readonly release?: { readonly name: string; readonly namespace: string };
}

export interface VirtualInfo {
  readonly chart: LocalChart;
  readonly template: string;
  readonly iteration: Iteration | null;
  /** `{{ if .Values… }}` blocks around the object, innermost first. */
  readonly guards: readonly Guard[];
  readonly fields: ReadonlyMap<string, FieldSource>;
}

export interface AppOfApps {
  readonly charts: readonly LocalChart[];
  readonly objects: readonly IndexedObject[];
  /** Templates left unread, with the file and line of what the evaluator does not support. */
  readonly unread: readonly SkippedFile[];
  /** Template and values files read (their `skipped` notes go). */
  readonly read: ReadonlySet<string>;
}

export const virtual = new WeakMap<IndexedObject, VirtualInfo>();

/** Finds the local charts Argo CD Applications of the repo render, and renders them. */
export function renderLocalCharts(snapshot: RepoSnapshot, index: YamlIndex): AppOfApps {
  const charts: LocalChart[] = [];
  const objects: IndexedObject[] = [];
  const unread: SkippedFile[] = [];
  const read = new Set<string>();
  for (const app of index.ofKind('Application')) {
    if (!app.apiVersion.startsWith('argoproj.io/') || app.isPatch) continue;
    const source = asDict(getPath(app.body, ['spec', 'source']));
    if (typeof source.path !== 'string' || source.chart !== undefined) continue;
    const dir = posix.normalize(source.path).replace(/\/$/, '');
    if (!snapshot.has(`${dir}/Chart.yaml`)) continue;
    const templates = [...snapshot.keys()].filter((p) => p.startsWith(`${dir}/templates/`) && /\.ya?ml$/.test(p)).sort();
    if (templates.length === 0) continue;
    const helm = asDict(source.helm);
    const layers = valueLayers(snapshot, app, dir, helm);
    for (const layer of layers) if (layer.file) read.add(layer.file);
    read.add(`${dir}/Chart.yaml`);
    const values = layers.reduce<Record<string, unknown>>((merged, layer) => mergeValues(merged, layer.data), {});
    const release = {
      name: typeof helm.releaseName === 'string' ? helm.releaseName : app.name,
      namespace: String(getPath(app.body, ['spec', 'destination', 'namespace']) ?? 'default'),
    };
    const chart: LocalChart = { app, dir, layers, values, release };
    charts.push(chart);
    for (const template of templates) {
      const text = snapshot.get(template)!;
      if (!text.includes('{{')) continue;
      const result = renderTemplate(text, values, release);
      if (!result.ok) {
        unread.push({
          file: template,
          reason: `Helm template of chart ${dir} not read: line ${result.line}: ${result.reason} (the bot reads only simple value references, if/with/range, quote, default, toYaml, nindent)`,
        });
        continue;
      }
      read.add(template);
      objects.push(...virtualObjects(chart, template, result.output, result.substitutions, result.iterations, result.guards));
    }
  }
  return { charts, objects, unread, read };
}

/** The index with the rendered objects added and the notes of the files read replaced. */
export function withLocalCharts(index: YamlIndex, aoa: AppOfApps): YamlIndex {
  if (aoa.charts.length === 0) return index;
  const objects = [...index.objects, ...aoa.objects];
  const skipped = [...index.skipped.filter((s) => !aoa.read.has(s.file) && !aoa.unread.some((u) => u.file === s.file)), ...aoa.unread];
  const byKey = new Map<string, IndexedObject[]>();
  const byKind = new Map<string, IndexedObject[]>();
  for (const object of objects) {
    byKey.set(objectKey(object), [...(byKey.get(objectKey(object)) ?? []), object]);
    byKind.set(object.kind, [...(byKind.get(object.kind) ?? []), object]);
  }
  return {
    objects,
    kustomizations: index.kustomizations,
    skipped,
    find: (ref) => byKey.get(objectKey(ref)) ?? [],
    ofKind: (kind) => byKind.get(kind) ?? [],
  };
}

function valueLayers(snapshot: RepoSnapshot, app: IndexedObject, dir: string, helm: Readonly<Record<string, unknown>>): ValuesLayer[] {
  const files = [`${dir}/values.yaml`];
  for (const f of Array.isArray(helm.valueFiles) ? helm.valueFiles : []) {
    if (typeof f !== 'string') continue;
    const path = posix.normalize(posix.join(dir, f));
    if (!snapshot.has(path)) {
      throw new UpgradeRefusedError(
        `Application ${app.name} (${app.file}) lists the values file ${f}, which is not in ${dir}: Argo CD would fail to render the chart.`,
        'helm-values-file-missing',
      );
    }
    if (!files.includes(path)) files.push(path);
    else if (path !== files[0]) files.push(path);
  }
  const layers: ValuesLayer[] = files.filter((f) => snapshot.has(f)).map((file) => ({ file, data: readValues(file, snapshot.get(file)!) }));
  if (typeof helm.values === 'string') layers.push({ file: null, data: readValues(app.file, helm.values) });
  if (helm.valuesObject) layers.push({ file: null, data: asDict(helm.valuesObject) });
  return layers;
}

export function readValues(file: string, text: string): Readonly<Record<string, unknown>> {
  const document = parseDocument(text);
  if (document.errors.length > 0)
    throw new UpgradeRefusedError(
      `${file}: values are not valid YAML (${document.errors[0]!.message.split('\n')[0]})`,
      'helm-values-invalid',
    );
  return asDict(document.toJS());
}

/** Helm's coalescing: maps merge key by key, anything else (lists included) is replaced; null deletes. */
export function mergeValues(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isRecord(value) && isRecord(out[key])) out[key] = mergeValues(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

export function virtualObjects(
  chart: LocalChart,
  template: string,
  output: string,
  substitutions: ReturnType<typeof renderSubs>,
  iterations: readonly Iteration[],
  guards: readonly Guard[] = [],
): IndexedObject[] {
  const out: IndexedObject[] = [];
  parseAllDocuments(output).forEach((document, documentIndex) => {
    if (document.errors.length > 0 || !document.contents) return;
    const body = document.toJS() as unknown;
    if (!isKube(body)) return;
    const fields = new Map<string, FieldSource>();
    walk(document.contents as YamlNode, [], substitutions, fields, false, output);
    const [start, valueEnd] = (document.contents as YamlNode).range!;
    const end = start + output.slice(start, valueEnd).trimEnd().length;
    const inside = iterations.filter((it) => it.start <= start && end <= it.end);
    const iteration = inside.sort((a, b) => a.end - a.start - (b.end - b.start))[0] ?? null;
    const around = guards.filter((g) => g.start <= start && end <= g.end).sort((a, b) => a.end - a.start - (b.end - b.start));
    const object: IndexedObject = {
      file: template,
      documentIndex,
      apiVersion: body.apiVersion,
      kind: body.kind,
      name: body.metadata.name,
      namespace: body.metadata.namespace ?? null,
      body,
      isPatch: false,
    };
    virtual.set(object, { chart, template, iteration, guards: around, fields });
    out.push(object);
  });
  return out;
}

function renderSubs(): ReadonlyArray<{ start: number; end: number; path: ValuesPath; text: string }> {
  return [];
}

function walk(
  node: YamlNode,
  path: ReadonlyArray<string | number>,
  subs: ReturnType<typeof renderSubs>,
  fields: Map<string, FieldSource>,
  covered: boolean,
  output: string,
): void {
  const raw = node.range;
  if (!covered && raw) {
    const range = [raw[0], raw[0] + output.slice(raw[0], raw[1]).trimEnd().length] as const;
    const whole = subs.find((s) => s.start <= range[0] && range[1] <= s.end);
    if (whole) {
      fields.set(key(path), { kind: isScalar(node) ? 'value' : 'subtree', path: whole.path });
      return;
    }
    if (isScalar(node)) {
      const within = subs.filter((s) => range[0] <= s.start && s.end <= range[1]);
      const text = String(node.value);
      if (within.length === 1 && text.split(within[0]!.text).length === 2) {
        const at = text.indexOf(within[0]!.text);
        fields.set(key(path), {
          kind: 'derived',
          path: within[0]!.path,
          prefix: text.slice(0, at),
          suffix: text.slice(at + within[0]!.text.length),
        });
      }
      return;
    }
  }
  if (isMap(node))
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : null;
      if (k !== null && pair.value) walk(pair.value as YamlNode, [...path, k], subs, fields, covered, output);
    }
  else if (isSeq(node))
    node.items.forEach((item, i) => {
      walk(item as YamlNode, [...path, i], subs, fields, covered, output);
    });
}

export const key = (path: ReadonlyArray<string | number>) => JSON.stringify(path);

function isKube(value: unknown): value is KubeObject {
  const v = asDict(value);
  return typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof asDict(v.metadata).name === 'string';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
