import { DesiredObject, pointer } from '../../constructs/desired-object.js';
import type { PlacedObject } from '../../model/placed-object.js';
import { asDict, describe, getPath, INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { YamlIndex } from '../repo-index.js';
import type { DraftScope, PhaseDraft, PlanContext } from './context.js';

export interface PolicyChange {
  readonly body: Record<string, unknown>;
  /** JSON pointers of fields to remove. */
  readonly remove: readonly string[];
}

/** Labels whose rules a relabel (istio-injection → istio.io/rev) runs into. */
const MESH_LABELS = [INJECTION_LABEL, REV_LABEL];

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

/**
 * Policies in the repo that a relabel runs into. Policies that do not mention the mesh labels
 * (mTLS, authorization, resource limits) are left alone.
 */
export function findInjectionPolicies(index: YamlIndex, newRevision: string): InjectionPolicy[] {
  const templates = new Map(index.ofKind('ConstraintTemplate').filter((t) => t.apiVersion.startsWith('templates.gatekeeper.sh/')).map((t) => [t.name, t]));
  const found: InjectionPolicy[] = [];
  for (const object of index.objects) {
    if (object.isPatch) continue;
    if (object.apiVersion.startsWith('constraints.gatekeeper.sh/')) {
      const policy = gatekeeperConstraint(object, templates.get(object.kind.toLowerCase()) ?? null);
      if (policy) found.push(policy);
    } else if (object.apiVersion.startsWith('kyverno.io/') && (object.kind === 'ClusterPolicy' || object.kind === 'Policy')) {
      const policy = kyvernoPolicy(object, newRevision);
      if (policy) found.push(policy);
    }
  }
  return found;
}

function mentionsMeshLabel(value: unknown): boolean {
  // What a rule checks, not what its message says.
  const checked = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'message')) : value;
  const text = typeof checked === 'string' ? checked : JSON.stringify(checked ?? null);
  return MESH_LABELS.some((label) => text.includes(label));
}

function appliesToNamespacesOrPods(kinds: readonly unknown[]): boolean {
  return kinds.length === 0 || kinds.some((k) => k === 'Namespace' || k === 'Pod' || k === '*');
}

/**
 * Gatekeeper: a constraint whose parameters (K8sRequiredLabels' `labels`) or whose template's Rego
 * names a mesh label. It goes to `enforcementAction: warn` for the duration (it keeps reporting,
 * never rejects); at cleanup a required `istio-injection: enabled` becomes a required
 * `istio.io/rev` and the old action comes back. A Rego template is not rewritten: a person adapts it.
 */
function gatekeeperConstraint(object: IndexedObject, template: IndexedObject | null): InjectionPolicy | null {
  const kinds = (Array.isArray(getPath(object.body, ['spec', 'match', 'kinds'])) ? (getPath(object.body, ['spec', 'match', 'kinds']) as unknown[]) : []).flatMap((k) => {
    const list = asDict(k).kinds;
    return Array.isArray(list) ? list : [];
  });
  if (!appliesToNamespacesOrPods(kinds)) return null;
  const parameters = getPath(object.body, ['spec', 'parameters']);
  const rego = template ? JSON.stringify(getPath(template.body, ['spec', 'targets']) ?? null) : '';
  if (!mentionsMeshLabel(parameters) && !mentionsMeshLabel(rego)) return null;
  const action = getPath(object.body, ['spec', 'enforcementAction']);
  const pausedFrom = pausedEnforcement(object);
  // Warn or dryrun by the team's own choice: it rejects nothing, nothing to do.
  if (pausedFrom === null && (action === 'warn' || action === 'dryrun')) return null;
  const original = pausedFrom ?? (typeof action === 'string' ? action : ABSENT);
  const required = Array.isArray(asDict(parameters).labels) ? (asDict(parameters).labels as unknown[]).map(asDict) : [];
  const injection = required.find((l) => l.key === INJECTION_LABEL);
  // Requires istio.io/rev (any revision or tag) and not istio-injection: a relabel satisfies it already.
  if (pausedFrom === null && !mentionsMeshLabel(rego) && object.kind === 'K8sRequiredLabels' && injection === undefined && required.some((l) => l.key === REV_LABEL && l.allowedRegex === undefined)) return null;
  const rewritable = injection !== undefined && (injection.allowedRegex === undefined || /^\^?\(?enabled\)?\$?$/.test(String(injection.allowedRegex)));
  const what = describe(object);
  const restoredAction = original === ABSENT ? 'deny' : original;
  const match = asDict(getPath(object.body, ['spec', 'match']));
  const others = required.filter((l) => l !== injection);
  return {
    object,
    engine: 'gatekeeper',
    selects: (ns) =>
      namesMatch(match.namespaces, ns.name, true) &&
      !namesMatch(match.excludedNamespaces, ns.name, false) &&
      labelSelectorMatches(match.labelSelector, ns.labels) &&
      labelSelectorMatches(match.namespaceSelector, ns.labels),
    effect: injection
      ? `requires the label ${INJECTION_LABEL}${injection.allowedRegex ? ` matching ${String(injection.allowedRegex)}` : ''}`
      : `names ${MESH_LABELS.join(' or ')} in ${template ? `the Rego of ConstraintTemplate ${template.name}` : 'its parameters'}`,
    relax: pausedFrom === null ? pause({ enforcementAction: 'warn' }, original) : null,
    restore: rewritable
      ? resume(object, {
          ...(original === ABSENT ? {} : { enforcementAction: original }),
          ...(others.length === 0
            ? {
                // Namespaces outside git may still be on istio-injection=enabled (the default tag serves
                // them): K8sRequiredLabels cannot require one of two labels, so istio.io/rev is required
                // only of namespaces the injection label does not already enroll.
                match: { labelSelector: { matchExpressions: [...selectorExpressions(match.labelSelector), notEnrolledByInjection(injection!)] } },
                parameters: { labels: [{ key: REV_LABEL }] },
              }
            : { parameters: { labels: others } }),
        }, original === ABSENT ? [pointer('spec', 'enforcementAction')] : [])
      : null,
    manual: rewritable
      ? others.length === 0
        ? []
        : [`# ${what} (${object.file}) no longer requires ${INJECTION_LABEL} after cleanup (its other labels stay required): one K8sRequiredLabels constraint cannot require ${REV_LABEL} or ${INJECTION_LABEL}=enabled; to keep requiring injection, add a constraint requiring ${REV_LABEL} on namespaces with labelSelector ${INJECTION_LABEL} NotIn [enabled].`]
      : [`# ${what} (${object.file}) stays on enforcementAction: warn after the upgrade: change ${template ? `ConstraintTemplate ${template.name} (${template.file})` : 'its parameters'} to accept both ${REV_LABEL} (any revision or tag) and ${INJECTION_LABEL}=enabled (namespaces outside git may keep it: the default tag serves them), then set enforcementAction back to ${restoredAction} and remove the annotation ${PAUSED_ANNOTATION}.`],
  };
}

/** A label selector's matchExpressions, as written. */
function selectorExpressions(selector: unknown): unknown[] {
  const expressions = asDict(selector).matchExpressions;
  return Array.isArray(expressions) ? expressions : [];
}

/** The selector expression that leaves out namespaces the original requirement of istio-injection accepted. */
function notEnrolledByInjection(injection: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return injection.allowedRegex === undefined ? { key: INJECTION_LABEL, operator: 'DoesNotExist' } : { key: INJECTION_LABEL, operator: 'NotIn', values: ['enabled'] };
}

/** Written where a policy's enforcement is paused for the upgrade: the value to put back at cleanup. */
export const PAUSED_ANNOTATION = 'mesh-upgrade-bot.io/enforcement-paused-from';
/** The paused field was absent (the engine's default applies). */
const ABSENT = 'unset';

function pausedEnforcement(object: IndexedObject): string | null {
  const value = asDict(asDict(object.body.metadata).annotations)[PAUSED_ANNOTATION];
  return typeof value === 'string' ? value : null;
}

/** The relaxed spec fields, with the value they replace kept in an annotation. */
function pause(spec: Record<string, unknown>, original: string): PolicyChange {
  return { body: { metadata: { annotations: { [PAUSED_ANNOTATION]: original } }, spec }, remove: [] };
}

/** The restored spec fields, the annotation removed (with `annotations` when it was the only one). */
function resume(object: IndexedObject, spec: Record<string, unknown>, remove: readonly string[]): PolicyChange {
  const annotations = Object.keys(asDict(asDict(object.body.metadata).annotations));
  const onlyOurs = annotations.length === 0 || (annotations.length === 1 && annotations[0] === PAUSED_ANNOTATION);
  return { body: { spec }, remove: [...remove, onlyOurs ? pointer('metadata', 'annotations') : pointer('metadata', 'annotations', PAUSED_ANNOTATION)] };
}

interface KyvernoRule {
  readonly name: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * Kyverno: a `validate` rule whose `pattern` requires `istio-injection` gets an `anyPattern` that
 * also accepts `istio.io/rev` (for good: both labels are meshed namespaces); a `mutate` rule that
 * writes `istio-injection: enabled` writes `istio.io/rev: <new>` instead (it would otherwise win
 * over the relabel at the next update). Any other rule naming a mesh label puts the policy in
 * `Audit` for the duration, restored at cleanup, with a note to adapt the rule.
 */
function kyvernoPolicy(object: IndexedObject, newRevision: string): InjectionPolicy | null {
  const rules = (Array.isArray(getPath(object.body, ['spec', 'rules'])) ? (getPath(object.body, ['spec', 'rules']) as unknown[]) : []).map(asDict);
  const relevant: KyvernoRule[] = rules
    .filter((r) => typeof r.name === 'string' && kyvernoRuleSeesNamespacesOrPods(object, r) && (mentionsMeshLabel(r.validate) || mentionsMeshLabel(r.mutate)))
    .map((r) => ({ name: r.name as string, body: r }));
  if (relevant.length === 0) return null;
  const edits: Array<Record<string, unknown>> = [];
  const effects: string[] = [];
  const unexpressed: string[] = [];
  const removals: string[] = [];
  for (const rule of relevant) {
    const validate = asDict(rule.body.validate);
    const labels = asDict(getPath(validate.pattern, ['metadata', 'labels']));
    const mutateLabels = asDict(getPath(asDict(rule.body.mutate).patchStrategicMerge, ['metadata', 'labels']));
    // A ban on istio-injection the repo had before the upgrade: kept (cleanup checks it, see injectionBans).
    if (bansInjection(rule.body)) continue;
    // istio-injection on a Pod selects no injector (it is a namespace label): not in the way.
    if (onPodsOnly(rule.body) && !mentionsMeshLabel(rule.body.validate) && (mutateLabels[INJECTION_LABEL] !== undefined || mutateLabels[`+(${INJECTION_LABEL})`] !== undefined)) continue;
    const revBan = Object.keys(labels).find((k) => isBan(k, labels[k], REV_LABEL));
    const injectionKey = labels[INJECTION_LABEL] !== undefined && !isBan(INJECTION_LABEL, labels[INJECTION_LABEL], INJECTION_LABEL) ? INJECTION_LABEL : undefined;
    const deny = injectionDeny(validate);
    if (Array.isArray(validate.anyPattern) && validate.anyPattern.some((p) => asDict(getPath(p, ['metadata', 'labels']))[REV_LABEL] !== undefined)) {
      effects.push(`rule ${rule.name} accepts ${REV_LABEL}`);
    } else if ((injectionKey !== undefined || revBan !== undefined) && Object.keys(validate).every((k) => k === 'pattern' || VALIDATE_META.includes(k))) {
      const others = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== injectionKey && k !== revBan));
      const pattern = asDict(validate.pattern);
      const withRevision = { ...pattern, metadata: { ...asDict(pattern.metadata), labels: { ...others, [REV_LABEL]: '?*' } } };
      edits.push({ name: rule.name, validate: { anyPattern: [pattern, withRevision] } });
      removals.push(pointer('spec', 'rules', rule.name, 'validate', 'pattern'));
      effects.push(injectionKey !== undefined ? `rule ${rule.name} requires ${INJECTION_LABEL}: ${String(labels[INJECTION_LABEL])}` : `rule ${rule.name} forbids ${REV_LABEL}`);
    } else if (deny === 'accepts-revision') {
      effects.push(`rule ${rule.name} accepts ${REV_LABEL}`);
    } else if (deny !== null) {
      edits.push({ name: rule.name, validate: { deny: { conditions: deny } } });
      effects.push(`rule ${rule.name} requires ${INJECTION_LABEL}=enabled (deny)`);
    } else if (mutateLabels[INJECTION_LABEL] !== undefined || mutateLabels[`+(${INJECTION_LABEL})`] !== undefined) {
      const key = mutateLabels[INJECTION_LABEL] !== undefined ? INJECTION_LABEL : `+(${INJECTION_LABEL})`;
      const revisionKey = key === INJECTION_LABEL ? REV_LABEL : `+(${REV_LABEL})`;
      edits.push({ name: rule.name, ...unlessInjected(rule.body), mutate: { patchStrategicMerge: { metadata: { labels: { [revisionKey]: newRevision } } } } });
      removals.push(pointer('spec', 'rules', rule.name, 'mutate', 'patchStrategicMerge', 'metadata', 'labels', key));
      effects.push(`rule ${rule.name} writes ${INJECTION_LABEL}: ${String(mutateLabels[key])} back`);
    } else if (mutateLabels[REV_LABEL] !== undefined || mutateLabels[`+(${REV_LABEL})`] !== undefined) {
      // It names a revision: the one namespaces move to, or it would put them (or new ones) back.
      const key = mutateLabels[REV_LABEL] !== undefined ? REV_LABEL : `+(${REV_LABEL})`;
      if (mutateLabels[key] !== newRevision) {
        edits.push({ name: rule.name, ...unlessInjected(rule.body), mutate: { patchStrategicMerge: { metadata: { labels: { [key]: newRevision } } } } });
        effects.push(`rule ${rule.name} writes ${REV_LABEL}: ${String(mutateLabels[key])}`);
      } else {
        effects.push(`rule ${rule.name} writes ${REV_LABEL}: ${newRevision}`);
      }
    } else {
      unexpressed.push(rule.name);
      effects.push(`rule ${rule.name} names ${MESH_LABELS.join(' or ')}`);
    }
  }
  const action = getPath(object.body, ['spec', 'validationFailureAction']);
  const pausedFrom = pausedEnforcement(object);
  // Every rule already accepts (or writes) the new label: not in the way.
  if (edits.length === 0 && unexpressed.length === 0 && pausedFrom === null) return null;
  const specEnforces = isEnforce(action);
  const specOverrides = enforcingOverrides(getPath(object.body, ['spec', 'validationFailureActionOverrides']));
  // Per rule (Kyverno >= 1.13): `validate.failureAction` wins over the policy's action, a matching override over both.
  const enforcingRules = unexpressed.filter((name) => {
    const validate = asDict(relevant.find((r) => r.name === name)!.body.validate);
    return (validate.failureAction !== undefined ? isEnforce(validate.failureAction) : specEnforces) || enforcingOverrides(validate.failureActionOverrides) !== null || specOverrides !== null;
  });
  const enforcing = pausedFrom !== null || enforcingRules.length > 0;
  const audit = unexpressed.length > 0 && enforcing;
  const spec: Record<string, unknown> = {};
  const paused: string[] = [];
  if (audit && pausedFrom === null) {
    for (const name of enforcingRules) {
      const validate = asDict(relevant.find((r) => r.name === name)!.body.validate);
      const ruleEdit: Record<string, unknown> = {};
      if (validate.failureAction !== undefined && isEnforce(validate.failureAction)) {
        ruleEdit.failureAction = 'Audit';
        paused.push(`rule ${name} failureAction=${String(validate.failureAction)}`);
      }
      const overrides = enforcingOverrides(validate.failureActionOverrides);
      if (overrides !== null) {
        ruleEdit.failureActionOverrides = overrides;
        paused.push(`rule ${name} failureActionOverrides=Enforce`);
      }
      if (Object.keys(ruleEdit).length === 0) continue;
      const existing = edits.find((e) => e.name === name);
      if (existing) existing.validate = { ...asDict(existing.validate), ...ruleEdit };
      else edits.push({ name, validate: ruleEdit });
    }
    // The spec-level form (Kyverno < 1.13 reads only that one) is relaxed at the spec level.
    if (specEnforces && enforcingRules.some((name) => asDict(relevant.find((r) => r.name === name)!.body.validate).failureAction === undefined)) {
      spec.validationFailureAction = 'Audit';
      paused.unshift(String(action));
    }
    if (specOverrides !== null) {
      spec.validationFailureActionOverrides = specOverrides;
      paused.push('validationFailureActionOverrides=Enforce');
    }
  }
  if (edits.length > 0) spec.rules = edits;
  const relax: PolicyChange | null =
    Object.keys(spec).length === 0 ? null : paused.length > 0 ? { ...pause(spec, paused.join('; ')), remove: removals } : { body: { spec }, remove: removals };
  return {
    object,
    engine: 'kyverno',
    selects: (ns) => relevant.some((rule) => kyvernoRuleSelects(rule.body, ns, object.namespace)),
    effect: effects.join('; '),
    relax,
    // A rule the plan cannot read may reject either label once enforced again: it stays in Audit until a person adapts it.
    restore: null,
    manual:
      unexpressed.length > 0
        ? [`# ${describe(object)} (${object.file}): adapt ${unexpressed.map((r) => `rule ${r}`).join(', ')} to accept both ${REV_LABEL} (any revision or tag) and ${INJECTION_LABEL}=enabled (namespaces outside git may keep it: the default tag serves them)${audit ? `; the policy stays in Audit after cleanup: then ${restoreText(pausedFrom ?? paused.join('; '))} and remove the annotation ${PAUSED_ANNOTATION}` : ''}.`]
        : [],
  };
}

/** What to put back by hand, from the paused annotation: the spec-level action alone, or per rule and overrides. */
function restoreText(recorded: string): string {
  if (!/[=;]/.test(recorded)) return `set validationFailureAction back to ${recorded}`;
  return `put back ${recorded
    .split('; ')
    .map((part) => (/[=]/.test(part) ? part.replace(/^rule (\S+) (\S+)=(.*)$/, 'validate.$2: $3 on rule $1').replace(/^(validationFailureActionOverrides)=(.*)$/, '$2 in $1') : `validationFailureAction: ${part}`))
    .join(', ')}`;
}

/** The keys of a validate rule besides its check. */
const VALIDATE_META = ['message', 'failureAction', 'failureActionOverrides'];

function isEnforce(action: unknown): boolean {
  return typeof action === 'string' && /^enforce$/i.test(action);
}

/** A failureActionOverrides list with its Enforce entries turned to Audit; null when none enforces. */
function enforcingOverrides(overrides: unknown): unknown[] | null {
  if (!Array.isArray(overrides) || !overrides.some((o) => isEnforce(asDict(o).action))) return null;
  return overrides.map((o) => (isEnforce(asDict(o).action) ? { ...asDict(o), action: 'Audit' } : o));
}

/**
 * A pattern entry that forbids a label: `X(label)`, or `label: "!*"`, `"!enabled"` (any `!`-only
 * value: the label must be absent or not that), and the negation anchor spelled with `X`.
 */
function isBan(key: string, value: unknown, label: string): boolean {
  if (key === `X(${label})`) return true;
  if (key !== label && key !== `=(${label})`) return false;
  const text = String(value);
  return text.split('|').every((alt) => alt.startsWith('!')) && (label === REV_LABEL ? text === '!*' : true);
}

/** A validate rule whose pattern forbids istio-injection and otherwise at most requires istio.io/rev: a relabel satisfies it. */
function bansInjection(rule: Readonly<Record<string, unknown>>): boolean {
  const validate = asDict(rule.validate);
  const labels = asDict(getPath(validate.pattern, ['metadata', 'labels']));
  const ban = Object.keys(labels).find((k) => isBan(k, labels[k], INJECTION_LABEL));
  if (ban === undefined || !Object.keys(validate).every((k) => k === 'pattern' || VALIDATE_META.includes(k))) return false;
  return Object.entries(labels).every(([k, v]) => k === ban || !MESH_LABELS.some((l) => k.includes(l)) || (k === REV_LABEL && (v === '?*' || v === '*')));
}

/** `{{ request.object.metadata.labels."<label>" }}`, with or without `|| ''`. */
function labelVariable(key: unknown): string | null {
  const m = /^\{\{\s*request\.object\.metadata\.labels\.(?:"([^"]+)"|([A-Za-z_]\w*))\s*(?:\|\|\s*''\s*)?\}\}$/.exec(String(key));
  return m ? (m[1] ?? m[2])! : null;
}

/** A deny condition that holds when istio-injection is not `enabled`. */
function requiresInjection(condition: unknown): boolean {
  const { key, value } = asDict(condition);
  if (labelVariable(key) !== INJECTION_LABEL) return false;
  // Kyverno reads operators case-insensitively.
  const operator = String(asDict(condition).operator).toLowerCase();
  if (operator === 'notequals') return value === 'enabled';
  return (operator === 'notin' || operator === 'anynotin' || operator === 'allnotin') && Array.isArray(value) && value.length === 1 && value[0] === 'enabled';
}

/** The condition added to a deny: the namespace has no istio.io/rev (one with it is meshed). */
const NO_REVISION = { key: `{{ request.object.metadata.labels."${REV_LABEL}" || '' }}`, operator: 'Equals', value: '' };

/**
 * A deny rule whose every condition requires istio-injection=enabled: its conditions with one more
 * that must hold too (no istio.io/rev), so a namespace on either label is admitted. 'accepts-revision'
 * when that condition is already there; null when the deny says anything else.
 */
function injectionDeny(validate: Readonly<Record<string, unknown>>): unknown[] | Record<string, unknown> | 'accepts-revision' | null {
  if (validate.deny === undefined || !Object.keys(validate).every((k) => k === 'deny' || VALIDATE_META.includes(k))) return null;
  const conditions = asDict(validate.deny).conditions;
  const hasRev = (list: unknown) => Array.isArray(list) && list.some((c) => labelVariable(asDict(c).key) === REV_LABEL && asDict(c).operator === 'Equals' && asDict(c).value === '');
  const only = (list: unknown[]) => list.length > 0 && list.every(requiresInjection);
  if (Array.isArray(conditions)) {
    if (hasRev(conditions)) return only(conditions.filter((c) => labelVariable(asDict(c).key) !== REV_LABEL)) ? 'accepts-revision' : null;
    return only(conditions) ? [...conditions, NO_REVISION] : null;
  }
  const { any, all, ...rest } = asDict(conditions);
  if (Object.keys(rest).length > 0) return null;
  const anyList = Array.isArray(any) ? any : [];
  const allList = Array.isArray(all) ? all : [];
  if (hasRev(allList)) return only([...anyList, ...allList.filter((c) => labelVariable(asDict(c).key) !== REV_LABEL)]) ? 'accepts-revision' : null;
  if (!only([...anyList, ...allList])) return null;
  return { all: [...allList, NO_REVISION] };
}

/**
 * Whether a Kyverno rule can see Namespaces or Pods: a namespaced Policy validates only namespaced
 * objects in its own namespace, so a Namespace (cluster-scoped) never reaches it.
 */
function kyvernoRuleSeesNamespacesOrPods(object: IndexedObject, rule: Readonly<Record<string, unknown>>): boolean {
  const kinds = matchedKinds(rule);
  if (object.kind !== 'Policy') return appliesToNamespacesOrPods(kinds);
  return kinds.length === 0 || kinds.some((k) => k === 'Pod' || k === '*');
}

function onPodsOnly(rule: Readonly<Record<string, unknown>>): boolean {
  const kinds = matchedKinds(rule);
  return kinds.length > 0 && kinds.every((k) => k === 'Pod');
}

/** A mutate rule's preconditions plus one: the namespace has no istio-injection label (one on it must not also get istio.io/rev). */
function unlessInjected(rule: Readonly<Record<string, unknown>>): { preconditions?: unknown } {
  const condition = { key: `{{ request.object.metadata.labels."${INJECTION_LABEL}" || '' }}`, operator: 'Equals', value: '' };
  const existing = rule.preconditions;
  const has = (list: unknown) => Array.isArray(list) && list.some((c) => asDict(c).key === condition.key);
  if (Array.isArray(existing)) return has(existing) ? {} : { preconditions: [...existing, condition] };
  const all = asDict(existing).all;
  if (has(all)) return {};
  return { preconditions: { ...asDict(existing), all: [...(Array.isArray(all) ? all : []), condition] } };
}

/**
 * Kyverno rules that forbade istio-injection on namespaces before the upgrade: the plan keeps them
 * as they are, and the cleanup PR checks before merging that no namespace (one outside git, or one
 * labelled during the upgrade) still carries the label they reject.
 */
export function injectionBans(index: YamlIndex): Array<{ readonly object: IndexedObject; readonly rule: string; readonly check: string }> {
  return index.objects.flatMap((object) => {
    // A namespaced Policy never sees a Namespace object.
    if (object.isPatch || !object.apiVersion.startsWith('kyverno.io/') || object.kind !== 'ClusterPolicy') return [];
    const action = getPath(object.body, ['spec', 'validationFailureAction']);
    const specEnforces = isEnforce(action) || enforcingOverrides(getPath(object.body, ['spec', 'validationFailureActionOverrides'])) !== null;
    const enforces = (r: Readonly<Record<string, unknown>>) => {
      const validate = asDict(r.validate);
      return (validate.failureAction !== undefined ? isEnforce(validate.failureAction) : specEnforces) || enforcingOverrides(validate.failureActionOverrides) !== null;
    };
    const rules = Array.isArray(getPath(object.body, ['spec', 'rules'])) ? (getPath(object.body, ['spec', 'rules']) as unknown[]).map(asDict) : [];
    return rules
      .filter((r) => typeof r.name === 'string' && matchedKinds(r).includes('Namespace') && bansInjection(r) && enforces(r))
      .map((r) => {
        const match = asDict(r.match);
        const blocks = (['any', 'all'] as const).flatMap((k) => (Array.isArray(match[k]) ? (match[k] as unknown[]).map(asDict) : []));
        const resources = blocks.length === 1 ? asDict(blocks[0]!.resources) : blocks.length === 0 ? asDict(match.resources) : {};
        const selector = asDict(resources.selector);
        const simple = Object.keys(selector).every((k) => k === 'matchLabels');
        const patternLabels = asDict(getPath(asDict(r.validate).pattern, ['metadata', 'labels']));
        const ban = Object.keys(patternLabels).find((k) => isBan(k, patternLabels[k], INJECTION_LABEL))!;
        const banned = String(patternLabels[ban]);
        // `!enabled` rejects that value only; `!*` and X() reject the label with any value.
        const bannedLabel = (ban === INJECTION_LABEL || ban === `=(${INJECTION_LABEL})`) && /^![^*?|!]+$/.test(banned) ? `${INJECTION_LABEL}=${banned.slice(1)}` : INJECTION_LABEL;
        const labels = [bannedLabel, ...(simple ? Object.entries(asDict(selector.matchLabels)).map(([k, v]) => `${k}=${String(v)}`) : [])];
        const names = Array.isArray(resources.names) ? ` ${resources.names.map(String).join(' ')}` : '';
        return {
          object,
          rule: r.name as string,
          check: `kubectl get ns${names} -l ${labels.join(',')} -o name   # expect: no output (${describe(object)} rule ${r.name as string} rejects these namespaces at their next update)`,
        };
      });
  });
}

/** Kubernetes label selector semantics (matchLabels AND matchExpressions); an absent selector selects all. */
function labelSelectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined || selector === null) return true;
  const { matchLabels, matchExpressions } = asDict(selector);
  for (const [key, value] of Object.entries(asDict(matchLabels))) if (labels[key] !== String(value)) return false;
  for (const expression of Array.isArray(matchExpressions) ? matchExpressions.map(asDict) : []) {
    const key = String(expression.key);
    const values = Array.isArray(expression.values) ? expression.values.map(String) : [];
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const ok =
      expression.operator === 'In' ? has && values.includes(labels[key]!) :
      expression.operator === 'NotIn' ? !has || !values.includes(labels[key]!) :
      expression.operator === 'Exists' ? has :
      expression.operator === 'DoesNotExist' ? !has : true;
    if (!ok) return false;
  }
  return true;
}

/** A name list with `*` wildcards (prefix or suffix, as Gatekeeper and Kyverno allow); absent: `absent`. */
function namesMatch(list: unknown, name: string, absent: boolean): boolean {
  if (!Array.isArray(list) || list.length === 0) return absent;
  return list.some((pattern) => new RegExp(`^${String(pattern).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(name));
}

/** Whether a Kyverno rule's `match` (any/all or the legacy block) covers a namespace, or pods in it. */
function kyvernoRuleSelects(rule: Readonly<Record<string, unknown>>, ns: { readonly name: string; readonly labels: Readonly<Record<string, string>> }, policyNamespace: string | null): boolean {
  if (policyNamespace !== null && policyNamespace !== ns.name) return false;
  const match = asDict(rule.match);
  const blocks = (['any', 'all'] as const).flatMap((k) => (Array.isArray(match[k]) ? (match[k] as unknown[]).map(asDict) : []));
  const filters = (blocks.length > 0 ? blocks : [match]).map((b) => asDict(b.resources));
  const one = (r: Readonly<Record<string, unknown>>) => {
    const kinds = Array.isArray(r.kinds) ? r.kinds : [];
    const onNamespace = kinds.length === 0 || kinds.includes('Namespace') || kinds.includes('*');
    const byNamespace = namesMatch(r.namespaces, ns.name, true) && labelSelectorMatches(r.namespaceSelector, ns.labels);
    // A selector on Namespace objects reads the namespace's labels; on pods it is unknown here: counts as a match.
    return onNamespace ? namesMatch(r.names, ns.name, true) && labelSelectorMatches(r.selector, ns.labels) && byNamespace : byNamespace;
  };
  return Array.isArray(match.all) && match.all.length > 0 ? filters.every(one) : filters.some(one);
}

function matchedKinds(rule: Readonly<Record<string, unknown>>): unknown[] {
  const match = asDict(rule.match);
  const blocks = [match, ...(['any', 'all'] as const).flatMap((k) => (Array.isArray(match[k]) ? (match[k] as unknown[]).map(asDict) : []))];
  return blocks.flatMap((b) => {
    const kinds = asDict(b.resources).kinds;
    return Array.isArray(kinds) ? kinds : [];
  });
}

/** Whether a phase relabels a namespace (drops `istio-injection` or sets `istio.io/rev` on it). */
export function relabelsNamespaces(draft: PhaseDraft): boolean {
  return relabelledNamespaces(draft).length > 0;
}

/** The namespaces a phase relabels. */
function relabelledNamespaces(draft: PhaseDraft): string[] {
  return draft.objects.flatMap(({ desired }) => {
    if (desired.mode.kind !== 'patch') return [];
    const json = desired.toJson();
    if (json.kind !== 'Namespace') return [];
    const labels = asDict(asDict(json.metadata).labels);
    return labels[INJECTION_LABEL] === null || typeof labels[REV_LABEL] === 'string' ? [json.metadata.name] : [];
  });
}

/**
 * The phase that relaxes the policies before the first relabel: its own PR, merged and synced
 * before namespaces change, since one sync applies Namespaces before custom resources.
 */
export function draftAdmissionPolicies(ctx: PlanContext, s: DraftScope, policies: readonly InjectionPolicy[]): PhaseDraft {
  const objects: PlacedObject[] = [];
  for (const policy of policies) {
    if (!policy.relax) continue;
    objects.push({ desired: policyEdit(s, policy.object, policy.relax), targets: [policy.object] });
  }
  const names = policies.map((p) => `${describe(p.object)} (${p.engine}: ${p.effect})`);
  return {
    id: s.phaseId,
    title: `Let admission policies accept ${REV_LABEL}`,
    why: `Namespaces move from ${INJECTION_LABEL} to ${REV_LABEL}=${ctx.to.name} in the next phases, and these policies would reject or undo that: ${names.join('; ')}. They are relaxed here, in a phase of their own, because one sync applies Namespaces before policy objects.`,
    objects,
    deletions: [],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 1,
    verify: [
      ...policies.filter((p) => p.engine === 'gatekeeper').map((p) => `kubectl get ${p.object.kind.toLowerCase()} ${p.object.name} -o jsonpath='{.spec.enforcementAction}'   # expect warn`),
      ...policies.filter((p) => p.engine === 'kyverno').map((p) => `kubectl get ${p.object.kind.toLowerCase()} ${p.object.namespace ? `-n ${p.object.namespace} ` : ''}${p.object.name} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'   # expect True`),
    ],
    rollback: ['Revert this pull request; no namespace has moved yet.'],
  };
}

/** The edits that put enforcement back at cleanup, with the manual follow-ups. */
export function restorePolicies(s: DraftScope, policies: readonly InjectionPolicy[]): { objects: PlacedObject[]; manual: string[] } {
  const objects: PlacedObject[] = [];
  for (const policy of policies) {
    if (!policy.restore) continue;
    objects.push({ desired: policyEdit(s, policy.object, policy.restore, 'restore'), targets: [policy.object] });
  }
  return { objects, manual: policies.flatMap((p) => p.manual) };
}

function policyEdit(s: DraftScope, object: IndexedObject, { body, remove }: PolicyChange, purpose = 'relax'): DesiredObject {
  return new DesiredObject(s.scope, s.id(purpose, object.kind, object.namespace, object.name), {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.name,
    ...(object.namespace ? { namespace: object.namespace } : {}),
    body,
    remove,
    mode: { kind: 'patch' },
  });
}

/**
 * The plan's phases with the admission policies handled: a phase of their own just before the
 * first phase that relabels a namespace, and their enforcement restored by cleanup. Unchanged
 * when nothing relabels (tag strategy) or no policy is in the way.
 */
export function withAdmissionPolicies(ctx: PlanContext, drafts: readonly PhaseDraft[], scopeFor: (id: string) => DraftScope): PhaseDraft[] {
  const relabels = drafts.findIndex(relabelsNamespaces);
  // Only policies that apply to a namespace the plan relabels are in the way (paused ones stay until cleanup).
  const moving = new Set(drafts.flatMap(relabelledNamespaces));
  const namespaces = ctx.inventory.namespaces.filter((n) => moving.has(n.name));
  const policies = findInjectionPolicies(ctx.index, ctx.to.name).filter(
    (p) => (p.relax === null && p.restore !== null) || namespaces.some((n) => p.selects(n)),
  );
  drafts = withInjectionBansChecked(ctx, drafts);
  // Once the namespaces have moved the phase stays in the plan, done, as long as something it paused waits for cleanup.
  const paused = policies.some((p) => p.relax === null && p.restore !== null);
  if (policies.length === 0 || (relabels < 0 && !paused)) return [...drafts];
  const at = relabels >= 0 ? relabels : Math.max(0, drafts.findIndex((d) => d.id.startsWith('workloads') || d.id === 'default-revision'));
  const phase = draftAdmissionPolicies(ctx, scopeFor('admission-policies'), policies);
  const restore = restorePolicies(scopeFor('cleanup-policies'), policies);
  return [...drafts.slice(0, at), phase, ...drafts.slice(at)].map((d) =>
    d.id === 'cleanup' && (restore.objects.length > 0 || restore.manual.length > 0)
      ? {
          ...d,
          objects: [...d.objects, ...restore.objects],
          manual: [...d.manual, ...restore.manual],
          why: `${d.why} The admission policies relaxed for the relabel get their enforcement back: ${policies.filter((p) => p.restore).map((p) => describe(p.object)).join(', ') || 'none to restore'}.`,
        }
      : d,
  );
}

/**
 * The cleanup PR of a plan that relabels namespaces, with a check before merging per kept ban on
 * istio-injection: the policy stays as the repo wrote it (it forbade the label before the upgrade),
 * so a namespace still on it is rejected at its next update.
 */
function withInjectionBansChecked(ctx: PlanContext, drafts: readonly PhaseDraft[]): readonly PhaseDraft[] {
  const bans = injectionBans(ctx.index);
  if (bans.length === 0) return drafts;
  return drafts.map((d) =>
    d.id === 'cleanup'
      ? {
          ...d,
          why: `${d.why} ${bans.map((b) => `${describe(b.object)} rule ${b.rule}`).join(', ')} forbade ${INJECTION_LABEL} before the upgrade and is kept as it is: a namespace still on ${INJECTION_LABEL} (created outside git, or labelled during the upgrade) is rejected at its next update, so check that none is left before merging.`,
          beforeMerge: [...(d.beforeMerge ?? []), ...bans.map((b) => b.check)],
        }
      : d,
  );
}
