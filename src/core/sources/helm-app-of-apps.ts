import { posix } from 'node:path';
import { isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Node as YamlNode } from 'yaml';
import type { Desired } from '../../model/desired.js';
import type { AppliedPhase } from '../../writer/apply-phase.js';
import { renderPhase } from '../render-phase.js';
import { type PhaseEdits, type PlacedObject } from '../../model/placed-object.js';
import { deepEqual, mergePatchBetween } from '../../writer/patch-data.js';
import { editYamlText, patchYamlMappingText } from '../../writer/yaml-patch.js';
import { type MergePatch, type PatchValue } from '../../model/merge-patch.js';
import { overrideFileFor, refuseSharedValuesFile } from './shared-values-files.js';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict, getPath } from '../../model/kube.js';
import type { RepoSnapshot } from '../../model/snapshot.js';
import { objectKey, type SkippedFile, type YamlIndex } from '../yaml-index.js';
import { type IndexedObject, type KubeObject } from '../../model/objects.js';
import { renderTemplate, type Guard, type Iteration, type ValuesPath } from './helm-template.js';
import { addValuesBlock, renameValuesKey, rewriteLiteralLine, valuesKeyForRevision } from './helm-template-copy.js';

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
type FieldSource =
  | { readonly kind: 'value' | 'subtree'; readonly path: ValuesPath }
  | { readonly kind: 'derived'; readonly path: ValuesPath; readonly prefix: string; readonly suffix: string };

interface ValuesLayer {
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

interface VirtualInfo {
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

const virtual = new WeakMap<IndexedObject, VirtualInfo>();

export function isRenderedFromChart(object: IndexedObject): boolean {
  return virtual.has(object);
}

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
    const release = { name: typeof helm.releaseName === 'string' ? helm.releaseName : app.name, namespace: String(getPath(app.body, ['spec', 'destination', 'namespace']) ?? 'default') };
    const chart: LocalChart = { app, dir, layers, values, release };
    charts.push(chart);
    for (const template of templates) {
      const text = snapshot.get(template)!;
      if (!text.includes('{{')) continue;
      const result = renderTemplate(text, values, release);
      if (!result.ok) {
        unread.push({ file: template, reason: `Helm template of chart ${dir} not read: line ${result.line}: ${result.reason} (the bot reads only simple value references, if/with/range, quote, default, toYaml, nindent)` });
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
  return { objects, kustomizations: index.kustomizations, skipped, find: (ref) => byKey.get(objectKey(ref)) ?? [], ofKind: (kind) => byKind.get(kind) ?? [] };
}

function valueLayers(snapshot: RepoSnapshot, app: IndexedObject, dir: string, helm: Readonly<Record<string, unknown>>): ValuesLayer[] {
  const files = [`${dir}/values.yaml`];
  for (const f of Array.isArray(helm.valueFiles) ? helm.valueFiles : []) {
    if (typeof f !== 'string') continue;
    const path = posix.normalize(posix.join(dir, f));
    if (!snapshot.has(path)) {
      throw new UpgradeRefusedError(`Application ${app.name} (${app.file}) lists the values file ${f}, which is not in ${dir}: Argo CD would fail to render the chart.`, 'helm-values-file-missing');
    }
    if (!files.includes(path)) files.push(path);
    else if (path !== files[0]) files.push(path);
  }
  const layers: ValuesLayer[] = files.filter((f) => snapshot.has(f)).map((file) => ({ file, data: readValues(file, snapshot.get(file)!) }));
  if (typeof helm.values === 'string') layers.push({ file: null, data: readValues(app.file, helm.values) });
  if (helm.valuesObject) layers.push({ file: null, data: asDict(helm.valuesObject) });
  return layers;
}

function readValues(file: string, text: string): Readonly<Record<string, unknown>> {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw new UpgradeRefusedError(`${file}: values are not valid YAML (${document.errors[0]!.message.split('\n')[0]})`, 'helm-values-invalid');
  return asDict(document.toJS());
}

/** Helm's coalescing: maps merge key by key, anything else (lists included) is replaced; null deletes. */
function mergeValues(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isRecord(value) && isRecord(out[key])) out[key] = mergeValues(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

function virtualObjects(chart: LocalChart, template: string, output: string, substitutions: ReturnType<typeof renderSubs>, iterations: readonly Iteration[], guards: readonly Guard[] = []): IndexedObject[] {
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

function walk(node: YamlNode, path: ReadonlyArray<string | number>, subs: ReturnType<typeof renderSubs>, fields: Map<string, FieldSource>, covered: boolean, output: string): void {
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
        fields.set(key(path), { kind: 'derived', path: within[0]!.path, prefix: text.slice(0, at), suffix: text.slice(at + within[0]!.text.length) });
      }
      return;
    }
  }
  if (isMap(node)) for (const pair of node.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : null;
    if (k !== null && pair.value) walk(pair.value as YamlNode, [...path, k], subs, fields, covered, output);
  }
  else if (isSeq(node)) node.items.forEach((item, i) => walk(item as YamlNode, [...path, i], subs, fields, covered, output));
}

const key = (path: ReadonlyArray<string | number>) => JSON.stringify(path);

/**
 * Writes a phase into the repo: edits of rendered objects go into the values files (new and
 * removed istiod releases as list elements), everything else through {@link renderPhase}.
 */
export function applyPhaseWithCharts(repo: Map<string, string>, edits: PhaseEdits, aoa: AppOfApps | null): AppliedPhase {
  if (!aoa || aoa.charts.length === 0) return renderPhase(repo, edits);
  const before = new Map<string, string | undefined>();
  const writer = new ValuesWriter(repo, before, aoa);
  const changes: AppliedPhase['changes'][number][] = [];
  const rest: PlacedObject[] = [];
  for (const placed of edits.objects) {
    const { desired, targets } = placed;
    if (desired.mode.kind === 'create' && desired.mode.basedOn && virtual.has(desired.mode.basedOn)) {
      writer.create(desired, desired.mode.basedOn, desired.mode.file);
      changes.push(change('create', desired, writer.lastFile));
      continue;
    }
    const virtualTargets = targets.filter((t) => virtual.has(t) || writer.isCreated(t));
    if (desired.mode.kind === 'patch' && virtualTargets.length > 0) {
      for (const target of virtualTargets) if (writer.patch(desired, target)) changes.push(change('update', desired, writer.lastFile));
      const others = targets.filter((t) => !virtualTargets.includes(t));
      if (others.length > 0) rest.push({ desired, targets: others });
      continue;
    }
    rest.push(placed);
  }
  const deletions: IndexedObject[] = [];
  const removed = new Set<IndexedObject>();
  for (const object of edits.deletions) {
    if (virtual.has(object)) {
      if (removed.has(object)) continue;
      removed.add(object);
      if (writer.remove(object)) changes.push({ action: 'delete', file: writer.lastFile, kind: object.kind, namespace: object.namespace, name: object.name });
    } else deletions.push(object);
  }
  const applied = renderPhase(repo, { objects: rest, deletions });
  const files = [...applied.files];
  for (const [path, old] of before) {
    const now = repo.get(path);
    if (now !== old && !files.some((f) => f.path === path)) files.push({ path, action: old === undefined ? 'create' : now === undefined ? 'delete' : 'update', content: now ?? null });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { changes: [...changes, ...applied.changes], files };
}

function change(action: 'create' | 'update', desired: Desired, file: string) {
  const json = desired.toJson();
  return { action, file, kind: json.kind, namespace: json.metadata.namespace ?? null, name: json.metadata.name };
}

/**
 * Where a created object's values live, so later phases' edits of it find them: a new list element
 * (the old element's paths under `from` move to `to`), or a copied template rendered with its own
 * values key (its own `info`, `from` = `to` = []).
 */
interface CreatedElement {
  readonly info: VirtualInfo;
  readonly from: ValuesPath;
  readonly to: ValuesPath;
  /** The object as its copied template renders it (edits already there are skipped). */
  readonly body?: KubeObject;
}

/** Elements added by earlier phases of the same plan, by the file and name of the created object. */
const createdByPlan = new WeakMap<AppOfApps, Map<string, CreatedElement>>();

class ValuesWriter {
  lastFile = '';
  private readonly created: Map<string, CreatedElement>;

  constructor(
    private readonly repo: Map<string, string>,
    private readonly before: Map<string, string | undefined>,
    private readonly aoa: AppOfApps,
  ) {
    this.created = createdByPlan.get(aoa) ?? new Map();
    createdByPlan.set(aoa, this.created);
  }

  isCreated(target: IndexedObject): boolean {
    return !virtual.has(target) && this.created.has(`${target.file}|${target.name}`);
  }

  /** Sets the fields of a patch that differ from the rendered object in the values; true when a file changed. */
  patch(desired: Desired, target: IndexedObject): boolean {
    const created = virtual.has(target) ? undefined : this.created.get(`${target.file}|${target.name}`);
    const info = created?.info ?? virtual.get(target)!;
    const json = desired.toJson() as Record<string, unknown>;
    const { apiVersion: _a, kind: _k, metadata, ...rest } = json;
    const { name: _n, namespace: _ns, ...meta } = asDict(metadata);
    const patch = (Object.keys(meta).length > 0 ? { ...rest, metadata: meta } : rest) as MergePatch;
    const current = created ? (created.body ?? null) : target.body;
    let changed = false;
    for (const [path, value] of leaves(patch)) {
      if (current && deepEqual(getAt(current, path), value === null ? undefined : value)) continue;
      const source = created ? relativeSource(info, path, created) : sourceOf(info, path);
      if (!source) throw this.literal(target, info, path);
      const valuesPath = source.kind === 'derived' ? source.path : source.path;
      const valuesValue = source.kind === 'derived' ? invert(source, value, target, path) : value;
      if (!created) this.assertNotShared(info, target, source.path, path);
      if (this.setValue(info.chart, valuesPath, valuesValue)) changed = true;
    }
    return changed;
  }

  /** A new object rendered from a new element of the list the template ranges over. */
  create(desired: Desired, basedOn: IndexedObject, file: string): void {
    const info = virtual.get(basedOn)!;
    const iteration = info.iteration;
    if (!iteration) {
      this.createTemplateCopy(desired, basedOn, info, file);
      return;
    }
    if (typeof iteration.key !== 'number') {
      throw new UpgradeRefusedError(
        `${basedOn.kind} ${basedOn.name} is rendered by ${info.template} from a range over a map (${iteration.over.join('.')}): the bot adds releases to lists only. Add the new release's entry by hand, then plan again.`,
        'helm-template-no-list',
      );
    }
    const json = desired.toJson();
    const patch = mergePatchBetween(basedOn.body, json);
    const elementPath = [...iteration.over, iteration.key];
    const elementEdits = new Map<string, { path: ReadonlyArray<string | number>; value: PatchValue }>();
    for (const [path, value] of leaves(patch)) {
      const source = sourceOf(info, path);
      const under = source && startsWith(source.path, elementPath);
      if (!source || !under) throw this.literal(basedOn, info, path, ' (a new release copies the old one\'s list element; this field does not come from it)');
      const relative = source.path.slice(elementPath.length);
      // A field the new release drops renders empty: `[]`/`{}` of the old value's kind, not `null`.
      const oldValue = getAt(basedOn.body, path);
      const emptied = value === null ? (Array.isArray(oldValue) ? [] : isRecord(oldValue) ? {} : null) : value;
      const v = source.kind === 'derived' ? invert(source, emptied, basedOn, path) : emptied;
      const previous = elementEdits.get(key(relative));
      if (previous && !deepEqual(previous.value, v)) throw new UpgradeRefusedError(`${info.template}: ${relative.join('.')} would need two values (${String(previous.value)}, ${String(v)}) for the new release.`, 'helm-values-conflict');
      elementEdits.set(key(relative), { path: relative, value: v });
    }
    const listFile = this.fileSetting(info.chart, iteration.over);
    if (!listFile) throw new UpgradeRefusedError(`${info.template}: the list ${iteration.over.join('.')} is not set in a values file.`, 'helm-values-inline');
    // A new element of a list in a values file another Application lists would reach it too.
    refuseSharedValuesFile(this.aoa, info.chart, listFile, iteration.over, 'a new element of the list would reach the other Applications too');
    const text = this.repo.get(listFile)!;
    const data = asDict(parseDocument(text).toJS());
    const list = getAt(data, iteration.over.map(String));
    const old = Array.isArray(list) ? list[iteration.key] : undefined;
    const newName = elementEdits.get(key(['name']))?.value;
    if (Array.isArray(list) && list.some((e) => isRecord(e) && e.name === newName)) {
      this.lastFile = listFile;
      this.created.set(`${file}|${json.metadata.name}`, { info, from: elementPath, to: [...iteration.over, list.findIndex((e) => isRecord(e) && e.name === newName)] });
      return;
    }
    if (!isRecord(old) || typeof old.name !== 'string') throw new UpgradeRefusedError(`${listFile}: the elements of ${iteration.over.join('.')} need a name to copy one.`, 'helm-values-unnamed');
    const edited = addListElement(listFile, text, iteration.over, iteration.key, [...elementEdits.values()], String(old.name), String(newName ?? ''));
    this.write(listFile, edited);
    this.created.set(`${file}|${json.metadata.name}`, { info, from: elementPath, to: [...iteration.over, (list as unknown[]).length] });
  }

  /** Removes the list element a rendered object comes from; true when a file changed. */
  remove(object: IndexedObject): boolean {
    const info = virtual.get(object)!;
    const iteration = info.iteration;
    if (!iteration) return this.removeRendered(object, info);
    if (typeof iteration.key !== 'number') {
      throw new UpgradeRefusedError(`${object.kind} ${object.name} is rendered by ${info.template} without a range over a values list; remove it by hand (its enable flag or template).`, 'helm-template-no-list');
    }
    const listFile = this.fileSetting(info.chart, iteration.over)!;
    const text = this.repo.get(listFile)!;
    const edited = removeListElement(listFile, text, iteration.over, iteration.key);
    if (edited === text) return false;
    this.write(listFile, edited);
    return true;
  }

  /**
   * A second release when the template renders one from scalar values (`.Values.istiod.version`):
   * a copy of the template (its file named after the new revision) whose `.Values.<key>` references
   * read a key of their own, and that key in the values file that sets the old one, as a copy of the
   * old subtree with the new release's values. Fields the template writes literally (`name: istiod`)
   * are rewritten on their one line in the copy. The copy is rendered before anything is written and
   * must give exactly the planned object.
   */
  private createTemplateCopy(desired: Desired, basedOn: IndexedObject, info: VirtualInfo, file: string): void {
    const json = desired.toJson();
    const { chart } = info;
    const refuse = (why: string, code: string) =>
      new UpgradeRefusedError(`${basedOn.kind} ${basedOn.name} is rendered by ${info.template} from scalar values; the new release would be a copy of that template, but ${why} Add the new release's template by hand, then plan again.`, code);
    const renderers = this.aoa.charts.filter((c) => c.dir === chart.dir);
    if (renderers.length > 1) throw refuse(`the chart ${chart.dir} is rendered by several Applications (${renderers.map((c) => c.app.name).join(', ')}), and a new template would render in each of them.`, 'helm-chart-shared');
    const siblings = this.aoa.objects.filter((o) => o !== basedOn && virtual.get(o)?.template === info.template);
    if (siblings.length > 0) throw refuse(`that template also renders ${siblings.map((o) => `${o.kind} ${o.name}`).join(', ')}, which a copy would render twice.`, 'helm-template-no-list');
    const revision = desired.mode.kind === 'create' ? desired.mode.revision : undefined;
    if (!revision) throw refuse('the new object names no revision to name its values after.', 'helm-template-no-list');
    const patch = mergePatchBetween(basedOn.body, json);
    const literals: Array<{ path: ReadonlyArray<string | number>; value: PatchValue }> = [];
    const edits: Array<{ path: ValuesPath; value: PatchValue }> = [];
    let key: string | null = null;
    for (const [path, value] of leaves(patch)) {
      const source = sourceOf(info, path);
      if (!source) {
        literals.push({ path, value });
        continue;
      }
      const top = source.path[0];
      if (typeof top !== 'string' || (key !== null && key !== top)) throw refuse(`the fields it changes come from more than one values key (${key}, ${String(top)}).`, 'helm-template-literal');
      key = top;
      edits.push({ path: source.path.slice(1), value: source.kind === 'derived' ? invert(source, value, basedOn, path) : value });
    }
    if (key === null) throw refuse('none of the fields that differ comes from the values.', 'helm-template-literal');
    const newKey = valuesKeyForRevision(key, revision.from, revision.to);
    const merged = this.mergedValues(chart, this.repo);
    if (merged[newKey] !== undefined || this.repo.has(file)) {
      throw refuse(`${merged[newKey] !== undefined ? `the values key ${newKey}` : file} is already there without rendering ${json.kind} ${json.metadata.name}.`, 'helm-values-conflict');
    }
    const renamed = renameValuesKey(this.repo.get(info.template)!, key, newKey);
    if (renamed === null) throw refuse(`the template does not read .Values.${key} by name.`, 'helm-template-literal');
    let copy: string = renamed;
    for (const literal of literals) {
      const old = getAt(basedOn.body, literal.path);
      const field = literal.path.at(-1);
      const line: string | null = typeof old === 'string' && typeof literal.value === 'string' && typeof field === 'string' ? rewriteLiteralLine(copy, field, old, literal.value) : null;
      if (line === null) throw this.literal(basedOn, info, literal.path, " (the new release's template is a copy of this one, and no single line of it sets this field)");
      copy = line;
    }
    const expected = structuredClone(asDict(merged[key])) as Record<string, unknown>;
    for (const edit of edits) setIn(expected, edit.path, edit.value);
    const valuesFile = this.fileSetting(chart, [key]);
    if (!valuesFile) throw new UpgradeRefusedError(`the value ${key} of chart ${chart.dir} is set inline in Application ${chart.app.name} (${chart.app.file}); the bot edits values files only.`, 'helm-values-inline');
    refuseSharedValuesFile(this.aoa, chart, valuesFile, [key], 'a new values block there would reach the other Applications too');
    const values = addValuesBlock(valuesFile, this.repo.get(valuesFile)!, key, newKey, expected);
    // Rendered before anything is written: the copy must give exactly the planned release.
    const next = new Map(this.repo).set(valuesFile, values).set(file, copy);
    const result = renderTemplate(copy, this.mergedValues(chart, next), chart.release ?? { name: chart.app.name, namespace: 'default' });
    const rendered = result.ok ? virtualObjects(chart, file, result.output, result.substitutions, result.iterations, result.guards) : [];
    const object = rendered.length === 1 ? rendered[0]! : null;
    const off = object ? leaves(mergePatchBetween(object.body, json)).map(([p]) => p.join('.')) : [];
    if (!object || off.length > 0) {
      throw refuse(`the copy would not render it as planned (${result.ok ? (object ? `differs at ${off.join(', ')}` : `${rendered.length} objects`) : `line ${result.line}: ${result.reason}`}).`, 'helm-template-literal');
    }
    this.write(valuesFile, values);
    this.write(file, copy);
    this.created.set(`${file}|${json.metadata.name}`, { info: virtual.get(object)!, from: [], to: [], body: object.body });
  }

  /**
   * Removes a release rendered from scalar values: its enable flag (`{{- if .Values.istiod.enabled }}`)
   * set to false when the flag guards that release alone, else its template file deleted when the
   * template renders nothing else; true when a file changed.
   */
  private removeRendered(object: IndexedObject, info: VirtualInfo): boolean {
    const { chart } = info;
    const values = this.mergedValues(chart, this.repo);
    const readers = (path: ValuesPath) =>
      this.aoa.objects.filter((o) => {
        if (o === object) return false;
        const other = virtual.get(o)!;
        return other.chart === chart && (other.guards.some((g) => deepEqual(g.path, path)) || [...other.fields.values()].some((f) => startsWith(path, f.path) || startsWith(f.path, path)));
      });
    for (const guard of info.guards) {
      if (getAt(values, guard.path) !== true || readers(guard.path).length > 0) continue;
      const file = this.fileSetting(chart, guard.path.slice(0, 1));
      if (!file) continue;
      const text = this.repo.get(file)!;
      const patch = guard.path.reduceRight<PatchValue>((inner, k) => ({ [String(k)]: inner }), false) as MergePatch;
      const edited = editYamlText(file, text, [{ documentIndex: 0, kind: null, name: null, patch }]) ?? '';
      if (getAt(asDict(parseDocument(edited).toJS()), guard.path) !== false) throw new UpgradeRefusedError(`${file}: could not set ${guard.path.join('.')} to false safely.`, 'helm-values-unwritable');
      this.write(file, edited);
      return true;
    }
    const siblings = this.aoa.objects.filter((o) => o !== object && virtual.get(o)?.template === info.template);
    const renderers = this.aoa.charts.filter((c) => c.dir === chart.dir);
    if (siblings.length === 0 && renderers.length === 1 && this.repo.has(info.template)) {
      this.before.set(info.template, this.before.has(info.template) ? this.before.get(info.template) : this.repo.get(info.template));
      this.repo.delete(info.template);
      this.lastFile = info.template;
      return true;
    }
    throw new UpgradeRefusedError(
      `${object.kind} ${object.name} is rendered by ${info.template}, which has no enable flag of its own (\`{{- if .Values.<release>.enabled }}\`) and renders ${siblings.length > 0 ? siblings.map((o) => `${o.kind} ${o.name}`).join(', ') : `for ${renderers.map((c) => c.app.name).join(', ')}`} too; remove it by hand.`,
      'helm-template-no-list',
    );
  }

  /** The chart's values as Argo CD merges them, read from `repo`. */
  private mergedValues(chart: LocalChart, repo: ReadonlyMap<string, string>): Record<string, unknown> {
    return chart.layers.reduce<Record<string, unknown>>((merged, layer) => mergeValues(merged, layer.file ? readValues(layer.file, repo.get(layer.file)!) : layer.data), {});
  }

  private literal(target: IndexedObject, info: VirtualInfo, path: ReadonlyArray<string | number>, why = ''): UpgradeRefusedError {
    return new UpgradeRefusedError(
      `${target.kind} ${target.name}: field ${path.join('.')} is written in the template ${info.template}, not taken from the values${why}; the bot edits values files only. Make the template read it from the values, or change it by hand.`,
      'helm-template-literal',
    );
  }

  /** A value other rendered fields read too, which this edit would change with it, is refused. */
  private assertNotShared(info: VirtualInfo, target: IndexedObject, path: ValuesPath, field: ReadonlyArray<string | number>): void {
    for (const other of this.aoa.objects) {
      const otherInfo = virtual.get(other)!;
      if (otherInfo.chart !== info.chart) continue;
      for (const [fieldKey, source] of otherInfo.fields) {
        if (other === target && fieldKey === key(field)) continue;
        if (other === target && source.kind === 'derived') continue;
        if (source.kind === 'subtree' ? startsWith(path, source.path) || startsWith(source.path, path) : deepEqual(source.path, path)) {
          if (other === target) continue;
          throw new UpgradeRefusedError(
            `${target.kind} ${target.name}: ${field.join('.')} comes from the value ${path.join('.')}, which ${other.kind} ${other.name} reads too (${info.template}); changing it would change both. Give each its own value in the chart, then plan again.`,
            'helm-values-shared',
          );
        }
      }
    }
  }

  /** The highest-precedence values file that sets `path` (numbers index lists). */
  private fileSetting(chart: LocalChart, path: ValuesPath): string | null {
    for (const layer of [...chart.layers].reverse()) {
      if (getAt(this.current(layer), path.map(String)) !== undefined) return layer.file ?? '';
    }
    return null;
  }

  private current(layer: ValuesLayer): unknown {
    return layer.file ? asDict(parseDocument(this.repo.get(layer.file)!).toJS()) : layer.data;
  }

  /** Writes one value; true when a file changed. */
  private setValue(chart: LocalChart, path: ValuesPath, value: PatchValue): boolean {
    const listAt = path.findIndex((p) => typeof p === 'number');
    const holderPath = listAt >= 0 ? path.slice(0, listAt) : path;
    let files: string[];
    if (value === null) {
      files = chart.layers.filter((l) => l.file && getAt(this.current(l), path.map(String)) !== undefined).map((l) => l.file!);
      for (const file of files) refuseSharedValuesFile(this.aoa, chart, file, path, 'the value would be removed from it (the writer removes keys; it cannot override one with null)');
    } else {
      let file = this.fileSetting(chart, holderPath);
      for (let n = holderPath.length - 1; file === null && n >= 0; n--) file = this.fileSetting(chart, holderPath.slice(0, n));
      if (file === '') throw new UpgradeRefusedError(`the value ${path.join('.')} of chart ${chart.dir} is set inline in Application ${chart.app.name} (${chart.app.file}); the bot edits values files only.`, 'helm-values-inline');
      files = [overrideFileFor(this.aoa, chart, file ?? chart.layers.filter((l) => l.file).slice(-1)[0]!.file!, path)];
    }
    let changed = false;
    for (const file of files) {
      const text = this.repo.get(file)!;
      const patch = toPatch(file, asDict(parseDocument(text).toJS()), path, value);
      const edited = editYamlText(file, text, [{ documentIndex: 0, kind: null, name: null, patch }]) ?? '';
      if (edited !== text) {
        this.write(file, edited);
        changed = true;
      }
    }
    return changed;
  }

  private write(file: string, text: string): void {
    if (!this.before.has(file)) this.before.set(file, this.repo.get(file));
    this.repo.set(file, text);
    this.lastFile = file;
  }
}

/** A merge patch setting `path` (list indices become the writer's named-element patches). */
function toPatch(file: string, data: unknown, path: ValuesPath, value: PatchValue): MergePatch {
  const build = (at: unknown, i: number): PatchValue => {
    if (i === path.length) return value;
    const step = path[i]!;
    if (typeof step === 'number') {
      const element = Array.isArray(at) ? at[step] : undefined;
      if (!isRecord(element) || typeof element.name !== 'string') throw new UpgradeRefusedError(`${file}: element ${step} of ${path.slice(0, i).join('.')} has no name; the bot edits list elements by name.`, 'helm-values-unnamed');
      return [{ name: element.name, ...(build(element, i + 1) as MergePatch) }];
    }
    return { [step]: build(asDict(at)[step], i + 1) };
  };
  return build(data, 0) as MergePatch;
}

function addListElement(file: string, text: string, over: ValuesPath, index: number, edits: ReadonlyArray<{ path: ReadonlyArray<string | number>; value: PatchValue }>, oldName: string, newName: string): string {
  const { items } = listItems(file, text, over);
  const [start, end] = itemSpan(text, items, index);
  const itemText = text.slice(start, end);
  const dash = itemText.indexOf('-');
  const asMap = `${itemText.slice(0, dash)} ${itemText.slice(dash + 1)}`;
  let patched = asMap;
  for (const edit of edits) {
    const patch = edit.path.reduceRight<PatchValue>((inner, k) => ({ [String(k)]: inner }), edit.value) as MergePatch;
    patched = patchYamlMappingText(file, patched, patch);
  }
  patched = patched.replace(/#.*$/gm, (comment) => (newName ? comment.split(oldName).join(newName) : comment));
  const copy = `${patched.slice(0, dash)}-${patched.slice(dash + 1)}`;
  const [, lastEnd] = itemSpan(text, items, items.length - 1);
  const result = text.slice(0, lastEnd) + (text.slice(0, lastEnd).endsWith('\n') ? '' : '\n') + copy.replace(/\n?$/, '\n') + text.slice(lastEnd);
  const after = getAt(asDict(parseDocument(result).toJS()), over.map(String));
  if (!Array.isArray(after) || after.length !== items.length + 1) throw new UpgradeRefusedError(`${file}: could not add an element to ${over.join('.')} safely.`, 'helm-values-unwritable');
  return result;
}

function removeListElement(file: string, text: string, over: ValuesPath, index: number): string {
  const { items } = listItems(file, text, over);
  if (items.length <= 1) throw new UpgradeRefusedError(`${file}: ${over.join('.')} would be left empty; the bot never removes the only release.`, 'helm-values-unwritable');
  const [start, end] = itemSpan(text, items, index);
  const result = text.slice(0, start) + text.slice(end);
  const before = getAt(asDict(parseDocument(text).toJS()), over.map(String)) as unknown[];
  const after = getAt(asDict(parseDocument(result).toJS()), over.map(String));
  if (!deepEqual(after, before.filter((_, i) => i !== index))) throw new UpgradeRefusedError(`${file}: could not remove element ${index} of ${over.join('.')} safely.`, 'helm-values-unwritable');
  return result;
}

function listItems(file: string, text: string, over: ValuesPath): { items: YamlNode[] } {
  const document = parseDocument(text);
  const node = document.getIn(over as Array<string | number>, true) as YamlNode | undefined;
  if (!node || !isSeq(node) || node.flow) throw new UpgradeRefusedError(`${file}: ${over.join('.')} is not a block list; the bot adds and removes releases only in block lists.`, 'helm-values-unwritable');
  return { items: node.items as YamlNode[] };
}

/** Whole lines of one block-list item, from its `-` line to the line before the next item. */
function itemSpan(text: string, items: readonly YamlNode[], index: number): [number, number] {
  const lineStart = (at: number) => text.lastIndexOf('\n', at - 1) + 1;
  const item = items[index]!;
  const start = lineStart(item.range![0]);
  const next = items[index + 1];
  if (next) return [start, lineStart(next.range![0])];
  const endOfValue = item.range![1];
  const newline = text.indexOf('\n', Math.max(endOfValue - 1, start));
  return [start, newline < 0 ? text.length : newline + 1];
}

function sourceOf(info: VirtualInfo, path: ReadonlyArray<string | number>): FieldSource | null {
  const exact = info.fields.get(key(path));
  if (exact) return exact;
  for (let n = path.length - 1; n > 0; n--) {
    const ancestor = info.fields.get(key(path.slice(0, n)));
    if (ancestor?.kind === 'subtree') return { kind: 'value', path: [...ancestor.path, ...path.slice(n)] };
    if (ancestor) return null;
  }
  return null;
}

/** For an object created in this plan: its source, moved from the copied element to the new one. */
function relativeSource(info: VirtualInfo, path: ReadonlyArray<string | number>, created: CreatedElement): FieldSource | null {
  const source = sourceOf(info, path);
  if (!source || !startsWith(source.path, created.from)) return null;
  return { ...source, path: [...created.to, ...source.path.slice(created.from.length)] };
}

function invert(source: Extract<FieldSource, { kind: 'derived' }>, value: PatchValue, target: IndexedObject, path: ReadonlyArray<string | number>): PatchValue {
  const text = typeof value === 'string' ? value : null;
  if (text === null || !text.startsWith(source.prefix) || !text.endsWith(source.suffix) || text.length < source.prefix.length + source.suffix.length) {
    throw new UpgradeRefusedError(`${target.kind} ${target.name}: ${path.join('.')} would be ${String(value)}, which the template's '${source.prefix}…${source.suffix}' cannot render.`, 'helm-template-literal');
  }
  return text.slice(source.prefix.length, text.length - source.suffix.length);
}

/** The leaves of a merge patch: lists and scalars are leaves. */
function leaves(patch: MergePatch, prefix: ReadonlyArray<string | number> = []): Array<[ReadonlyArray<string | number>, PatchValue]> {
  return Object.entries(patch).flatMap(([k, v]): Array<[ReadonlyArray<string | number>, PatchValue]> =>
    isRecord(v) ? leaves(v as MergePatch, [...prefix, k]) : [[[...prefix, k], v as PatchValue]],
  );
}

function getAt(value: unknown, path: ReadonlyArray<string | number>): unknown {
  let current = value;
  for (const step of path) {
    if (Array.isArray(current)) current = current[Number(step)];
    else if (isRecord(current)) current = current[String(step)];
    else return undefined;
  }
  return current;
}

/** Sets `path` in `target` (creating maps on the way); `null` deletes, as a values file's null does. */
function setIn(target: Record<string, unknown>, path: ValuesPath, value: unknown): void {
  let at = target;
  for (const step of path.slice(0, -1).map(String)) {
    if (!isRecord(at[step])) at[step] = {};
    at = at[step] as Record<string, unknown>;
  }
  const last = String(path.at(-1));
  if (value === null) delete at[last];
  else at[last] = value;
}

function startsWith(path: ValuesPath, prefix: ValuesPath): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));
}

function isKube(value: unknown): value is KubeObject {
  const v = asDict(value);
  return typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof asDict(v.metadata).name === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
