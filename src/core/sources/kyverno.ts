import { pointer } from '../../constructs/desired-object.js';
import { asDict, describe, getPath, INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { YamlIndex } from '../repo-index.js';
import {
  appliesToNamespacesOrPods,
  type InjectionPolicy,
  labelSelectorMatches,
  MESH_LABELS,
  matchedKinds,
  mentionsMeshLabel,
  namesMatch,
  PAUSED_ANNOTATION,
  type PolicyChange,
  pause,
  pausedEnforcement,
} from './admission-policy-model.js';

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
export function kyvernoPolicy(object: IndexedObject, newRevision: string): InjectionPolicy | null {
  const rules = (Array.isArray(getPath(object.body, ['spec', 'rules'])) ? (getPath(object.body, ['spec', 'rules']) as unknown[]) : []).map(
    asDict,
  );
  const relevant: KyvernoRule[] = rules
    .filter(
      (r) =>
        typeof r.name === 'string' &&
        kyvernoRuleSeesNamespacesOrPods(object, r) &&
        (mentionsMeshLabel(r.validate) || mentionsMeshLabel(r.mutate)),
    )
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
    if (
      onPodsOnly(rule.body) &&
      !mentionsMeshLabel(rule.body.validate) &&
      (mutateLabels[INJECTION_LABEL] !== undefined || mutateLabels[`+(${INJECTION_LABEL})`] !== undefined)
    )
      continue;
    const revBan = Object.keys(labels).find((k) => isBan(k, labels[k], REV_LABEL));
    const injectionKey =
      labels[INJECTION_LABEL] !== undefined && !isBan(INJECTION_LABEL, labels[INJECTION_LABEL], INJECTION_LABEL)
        ? INJECTION_LABEL
        : undefined;
    const deny = injectionDeny(validate);
    if (
      Array.isArray(validate.anyPattern) &&
      validate.anyPattern.some((p) => asDict(getPath(p, ['metadata', 'labels']))[REV_LABEL] !== undefined)
    ) {
      effects.push(`rule ${rule.name} accepts ${REV_LABEL}`);
    } else if (
      (injectionKey !== undefined || revBan !== undefined) &&
      Object.keys(validate).every((k) => k === 'pattern' || VALIDATE_META.includes(k))
    ) {
      const others = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== injectionKey && k !== revBan));
      const pattern = asDict(validate.pattern);
      const withRevision = { ...pattern, metadata: { ...asDict(pattern.metadata), labels: { ...others, [REV_LABEL]: '?*' } } };
      edits.push({ name: rule.name, validate: { anyPattern: [pattern, withRevision] } });
      removals.push(pointer('spec', 'rules', rule.name, 'validate', 'pattern'));
      effects.push(
        injectionKey !== undefined
          ? `rule ${rule.name} requires ${INJECTION_LABEL}: ${String(labels[INJECTION_LABEL])}`
          : `rule ${rule.name} forbids ${REV_LABEL}`,
      );
    } else if (deny === 'accepts-revision') {
      effects.push(`rule ${rule.name} accepts ${REV_LABEL}`);
    } else if (deny !== null) {
      edits.push({ name: rule.name, validate: { deny: { conditions: deny } } });
      effects.push(`rule ${rule.name} requires ${INJECTION_LABEL}=enabled (deny)`);
    } else if (mutateLabels[INJECTION_LABEL] !== undefined || mutateLabels[`+(${INJECTION_LABEL})`] !== undefined) {
      const key = mutateLabels[INJECTION_LABEL] !== undefined ? INJECTION_LABEL : `+(${INJECTION_LABEL})`;
      const revisionKey = key === INJECTION_LABEL ? REV_LABEL : `+(${REV_LABEL})`;
      edits.push({
        name: rule.name,
        ...unlessInjected(rule.body),
        mutate: { patchStrategicMerge: { metadata: { labels: { [revisionKey]: newRevision } } } },
      });
      removals.push(pointer('spec', 'rules', rule.name, 'mutate', 'patchStrategicMerge', 'metadata', 'labels', key));
      effects.push(`rule ${rule.name} writes ${INJECTION_LABEL}: ${String(mutateLabels[key])} back`);
    } else if (mutateLabels[REV_LABEL] !== undefined || mutateLabels[`+(${REV_LABEL})`] !== undefined) {
      // It names a revision: the one namespaces move to, or it would put them (or new ones) back.
      const key = mutateLabels[REV_LABEL] !== undefined ? REV_LABEL : `+(${REV_LABEL})`;
      if (mutateLabels[key] !== newRevision) {
        edits.push({
          name: rule.name,
          ...unlessInjected(rule.body),
          mutate: { patchStrategicMerge: { metadata: { labels: { [key]: newRevision } } } },
        });
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
    return (
      (validate.failureAction !== undefined ? isEnforce(validate.failureAction) : specEnforces) ||
      enforcingOverrides(validate.failureActionOverrides) !== null ||
      specOverrides !== null
    );
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
    if (
      specEnforces &&
      enforcingRules.some((name) => asDict(relevant.find((r) => r.name === name)!.body.validate).failureAction === undefined)
    ) {
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
    Object.keys(spec).length === 0
      ? null
      : paused.length > 0
        ? { ...pause(spec, paused.join('; ')), remove: removals }
        : { body: { spec }, remove: removals };
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
        ? [
            `# ${describe(object)} (${object.file}): adapt ${unexpressed.map((r) => `rule ${r}`).join(', ')} to accept both ${REV_LABEL} (any revision or tag) and ${INJECTION_LABEL}=enabled (namespaces outside git may keep it: the default tag serves them)${audit ? `; the policy stays in Audit after cleanup: then ${restoreText(pausedFrom ?? paused.join('; '))} and remove the annotation ${PAUSED_ANNOTATION}` : ''}.`,
          ]
        : [],
  };
}

/** What to put back by hand, from the paused annotation: the spec-level action alone, or per rule and overrides. */
function restoreText(recorded: string): string {
  if (!/[=;]/.test(recorded)) return `set validationFailureAction back to ${recorded}`;
  return `put back ${recorded
    .split('; ')
    .map((part) =>
      /[=]/.test(part)
        ? part
            .replace(/^rule (\S+) (\S+)=(.*)$/, 'validate.$2: $3 on rule $1')
            .replace(/^(validationFailureActionOverrides)=(.*)$/, '$2 in $1')
        : `validationFailureAction: ${part}`,
    )
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
  return Object.entries(labels).every(
    ([k, v]) => k === ban || !MESH_LABELS.some((l) => k.includes(l)) || (k === REV_LABEL && (v === '?*' || v === '*')),
  );
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
  return (
    (operator === 'notin' || operator === 'anynotin' || operator === 'allnotin') &&
    Array.isArray(value) &&
    value.length === 1 &&
    value[0] === 'enabled'
  );
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
  const hasRev = (list: unknown) =>
    Array.isArray(list) &&
    list.some((c) => labelVariable(asDict(c).key) === REV_LABEL && asDict(c).operator === 'Equals' && asDict(c).value === '');
  const only = (list: unknown[]) => list.length > 0 && list.every(requiresInjection);
  if (Array.isArray(conditions)) {
    if (hasRev(conditions)) return only(conditions.filter((c) => labelVariable(asDict(c).key) !== REV_LABEL)) ? 'accepts-revision' : null;
    return only(conditions) ? [...conditions, NO_REVISION] : null;
  }
  const { any, all, ...rest } = asDict(conditions);
  if (Object.keys(rest).length > 0) return null;
  const anyList = Array.isArray(any) ? any : [];
  const allList = Array.isArray(all) ? all : [];
  if (hasRev(allList))
    return only([...anyList, ...allList.filter((c) => labelVariable(asDict(c).key) !== REV_LABEL)]) ? 'accepts-revision' : null;
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
    const specEnforces =
      isEnforce(action) || enforcingOverrides(getPath(object.body, ['spec', 'validationFailureActionOverrides'])) !== null;
    const enforces = (r: Readonly<Record<string, unknown>>) => {
      const validate = asDict(r.validate);
      return (
        (validate.failureAction !== undefined ? isEnforce(validate.failureAction) : specEnforces) ||
        enforcingOverrides(validate.failureActionOverrides) !== null
      );
    };
    const rules = Array.isArray(getPath(object.body, ['spec', 'rules']))
      ? (getPath(object.body, ['spec', 'rules']) as unknown[]).map(asDict)
      : [];
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
        const bannedLabel =
          (ban === INJECTION_LABEL || ban === `=(${INJECTION_LABEL})`) && /^![^*?|!]+$/.test(banned)
            ? `${INJECTION_LABEL}=${banned.slice(1)}`
            : INJECTION_LABEL;
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

/** Whether a Kyverno rule's `match` (any/all or the legacy block) covers a namespace, or pods in it. */
function kyvernoRuleSelects(
  rule: Readonly<Record<string, unknown>>,
  ns: { readonly name: string; readonly labels: Readonly<Record<string, string>> },
  policyNamespace: string | null,
): boolean {
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
