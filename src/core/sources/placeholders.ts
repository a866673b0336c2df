import { posix } from 'node:path';
import { load } from 'js-yaml';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { FileChange, RepoSnapshot } from '../../model/snapshot.js';
import { RevisionName } from '../revision.js';

/**
 * Placeholders are not revisions. A revision-like field whose value is a template placeholder
 * (`${var}`, `{{ .Values.revision }}`, `$(REV)`) or a kpt setter placeholder (`MESH-REV # kpt-set:
 * ${mesh-rev}`, asmcli's `ASM_REV`) is never read as a revision: when a kpt setter feeds it, the
 * setter's value (from the Kptfile's apply-setters config, or a v1alpha1 Kptfile's setter
 * definitions) is what `kpt fn render` writes there, and discovery reads that; otherwise the value is
 * ignored. Either way a warning names the file and where the real value comes from.
 */

/** A kpt setter and where its value is set. */
interface KptSetter {
  readonly name: string;
  readonly value: string;
  /** The file that holds the value: the Kptfile, or the apply-setters config file it names. */
  readonly file: string;
  /** The package directory (the Kptfile's); the setter feeds files under it. */
  readonly packageDir: string;
}

/** A value that cannot be a revision: template syntax, or not a lowercase DNS-1123 label. */
export function isPlaceholderRevision(value: string): boolean {
  return /\$\{|\{\{|\$\(|<[^>]*>/.test(value) || !RevisionName.safeParse(value).success;
}

/** The kpt setters of every package in the repo (Kptfile `kpt.dev/v1` apply-setters, or `v1alpha1` setter definitions). */
function readKptSetters(snapshot: RepoSnapshot): KptSetter[] {
  const setters: KptSetter[] = [];
  for (const [path, text] of snapshot) {
    if (posix.basename(path) !== 'Kptfile') continue;
    const packageDir = posix.dirname(path);
    const kptfile = safeLoad(text);
    if (!kptfile) continue;
    // v1alpha1 (the asmcli/ASM packages' shape): openAPI.definitions["io.k8s.cli.setters.<name>"].x-k8s-cli.setter.
    const definitions = dict(dict(kptfile.openAPI).definitions);
    for (const [key, definition] of Object.entries(definitions)) {
      if (!key.startsWith('io.k8s.cli.setters.')) continue;
      const setter = dict(dict(dict(definition)['x-k8s-cli']).setter);
      const value = scalar(setter.value);
      if (value !== null)
        setters.push({ name: scalar(setter.name) ?? key.slice('io.k8s.cli.setters.'.length), value, file: path, packageDir });
    }
    // v1: pipeline.mutators[] running apply-setters, with an inline configMap or a configPath file.
    const mutators = Array.isArray(dict(kptfile.pipeline).mutators) ? (dict(kptfile.pipeline).mutators as unknown[]) : [];
    for (const mutator of mutators.map(dict)) {
      if (!/apply-setters/.test(scalar(mutator.image) ?? '')) continue;
      let data = dict(mutator.configMap);
      let file = path;
      const configPath = scalar(mutator.configPath);
      if (configPath) {
        file = posix.normalize(posix.join(packageDir, configPath));
        data = dict(dict(safeLoad(snapshot.get(file) ?? '')).data);
      }
      for (const [name, value] of Object.entries(data)) {
        const text = scalar(value);
        if (text !== null) setters.push({ name, value: text, file, packageDir });
      }
    }
  }
  return setters;
}

/** The setter a field's line comment names: `# kpt-set: ${name}` (with any text around it) or `# {"$ref":"#/definitions/io.k8s.cli.setters.<name>"}`. */
function setterReference(comment: string): { name: string; pattern: string } | null {
  const kptSet = /kpt-set:\s*(\S+)/.exec(comment);
  if (kptSet) {
    const pattern = kptSet[1]!;
    const name = /\$\{([^}]+)\}/.exec(pattern)?.[1];
    return name ? { name, pattern } : null;
  }
  const ref = /"\$ref"\s*:\s*"#\/definitions\/io\.k8s\.cli\.(?:setters|substitutions)\.([^"]+)"/.exec(comment);
  return ref ? { name: ref[1]!, pattern: `\${${ref[1]}}` } : null;
}

/** The setter of that name nearest to `file` (the innermost package that holds it). */
function setterFor(setters: readonly KptSetter[], file: string, name: string): KptSetter | null {
  const within = setters.filter((s) => s.name === name && (s.packageDir === '.' || file.startsWith(`${s.packageDir}/`)));
  return within.sort((a, b) => b.packageDir.length - a.packageDir.length)[0] ?? null;
}

/** A line that sets a revision: `istio.io/rev: X`, `revision: X`, `revision_name: X`, with an optional line comment. */
const REVISION_FIELD = /^(\s*(?:-\s+)?)(["']?)(istio\.io\/rev|revision|revision_name)\2(\s*:\s*)(["']?)([^"'#\s][^"'#]*?|)\5(\s+#.*)?$/;

interface SetterField {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  /** The value as written in the file. */
  readonly literal: string;
  readonly setter: KptSetter | null;
  readonly setterName: string | null;
  /** What `kpt fn render` writes there: the setter's value in the field's pattern. */
  readonly rendered: string | null;
}

/** Every revision field of the repo that is a placeholder or that a kpt setter feeds. */
export function revisionFields(snapshot: RepoSnapshot, setters: readonly KptSetter[] = readKptSetters(snapshot)): SetterField[] {
  const fields: SetterField[] = [];
  for (const [file, text] of snapshot) {
    if (!/\.ya?ml$/.test(file)) continue;
    // `{{ }}` in an ApplicationSet template or a chart's templates is read by the planner itself
    // (generator elements, values files): not a placeholder to report.
    const templated = /^kind:\s*ApplicationSet\s*$/m.test(text) || /(^|\/)templates\//.test(file);
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const match = REVISION_FIELD.exec(line);
      if (!match) return;
      const literal = match[6]!.trim();
      if (literal === '') return;
      const reference = match[7] ? setterReference(match[7]) : null;
      if (!reference && !isPlaceholderRevision(literal)) return;
      if (!reference && templated && literal.includes('{{')) return;
      const setter = reference ? setterFor(setters, file, reference.name) : null;
      const rendered =
        reference && setter
          ? reference.pattern.replace(/\$\{([^}]+)\}/g, (all, name: string) => setterFor(setters, file, name)?.value ?? all)
          : null;
      fields.push({
        file,
        line: i + 1,
        key: match[3]!,
        literal,
        setter,
        setterName: reference?.name ?? null,
        rendered: rendered && !isPlaceholderRevision(rendered) ? rendered : null,
      });
    });
  }
  return fields;
}

/**
 * The repo as discovery should read it: every placeholder revision that a kpt setter feeds is
 * replaced by the setter's value (only in the text discovery parses, never in what is written), and
 * a warning says so; other placeholders stay, and discovery ignores them (see
 * {@link isPlaceholderRevision}). A real revision that contradicts its setter is reported too: the
 * next `kpt fn render` would overwrite it.
 */
export function resolvePlaceholders(snapshot: RepoSnapshot): { snapshot: RepoSnapshot; warnings: PlanWarning[]; fields: SetterField[] } {
  const fields = revisionFields(snapshot);
  const warnings: PlanWarning[] = [];
  const resolved = new Map(snapshot);
  const byFile = new Map<string, SetterField[]>();
  for (const field of fields) byFile.set(field.file, [...(byFile.get(field.file) ?? []), field]);
  for (const [file, list] of byFile) {
    const lines = snapshot.get(file)!.split('\n');
    for (const field of list) {
      const where = `${field.file}:${field.line}`;
      if (!isPlaceholderRevision(field.literal)) {
        if (field.rendered && field.rendered !== field.literal) {
          warnings.push({
            code: 'kpt-setter-drift',
            message: `${where}: ${field.key} is ${field.literal} but kpt setter ${field.setterName} (${field.setter!.file}) says ${field.rendered}; the next kpt fn render sets it back to ${field.rendered}. Set ${field.setterName} in ${field.setter!.file} to ${field.literal} once every field it feeds has moved, or drop the kpt-set comment from this field.`,
            file: field.file,
          });
        }
        continue;
      }
      if (field.rendered) {
        lines[field.line - 1] = lines[field.line - 1]!.replace(field.literal, field.rendered);
        warnings.push({
          code: 'placeholder-revision',
          message: `${where}: ${field.key} holds the kpt setter placeholder ${field.literal}, not a revision; read as ${field.rendered}, the value of setter ${field.setterName} in ${field.setter!.file} (what kpt fn render writes there).`,
          file: field.file,
        });
      } else {
        const source = field.setterName
          ? `kpt setter ${field.setterName}, which no Kptfile above ${field.file} sets`
          : 'whatever renders this file (Helm values, kpt setters, envsubst or a CI step)';
        warnings.push({
          code: 'placeholder-revision',
          message: `${where}: ${field.key} holds ${field.literal}, a placeholder, not a revision; it is ignored (never used as a revision). The real value comes from ${source}: commit the rendered value or the setter.`,
          file: field.file,
        });
      }
    }
    resolved.set(file, lines.join('\n'));
  }
  return { snapshot: resolved, warnings, fields };
}

function safeLoad(text: string): Record<string, unknown> | null {
  try {
    const value = load(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function dict(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function scalar(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
}

/**
 * Edits of setter-fed fields go to the setter's value: when a phase moves every field a kpt setter
 * feeds to `target`, the setter's value in its Kptfile (or config file) moves with them, so that the
 * next `kpt fn render` writes what the phase wrote. When a phase moves only some of them, the setter
 * cannot follow (it would move the others too): a warning names the file and the setter.
 * `before` and `after` are the repo around one phase; returns the setter files to change too.
 */
export function followSetters(
  before: RepoSnapshot,
  after: RepoSnapshot,
  target: string,
  phaseId: string,
): { files: FileChange[]; warnings: PlanWarning[] } {
  const setters = readKptSetters(before);
  if (setters.length === 0) return { files: [], warnings: [] };
  const fieldsBefore = revisionFields(before, setters).filter((f) => f.setter);
  const fieldsAfter = revisionFields(after, setters).filter((f) => f.setter);
  const files = new Map<string, string>();
  const warnings: PlanWarning[] = [];
  for (const setter of setters) {
    const fedBefore = fieldsBefore.filter((f) => f.setter === setter);
    const fedAfter = fieldsAfter.filter((f) => f.setter === setter);
    const edited = new Set(fedAfter.filter((f) => after.get(f.file) !== before.get(f.file) && f.literal === target).map((f) => f.file));
    if (edited.size === 0 || setter.value === target) continue;
    const whole =
      fedAfter.length === fedBefore.length &&
      fedAfter.every((f) => f.literal === target) &&
      fedBefore.every((f) => f.rendered === setter.value);
    const text = files.get(setter.file) ?? after.get(setter.file);
    const line = new RegExp(
      `^(\\s*["']?${setter.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:\\s*)(["']?)${setter.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\2(\\s*(#.*)?)$`,
      'm',
    );
    if (whole && text !== undefined && line.test(text)) {
      files.set(setter.file, text.replace(line, `$1$2${target}$2$3`));
      continue;
    }
    for (const file of edited) {
      warnings.push({
        code: 'kpt-setter-edit',
        message: `phase ${phaseId} edits ${file}, whose revision field kpt setter ${setter.name} (${setter.file}) feeds; the setter feeds other fields that do not move now, so the next kpt fn render would revert the edit to ${setter.value}. Set ${setter.name} to ${target} once every field it feeds has moved, or drop the kpt-set comment from the field.`,
        file,
      });
    }
  }
  return { files: [...files].map(([path, content]) => ({ path, action: 'update' as const, content })), warnings };
}
