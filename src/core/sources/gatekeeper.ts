import { pointer } from '../../constructs/desired-object.js';
import { asDict, describe, getPath, INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import {
  ABSENT,
  appliesToNamespacesOrPods,
  type InjectionPolicy,
  labelSelectorMatches,
  MESH_LABELS,
  mentionsMeshLabel,
  namesMatch,
  notEnrolledByInjection,
  PAUSED_ANNOTATION,
  pause,
  pausedEnforcement,
  resume,
  selectorExpressions,
} from './admission-policy-model.js';

/**
 * Gatekeeper: a constraint whose parameters (K8sRequiredLabels' `labels`) or whose template's Rego
 * names a mesh label. It goes to `enforcementAction: warn` for the duration (it keeps reporting,
 * never rejects); at cleanup a required `istio-injection: enabled` becomes a required
 * `istio.io/rev` and the old action comes back. A Rego template is not rewritten: a person adapts it.
 */
export function gatekeeperConstraint(object: IndexedObject, template: IndexedObject | null): InjectionPolicy | null {
  const kinds = (
    Array.isArray(getPath(object.body, ['spec', 'match', 'kinds'])) ? (getPath(object.body, ['spec', 'match', 'kinds']) as unknown[]) : []
  ).flatMap((k) => {
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
  if (
    pausedFrom === null &&
    !mentionsMeshLabel(rego) &&
    object.kind === 'K8sRequiredLabels' &&
    injection === undefined &&
    required.some((l) => l.key === REV_LABEL && l.allowedRegex === undefined)
  )
    return null;
  const rewritable =
    injection !== undefined && (injection.allowedRegex === undefined || /^\^?\(?enabled\)?\$?$/.test(String(injection.allowedRegex)));
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
      ? resume(
          object,
          {
            ...(original === ABSENT ? {} : { enforcementAction: original }),
            ...(others.length === 0
              ? {
                  // Namespaces outside git may still be on istio-injection=enabled (the default tag serves
                  // them): K8sRequiredLabels cannot require one of two labels, so istio.io/rev is required
                  // only of namespaces the injection label does not already enroll.
                  match: {
                    labelSelector: { matchExpressions: [...selectorExpressions(match.labelSelector), notEnrolledByInjection(injection!)] },
                  },
                  parameters: { labels: [{ key: REV_LABEL }] },
                }
              : { parameters: { labels: others } }),
          },
          original === ABSENT ? [pointer('spec', 'enforcementAction')] : [],
        )
      : null,
    manual: rewritable
      ? others.length === 0
        ? []
        : [
            `# ${what} (${object.file}) no longer requires ${INJECTION_LABEL} after cleanup (its other labels stay required): one K8sRequiredLabels constraint cannot require ${REV_LABEL} or ${INJECTION_LABEL}=enabled; to keep requiring injection, add a constraint requiring ${REV_LABEL} on namespaces with labelSelector ${INJECTION_LABEL} NotIn [enabled].`,
          ]
      : [
          `# ${what} (${object.file}) stays on enforcementAction: warn after the upgrade: change ${template ? `ConstraintTemplate ${template.name} (${template.file})` : 'its parameters'} to accept both ${REV_LABEL} (any revision or tag) and ${INJECTION_LABEL}=enabled (namespaces outside git may keep it: the default tag serves them), then set enforcementAction back to ${restoredAction} and remove the annotation ${PAUSED_ANNOTATION}.`,
        ],
  };
}
