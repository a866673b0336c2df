/**
 * A small admission evaluator for Namespaces, over rendered policy objects: what Gatekeeper
 * K8sRequiredLabels constraints and Kyverno validate/mutate rules (the shapes the planner writes
 * and the fixtures use) do to a Namespace at its next CREATE/UPDATE. What it cannot read (a custom
 * Rego template, a Kyverno `deny` condition on anything but the object's labels, a JMESPath it does not know) counts as a rejection when it is
 * enforcing, so a test never passes by ignoring a policy.
 */
import { selectorMatches } from './injection.js';

type Labels = Record<string, string>;
interface PolicyDoc {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}
export interface NamespaceUnderReview {
  readonly name: string;
  readonly labels: Readonly<Labels>;
}
export interface AdmissionResult {
  /** The labels after the mutate rules. */
  readonly labels: Labels;
  /** Enforcing policies that reject it: `<kind>/<name>[ rule]: why`. */
  readonly rejections: string[];
  /** Non-enforcing ones that would report it (warn, dryrun, Audit). */
  readonly reports: string[];
}

const dict = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function namesMatch(patterns: unknown, name: string, absent: boolean): boolean {
  const l = list(patterns);
  if (l.length === 0) return absent;
  return l.some((p) =>
    new RegExp(
      `^${String(p)
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')}$`,
    ).test(name),
  );
}

/** Kyverno value pattern: `a|b`, `!x`, `*`/`?` wildcards; `null`/absent handled by the caller. */
function valueMatches(pattern: unknown, value: string | undefined): boolean {
  const text = String(pattern);
  return text.split('|').some((alt) => {
    const negated = alt.startsWith('!');
    const body = negated ? alt.slice(1) : alt;
    const re = new RegExp(
      `^${body
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    if (value === undefined) return negated;
    return negated ? !re.test(value) : re.test(value);
  });
}

/** A Kyverno pattern over `metadata.labels` (the only part these tests need); other fields throw. */
function kyvernoLabelsPattern(pattern: unknown, labels: Labels): boolean {
  const p = dict(pattern);
  for (const key of Object.keys(p)) if (key !== 'metadata') throw new Error(`evaluator: pattern field ${key} not supported`);
  const meta = dict(p.metadata);
  for (const key of Object.keys(meta)) if (key !== 'labels') throw new Error(`evaluator: pattern field metadata.${key} not supported`);
  for (const [key, expected] of Object.entries(dict(meta.labels))) {
    const anchor = /^([X=])\((.+)\)$/.exec(key);
    if (anchor?.[1] === 'X') {
      if (Object.hasOwn(labels, anchor[2]!)) return false;
    } else if (anchor?.[1] === '=') {
      if (Object.hasOwn(labels, anchor[2]!) && !valueMatches(expected, labels[anchor[2]!])) return false;
    } else if (!valueMatches(expected, labels[key])) {
      return false;
    }
  }
  return true;
}

/** The JMESPath conditions the planner writes: `{{ request.object.metadata.labels."K" || '' }}` Equals/NotEquals a literal. */
function preconditionsHold(preconditions: unknown, labels: Labels): boolean {
  const one = (c: unknown) => {
    const { key, operator, value } = dict(c);
    const m = /^\{\{\s*request\.object\.metadata\.labels\."([^"]+)"\s*\|\|\s*''\s*\}\}$/.exec(String(key));
    if (!m) throw new Error(`evaluator: precondition ${String(key)} not supported`);
    const actual = labels[m[1]!] ?? '';
    if (operator === 'Equals') return actual === String(value);
    if (operator === 'NotEquals') return actual !== String(value);
    throw new Error(`evaluator: operator ${String(operator)} not supported`);
  };
  if (preconditions === undefined) return true;
  if (Array.isArray(preconditions)) return preconditions.every(one);
  const { all, any } = dict(preconditions);
  return list(all).every(one) && (list(any).length === 0 || list(any).some(one));
}

/**
 * A rule's action for this namespace: the rule's `failureAction` (Kyverno >= 1.13) over the
 * policy's `validationFailureAction` (default Audit); a matching override (per rule, or the
 * policy's) wins.
 */
function kyvernoEnforces(policy: PolicyDoc, validate: Record<string, unknown>, ns: NamespaceUnderReview, labels: Labels): boolean {
  let action = String(validate.failureAction ?? policy.spec?.validationFailureAction ?? 'Audit');
  const overrides = validate.failureActionOverrides ?? policy.spec?.validationFailureActionOverrides;
  for (const o of list(overrides).map(dict)) {
    // A Namespace is reviewed as in its own namespace.
    if (
      (o.namespaces === undefined || namesMatch(o.namespaces, ns.name, false)) &&
      (o.namespaceSelector === undefined || selectorMatches(dict(o.namespaceSelector) as never, labels))
    )
      action = String(o.action);
  }
  return /^enforce$/i.test(action);
}

/** A deny rule's conditions over the namespace's labels (any/all, or the legacy list: all); what it cannot read denies. */
function denies(conditions: unknown, labels: Labels): boolean {
  const one = (c: unknown) => {
    const { key, operator, value } = dict(c);
    const m = /^\{\{\s*request\.object\.metadata\.labels\.(?:"([^"]+)"|([A-Za-z_][\w]*))\s*(?:\|\|\s*''\s*)?\}\}$/.exec(String(key));
    if (!m) return true;
    const actual = labels[(m[1] ?? m[2])!] ?? '';
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    // Kyverno reads operators case-insensitively.
    switch (String(operator).toLowerCase()) {
      case 'equals':
        return actual === String(value);
      case 'notequals':
        return actual !== String(value);
      case 'in':
      case 'anyin':
      case 'allin':
        return values.includes(actual);
      case 'notin':
      case 'anynotin':
      case 'allnotin':
        return !values.includes(actual);
      default:
        return true;
    }
  };
  if (conditions === undefined) return true;
  if (Array.isArray(conditions)) return conditions.every(one);
  const { all, any } = dict(conditions);
  return list(all).every(one) && (list(any).length === 0 || list(any).some(one));
}

/** Whether a Kyverno rule's match (and exclude) covers this Namespace. */
function kyvernoSelects(rule: Record<string, unknown>, ns: NamespaceUnderReview, labels: Labels): boolean {
  const covers = (block: unknown) => {
    const blocks = dict(block);
    const parts = [...list(blocks.any), ...list(blocks.all)].map(dict);
    const one = (r: Record<string, unknown>) => {
      const kinds = list(r.kinds);
      return (
        (kinds.includes('Namespace') || kinds.includes('*')) &&
        namesMatch(r.names, ns.name, true) &&
        selectorMatches(dict(r.selector) as never, labels)
      );
    };
    if (parts.length === 0) return blocks.resources !== undefined && one(dict(blocks.resources));
    const matched = parts.map((p) => one(dict(p.resources)));
    return list(blocks.all).length > 0 ? matched.every(Boolean) : matched.some(Boolean);
  };
  return covers(rule.match) && !(rule.exclude !== undefined && covers(rule.exclude));
}

/** Mutations first (Kyverno applies mutate before validate), then every validation. */
export function admitNamespace(policies: readonly PolicyDoc[], ns: NamespaceUnderReview): AdmissionResult {
  let labels: Labels = { 'kubernetes.io/metadata.name': ns.name, ...ns.labels };
  const rejections: string[] = [];
  const reports: string[] = [];
  // A namespaced Policy sees only namespaced objects in its namespace: never a Namespace (cluster-scoped).
  const kyverno = policies.filter((p) => p.apiVersion?.startsWith('kyverno.io/') && p.kind === 'ClusterPolicy');
  for (const policy of kyverno) {
    for (const rule of list(policy.spec?.rules).map(dict)) {
      const patch = dict(dict(dict(dict(rule.mutate).patchStrategicMerge).metadata).labels);
      if (Object.keys(patch).length === 0 || !kyvernoSelects(rule, ns, labels) || !preconditionsHold(rule.preconditions, labels)) continue;
      const next = { ...labels };
      for (const [key, value] of Object.entries(patch)) {
        const add = /^\+\((.+)\)$/.exec(key);
        if (add) {
          if (!(add[1]! in next)) next[add[1]!] = String(value);
        } else next[key] = String(value);
      }
      labels = next;
    }
  }
  for (const policy of kyverno) {
    for (const rule of list(policy.spec?.rules).map(dict)) {
      if (rule.validate === undefined || !kyvernoSelects(rule, ns, labels) || !preconditionsHold(rule.preconditions, labels)) continue;
      const validate = dict(rule.validate);
      const enforcing = kyvernoEnforces(policy, validate, ns, labels);
      let ok: boolean;
      if (validate.pattern !== undefined) ok = kyvernoLabelsPattern(validate.pattern, labels);
      else if (validate.anyPattern !== undefined) ok = list(validate.anyPattern).some((p) => kyvernoLabelsPattern(p, labels));
      else if (validate.deny !== undefined) ok = !denies(dict(validate.deny).conditions, labels);
      else ok = false; // foreach, CEL: not read here
      if (!ok) (enforcing ? rejections : reports).push(`${policy.kind}/${policy.metadata.name} ${String(rule.name)}`);
    }
  }
  for (const constraint of policies.filter((p) => p.apiVersion?.startsWith('constraints.gatekeeper.sh/'))) {
    const spec = dict(constraint.spec);
    const match = dict(spec.match);
    const kinds = list(match.kinds).flatMap((k) => list(dict(k).kinds));
    if (kinds.length > 0 && !kinds.includes('Namespace') && !kinds.includes('*')) continue;
    if (!namesMatch(match.namespaces, ns.name, true) || namesMatch(match.excludedNamespaces, ns.name, false)) continue;
    if (!selectorMatches(dict(match.labelSelector) as never, labels) || !selectorMatches(dict(match.namespaceSelector) as never, labels))
      continue;
    const action = String(spec.enforcementAction ?? 'deny');
    let ok: boolean;
    if (constraint.kind === 'K8sRequiredLabels') {
      ok = list(dict(spec.parameters).labels)
        .map(dict)
        .every((l) => {
          const value = labels[String(l.key)];
          return value !== undefined && (l.allowedRegex === undefined || new RegExp(String(l.allowedRegex)).test(value));
        });
    } else ok = false; // a custom Rego template: not read here
    if (!ok) (action === 'deny' ? rejections : reports).push(`${constraint.kind}/${constraint.metadata.name}`);
  }
  return { labels, rejections, reports };
}
