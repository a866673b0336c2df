import { pointer } from '../../constructs/desired-object.js';
import { asDict, INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';

export interface PolicyChange {
  readonly body: Record<string, unknown>;
  /** JSON pointers of fields to remove. */
  readonly remove: readonly string[];
}

/** Labels whose rules a relabel (istio-injection → istio.io/rev) runs into. */
export const MESH_LABELS = [INJECTION_LABEL, REV_LABEL];

/**
 * An admission policy in the repo that would reject or undo the relabel: a Gatekeeper constraint
 * or Kyverno rule on Namespaces or Pods that requires `istio-injection`, forbids `istio.io/rev`,
 * or writes `istio-injection` back.
 */
export interface InjectionPolicy {
  readonly object: IndexedObject;
  readonly engine: 'gatekeeper' | 'kyverno';
  /** What it does to a relabelled namespace, for the PR body. */
  readonly effect: string;
  /** The edit that lets the relabel through; null when it is already in the repo, or none is expressible. */
  readonly relax: PolicyChange | null;
  /** The edit that restores enforcement at cleanup, once every namespace is relabelled; null: nothing to restore. */
  readonly restore: PolicyChange | null;
  /** What a person must do instead of (or after) the edits. */
  readonly manual: readonly string[];
  /** Whether the policy applies to a namespace (by its name and labels before the relabel); unknown counts as yes. */
  readonly selects: (namespace: { readonly name: string; readonly labels: Readonly<Record<string, string>> }) => boolean;
}

export function mentionsMeshLabel(value: unknown): boolean {
  // What a rule checks, not what its message says.
  const checked =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'message'))
      : value;
  const text = typeof checked === 'string' ? checked : JSON.stringify(checked ?? null);
  return MESH_LABELS.some((label) => text.includes(label));
}

export function appliesToNamespacesOrPods(kinds: readonly unknown[]): boolean {
  return kinds.length === 0 || kinds.some((k) => k === 'Namespace' || k === 'Pod' || k === '*');
}

/** A label selector's matchExpressions, as written. */
export function selectorExpressions(selector: unknown): unknown[] {
  const expressions = asDict(selector).matchExpressions;
  return Array.isArray(expressions) ? expressions : [];
}

/** The selector expression that leaves out namespaces the original requirement of istio-injection accepted. */
export function notEnrolledByInjection(injection: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return injection.allowedRegex === undefined
    ? { key: INJECTION_LABEL, operator: 'DoesNotExist' }
    : { key: INJECTION_LABEL, operator: 'NotIn', values: ['enabled'] };
}

/** Written where a policy's enforcement is paused for the upgrade: the value to put back at cleanup. */
export const PAUSED_ANNOTATION = 'mesh-upgrade-bot.io/enforcement-paused-from';

/** The paused field was absent (the engine's default applies). */
export const ABSENT = 'unset';

export function pausedEnforcement(object: IndexedObject): string | null {
  const value = asDict(asDict(object.body.metadata).annotations)[PAUSED_ANNOTATION];
  return typeof value === 'string' ? value : null;
}

/** The relaxed spec fields, with the value they replace kept in an annotation. */
export function pause(spec: Record<string, unknown>, original: string): PolicyChange {
  return { body: { metadata: { annotations: { [PAUSED_ANNOTATION]: original } }, spec }, remove: [] };
}

/** The restored spec fields, the annotation removed (with `annotations` when it was the only one). */
export function resume(object: IndexedObject, spec: Record<string, unknown>, remove: readonly string[]): PolicyChange {
  const annotations = Object.keys(asDict(asDict(object.body.metadata).annotations));
  const onlyOurs = annotations.length === 0 || (annotations.length === 1 && annotations[0] === PAUSED_ANNOTATION);
  return {
    body: { spec },
    remove: [...remove, onlyOurs ? pointer('metadata', 'annotations') : pointer('metadata', 'annotations', PAUSED_ANNOTATION)],
  };
}

/** Kubernetes label selector semantics (matchLabels AND matchExpressions); an absent selector selects all. */
export function labelSelectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined || selector === null) return true;
  const { matchLabels, matchExpressions } = asDict(selector);
  for (const [key, value] of Object.entries(asDict(matchLabels))) if (labels[key] !== String(value)) return false;
  for (const expression of Array.isArray(matchExpressions) ? matchExpressions.map(asDict) : []) {
    const key = String(expression.key);
    const values = Array.isArray(expression.values) ? expression.values.map(String) : [];
    const has = Object.hasOwn(labels, key);
    const ok =
      expression.operator === 'In'
        ? has && values.includes(labels[key]!)
        : expression.operator === 'NotIn'
          ? !has || !values.includes(labels[key]!)
          : expression.operator === 'Exists'
            ? has
            : expression.operator === 'DoesNotExist'
              ? !has
              : true;
    if (!ok) return false;
  }
  return true;
}

/** A name list with `*` wildcards (prefix or suffix, as Gatekeeper and Kyverno allow); absent: `absent`. */
export function namesMatch(list: unknown, name: string, absent: boolean): boolean {
  if (!Array.isArray(list) || list.length === 0) return absent;
  return list.some((pattern) =>
    new RegExp(
      `^${String(pattern)
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')}$`,
    ).test(name),
  );
}

export function matchedKinds(rule: Readonly<Record<string, unknown>>): unknown[] {
  const match = asDict(rule.match);
  const blocks = [match, ...(['any', 'all'] as const).flatMap((k) => (Array.isArray(match[k]) ? (match[k] as unknown[]).map(asDict) : []))];
  return blocks.flatMap((b) => {
    const kinds = asDict(b.resources).kinds;
    return Array.isArray(kinds) ? kinds : [];
  });
}
