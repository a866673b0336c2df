/**
 * The kustomization text without the entry that lists a patch file, in the forms the plain
 * `- path: <file>` match misses: a `patches:` item whose `path:` is not its first key (`- target:`
 * first), and a `patchesStrategicMerge:` string item. The item's lines go, with the comment lines
 * right above it. Null when no such entry is there.
 */
export function withoutPatchEntry(text: string, relative: string): string | null {
  const lines = text.split('\n');
  const file = `["']?(?:\\./)?${relative.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?[ \\t]*(?:#.*)?$`;
  const pathLine = new RegExp(`^([ \\t]*)path:[ \\t]*${file}`);
  const stringItem = new RegExp(`^([ \\t]*)-[ \\t]+${file}`);
  const indent = (l: string) => l.length - l.trimStart().length;
  for (const [at, line] of lines.entries()) {
    let start = -1;
    if (pathLine.test(line)) {
      // The `- ` line of the item this key belongs to.
      for (let i = at - 1; i >= 0; i--) {
        const l = lines[i]!;
        if (l.trim() === '' || l.trimStart().startsWith('#')) continue;
        if (indent(l) >= indent(line)) continue;
        if (
          /^[ \t]*-[ \t]/.test(l) &&
          indent(l) + l.trimStart().slice(1).length - l.trimStart().slice(1).trimStart().length + 1 === indent(line)
        )
          start = i;
        break;
      }
    } else if (stringItem.test(line)) {
      const top = [...lines.slice(0, at)].reverse().find((l) => /^[^\s#-]/.test(l));
      if (top && /^patchesStrategicMerge:/.test(top)) start = at;
    }
    if (start < 0) continue;
    const dash = indent(lines[start]!);
    let end = start + 1;
    while (end < lines.length && (lines[end]!.trim() === '' ? false : indent(lines[end]!) > dash)) end++;
    let from = start;
    while (from > 0 && /^[ \t]*#/.test(lines[from - 1]!) && indent(lines[from - 1]!) === dash) from--;
    return [...lines.slice(0, from), ...lines.slice(end)].join('\n');
  }
  return null;
}
