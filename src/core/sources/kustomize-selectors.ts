/**
 * kustomize `target.labelSelector` / `target.annotationSelector`: Kubernetes selector strings
 * (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated, all must hold).
 * @see https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/patches/
 */
type SelectorTerm =
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'absent'; readonly key: string };

const KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
const VALUE = '[-A-Za-z0-9_.]*';

/** The terms of a selector, or null when it is not a selector the planner can read. */
export function parseSelector(text: string): SelectorTerm[] | null {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  const terms: SelectorTerm[] = [];
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') return null;
    const comparison = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`).exec(part);
    if (comparison) {
      terms.push({ op: comparison[2] === '!=' ? 'notin' : 'in', key: comparison[1]!, values: [comparison[3]!] });
      continue;
    }
    const set = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`).exec(part);
    if (set) {
      const values = set[3]!.split(',').map((v) => v.trim());
      if (values.some((v) => !new RegExp(`^${VALUE}$`).test(v))) return null;
      terms.push({ op: set[2] as 'in' | 'notin', key: set[1]!, values });
      continue;
    }
    const absent = new RegExp(`^!\\s*(${KEY})$`).exec(part);
    if (absent) {
      terms.push({ op: 'absent', key: absent[1]! });
      continue;
    }
    const exists = new RegExp(`^(${KEY})$`).exec(part);
    if (exists) {
      terms.push({ op: 'exists', key: exists[1]! });
      continue;
    }
    return null;
  }
  return terms;
}

/** True when every term holds for the map (labels or annotations). */
export function selectorMatches(terms: readonly SelectorTerm[], map: Readonly<Record<string, string>>): boolean {
  return terms.every((t) => {
    const value = map[t.key];
    switch (t.op) {
      case 'in':
        return value !== undefined && t.values.includes(value);
      case 'notin':
        return value === undefined || !t.values.includes(value);
      case 'exists':
        return value !== undefined;
    }
    // Only 'absent' is left.
    return value === undefined;
  });
}
