import { parseDocument } from 'yaml';
import type { Desired } from '../../model/desired.js';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict } from '../../model/kube.js';
import type { MergePatch, PatchValue } from '../../model/merge-patch.js';
import type { IndexedObject } from '../../model/objects.js';
import { deepEqual, mergePatchBetween } from '../../writer/patch-data.js';
import { editYamlText } from '../../writer/yaml-patch.js';
import type { CreatedElement } from './chart-field-sources.js';
import { getAt, invert, leaves, relativeSource, setIn, sourceOf, startsWith } from './chart-field-sources.js';
import {
  type AppOfApps,
  isRecord,
  key,
  type LocalChart,
  mergeValues,
  readValues,
  type ValuesLayer,
  type VirtualInfo,
  virtual,
  virtualObjects,
} from './helm-app-of-apps.js';

import { renderTemplate, type ValuesPath } from './helm-template.js';
import { addValuesBlock, renameValuesKey, rewriteLiteralLine, valuesKeyForRevision } from './helm-template-copy.js';
import { overrideFileFor, refuseSharedValuesFile } from './shared-values-files.js';
import { addListElement, removeListElement, toPatch } from './values-list-text.js';

export class ValuesWriter {
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
      if (!source || !under)
        throw this.literal(basedOn, info, path, " (a new release copies the old one's list element; this field does not come from it)");
      const relative = source.path.slice(elementPath.length);
      // A field the new release drops renders empty: `[]`/`{}` of the old value's kind, not `null`.
      const oldValue = getAt(basedOn.body, path);
      const emptied = value === null ? (Array.isArray(oldValue) ? [] : isRecord(oldValue) ? {} : null) : value;
      const v = source.kind === 'derived' ? invert(source, emptied, basedOn, path) : emptied;
      const previous = elementEdits.get(key(relative));
      if (previous && !deepEqual(previous.value, v))
        throw new UpgradeRefusedError(
          `${info.template}: ${relative.join('.')} would need two values (${String(previous.value)}, ${String(v)}) for the new release.`,
          'helm-values-conflict',
        );
      elementEdits.set(key(relative), { path: relative, value: v });
    }
    const listFile = this.fileSetting(info.chart, iteration.over);
    if (!listFile)
      throw new UpgradeRefusedError(
        `${info.template}: the list ${iteration.over.join('.')} is not set in a values file.`,
        'helm-values-inline',
      );
    // A new element of a list in a values file another Application lists would reach it too.
    refuseSharedValuesFile(
      this.aoa,
      info.chart,
      listFile,
      iteration.over,
      'a new element of the list would reach the other Applications too',
    );
    const text = this.repo.get(listFile)!;
    const data = asDict(parseDocument(text).toJS());
    const list = getAt(data, iteration.over.map(String));
    const old = Array.isArray(list) ? list[iteration.key] : undefined;
    const newName = elementEdits.get(key(['name']))?.value;
    if (Array.isArray(list) && list.some((e) => isRecord(e) && e.name === newName)) {
      this.lastFile = listFile;
      this.created.set(`${file}|${json.metadata.name}`, {
        info,
        from: elementPath,
        to: [...iteration.over, list.findIndex((e) => isRecord(e) && e.name === newName)],
      });
      return;
    }
    if (!isRecord(old) || typeof old.name !== 'string')
      throw new UpgradeRefusedError(
        `${listFile}: the elements of ${iteration.over.join('.')} need a name to copy one.`,
        'helm-values-unnamed',
      );
    const edited = addListElement(
      listFile,
      text,
      iteration.over,
      iteration.key,
      [...elementEdits.values()],
      String(old.name),
      String(newName ?? ''),
    );
    this.write(listFile, edited);
    this.created.set(`${file}|${json.metadata.name}`, { info, from: elementPath, to: [...iteration.over, (list as unknown[]).length] });
  }

  /** Removes the list element a rendered object comes from; true when a file changed. */
  remove(object: IndexedObject): boolean {
    const info = virtual.get(object)!;
    const iteration = info.iteration;
    if (!iteration) return this.removeRendered(object, info);
    if (typeof iteration.key !== 'number') {
      throw new UpgradeRefusedError(
        `${object.kind} ${object.name} is rendered by ${info.template} without a range over a values list; remove it by hand (its enable flag or template).`,
        'helm-template-no-list',
      );
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
      new UpgradeRefusedError(
        `${basedOn.kind} ${basedOn.name} is rendered by ${info.template} from scalar values; the new release would be a copy of that template, but ${why} Add the new release's template by hand, then plan again.`,
        code,
      );
    const renderers = this.aoa.charts.filter((c) => c.dir === chart.dir);
    if (renderers.length > 1)
      throw refuse(
        `the chart ${chart.dir} is rendered by several Applications (${renderers.map((c) => c.app.name).join(', ')}), and a new template would render in each of them.`,
        'helm-chart-shared',
      );
    const siblings = this.aoa.objects.filter((o) => o !== basedOn && virtual.get(o)?.template === info.template);
    if (siblings.length > 0)
      throw refuse(
        `that template also renders ${siblings.map((o) => `${o.kind} ${o.name}`).join(', ')}, which a copy would render twice.`,
        'helm-template-no-list',
      );
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
      if (typeof top !== 'string' || (key !== null && key !== top))
        throw refuse(`the fields it changes come from more than one values key (${key}, ${String(top)}).`, 'helm-template-literal');
      key = top;
      edits.push({ path: source.path.slice(1), value: source.kind === 'derived' ? invert(source, value, basedOn, path) : value });
    }
    if (key === null) throw refuse('none of the fields that differ comes from the values.', 'helm-template-literal');
    const newKey = valuesKeyForRevision(key, revision.from, revision.to);
    const merged = this.mergedValues(chart, this.repo);
    if (merged[newKey] !== undefined || this.repo.has(file)) {
      throw refuse(
        `${merged[newKey] !== undefined ? `the values key ${newKey}` : file} is already there without rendering ${json.kind} ${json.metadata.name}.`,
        'helm-values-conflict',
      );
    }
    const renamed = renameValuesKey(this.repo.get(info.template)!, key, newKey);
    if (renamed === null) throw refuse(`the template does not read .Values.${key} by name.`, 'helm-template-literal');
    let copy: string = renamed;
    for (const literal of literals) {
      const old = getAt(basedOn.body, literal.path);
      const field = literal.path.at(-1);
      const line: string | null =
        typeof old === 'string' && typeof literal.value === 'string' && typeof field === 'string'
          ? rewriteLiteralLine(copy, field, old, literal.value)
          : null;
      if (line === null)
        throw this.literal(
          basedOn,
          info,
          literal.path,
          " (the new release's template is a copy of this one, and no single line of it sets this field)",
        );
      copy = line;
    }
    const expected = structuredClone(asDict(merged[key])) as Record<string, unknown>;
    for (const edit of edits) setIn(expected, edit.path, edit.value);
    const valuesFile = this.fileSetting(chart, [key]);
    if (!valuesFile)
      throw new UpgradeRefusedError(
        `the value ${key} of chart ${chart.dir} is set inline in Application ${chart.app.name} (${chart.app.file}); the bot edits values files only.`,
        'helm-values-inline',
      );
    refuseSharedValuesFile(this.aoa, chart, valuesFile, [key], 'a new values block there would reach the other Applications too');
    const values = addValuesBlock(valuesFile, this.repo.get(valuesFile)!, key, newKey, expected);
    // Rendered before anything is written: the copy must give exactly the planned release.
    const next = new Map(this.repo).set(valuesFile, values).set(file, copy);
    const result = renderTemplate(copy, this.mergedValues(chart, next), chart.release ?? { name: chart.app.name, namespace: 'default' });
    const rendered = result.ok ? virtualObjects(chart, file, result.output, result.substitutions, result.iterations, result.guards) : [];
    const object = rendered.length === 1 ? rendered[0]! : null;
    const off = object ? leaves(mergePatchBetween(object.body, json)).map(([p]) => p.join('.')) : [];
    if (!object || off.length > 0) {
      throw refuse(
        `the copy would not render it as planned (${result.ok ? (object ? `differs at ${off.join(', ')}` : `${rendered.length} objects`) : `line ${result.line}: ${result.reason}`}).`,
        'helm-template-literal',
      );
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
        return (
          other.chart === chart &&
          (other.guards.some((g) => deepEqual(g.path, path)) ||
            [...other.fields.values()].some((f) => startsWith(path, f.path) || startsWith(f.path, path)))
        );
      });
    for (const guard of info.guards) {
      if (getAt(values, guard.path) !== true || readers(guard.path).length > 0) continue;
      const file = this.fileSetting(chart, guard.path.slice(0, 1));
      if (!file) continue;
      const text = this.repo.get(file)!;
      const patch = guard.path.reduceRight<PatchValue>((inner, k) => ({ [String(k)]: inner }), false) as MergePatch;
      const edited = editYamlText(file, text, [{ documentIndex: 0, kind: null, name: null, patch }]) ?? '';
      if (getAt(asDict(parseDocument(edited).toJS()), guard.path) !== false)
        throw new UpgradeRefusedError(`${file}: could not set ${guard.path.join('.')} to false safely.`, 'helm-values-unwritable');
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
    return chart.layers.reduce<Record<string, unknown>>(
      (merged, layer) => mergeValues(merged, layer.file ? readValues(layer.file, repo.get(layer.file)!) : layer.data),
      {},
    );
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
      for (const file of files)
        refuseSharedValuesFile(
          this.aoa,
          chart,
          file,
          path,
          'the value would be removed from it (the writer removes keys; it cannot override one with null)',
        );
    } else {
      let file = this.fileSetting(chart, holderPath);
      for (let n = holderPath.length - 1; file === null && n >= 0; n--) file = this.fileSetting(chart, holderPath.slice(0, n));
      if (file === '')
        throw new UpgradeRefusedError(
          `the value ${path.join('.')} of chart ${chart.dir} is set inline in Application ${chart.app.name} (${chart.app.file}); the bot edits values files only.`,
          'helm-values-inline',
        );
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

/** Elements added by earlier phases of the same plan, by the file and name of the created object. */
const createdByPlan = new WeakMap<AppOfApps, Map<string, CreatedElement>>();
