/**
 * kustomize patch `target.name`/`target.namespace` are Go RE2 regexes anchored to the whole
 * string. JS lacks some RE2 syntax; what it can be translated to is, the rest is null (the caller
 * refuses with a clear error, never a SyntaxError stack trace).
 * @see https://github.com/google/re2/wiki/Syntax
 */
export function re2ToRegExp(pattern: string): RegExp | null {
  let body = pattern;
  let flags = '';
  // Leading inline flags: (?i), (?s), (?m), (?is) ... JS has them as RegExp flags.
  const lead = /^\(\?([ims]+)\)/.exec(body);
  if (lead) {
    flags = [...new Set(lead[1]!)].join('');
    body = body.slice(lead[0].length);
  }
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const n = body[i + 1];
      if (n === undefined) return null;
      if (n === 'z') out += '(?![\\s\\S])';
      else if (n === 'A') out += '(?<![\\s\\S])';
      else if (/[pPQEC]/.test(n))
        return null; // Unicode classes, quoting, single bytes: left untranslated
      else out += c + n;
      i++;
    } else if (body.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (body.startsWith('(?', i) && !/^\(\?(?::|<[A-Za-z])/.test(body.slice(i))) {
      return null; // inline flags elsewhere, lookarounds (RE2 has none)
    } else if (c === '[' && body.startsWith('[[:', i)) {
      return null; // POSIX classes
    } else out += c;
  }
  try {
    return new RegExp(`^(?:${out})$`, flags);
  } catch {
    return null;
  }
}
