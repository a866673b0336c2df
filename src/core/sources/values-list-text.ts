import { isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { UpgradeRefusedError } from '../../model/errors.js';
import { asDict } from '../../model/kube.js';
import type { MergePatch, PatchValue } from '../../model/merge-patch.js';
import { deepEqual } from '../../writer/patch-data.js';
import { patchYamlMappingText } from '../../writer/yaml-patch.js';
import { getAt } from './chart-field-sources.js';
import { isRecord } from './helm-app-of-apps.js';
import type { ValuesPath } from './helm-template.js';

/** A merge patch setting `path` (list indices become the writer's named-element patches). */
export function toPatch(file: string, data: unknown, path: ValuesPath, value: PatchValue): MergePatch {
  const build = (at: unknown, i: number): PatchValue => {
    if (i === path.length) return value;
    const step = path[i]!;
    if (typeof step === 'number') {
      const element = Array.isArray(at) ? at[step] : undefined;
      if (!isRecord(element) || typeof element.name !== 'string')
        throw new UpgradeRefusedError(
          `${file}: element ${step} of ${path.slice(0, i).join('.')} has no name; the bot edits list elements by name.`,
          'helm-values-unnamed',
        );
      return [{ name: element.name, ...(build(element, i + 1) as MergePatch) }];
    }
    return { [step]: build(asDict(at)[step], i + 1) };
  };
  return build(data, 0) as MergePatch;
}

export function addListElement(
  file: string,
  text: string,
  over: ValuesPath,
  index: number,
  edits: ReadonlyArray<{ path: ReadonlyArray<string | number>; value: PatchValue }>,
  oldName: string,
  newName: string,
): string {
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
  const result =
    text.slice(0, lastEnd) + (text.slice(0, lastEnd).endsWith('\n') ? '' : '\n') + copy.replace(/\n?$/, '\n') + text.slice(lastEnd);
  const after = getAt(asDict(parseDocument(result).toJS()), over.map(String));
  if (!Array.isArray(after) || after.length !== items.length + 1)
    throw new UpgradeRefusedError(`${file}: could not add an element to ${over.join('.')} safely.`, 'helm-values-unwritable');
  return result;
}

export function removeListElement(file: string, text: string, over: ValuesPath, index: number): string {
  const { items } = listItems(file, text, over);
  if (items.length <= 1)
    throw new UpgradeRefusedError(
      `${file}: ${over.join('.')} would be left empty; the bot never removes the only release.`,
      'helm-values-unwritable',
    );
  const [start, end] = itemSpan(text, items, index);
  const result = text.slice(0, start) + text.slice(end);
  const before = getAt(asDict(parseDocument(text).toJS()), over.map(String)) as unknown[];
  const after = getAt(asDict(parseDocument(result).toJS()), over.map(String));
  if (
    !deepEqual(
      after,
      before.filter((_, i) => i !== index),
    )
  )
    throw new UpgradeRefusedError(`${file}: could not remove element ${index} of ${over.join('.')} safely.`, 'helm-values-unwritable');
  return result;
}

function listItems(file: string, text: string, over: ValuesPath): { items: YamlNode[] } {
  const document = parseDocument(text);
  const node = document.getIn(over as Array<string | number>, true) as YamlNode | undefined;
  if (!node || !isSeq(node) || node.flow)
    throw new UpgradeRefusedError(
      `${file}: ${over.join('.')} is not a block list; the bot adds and removes releases only in block lists.`,
      'helm-values-unwritable',
    );
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
