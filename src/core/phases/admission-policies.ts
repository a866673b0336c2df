import { DesiredObject } from '../../constructs/desired-object.js';
import { asDict, describe, INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PlacedObject } from '../../model/placed-object.js';
import { findInjectionPolicies } from '../sources/admission-policies.js';
import type { InjectionPolicy, PolicyChange } from '../sources/admission-policy-model.js';
import { injectionBans } from '../sources/kyverno.js';
import type { DraftScope, PhaseDraft, PlanContext } from './context.js';

/** Whether a phase relabels a namespace (drops `istio-injection` or sets `istio.io/rev` on it). */
function relabelsNamespaces(draft: PhaseDraft): boolean {
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
function draftAdmissionPolicies(ctx: PlanContext, s: DraftScope, policies: readonly InjectionPolicy[]): PhaseDraft {
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
      ...policies
        .filter((p) => p.engine === 'gatekeeper')
        .map((p) => `kubectl get ${p.object.kind.toLowerCase()} ${p.object.name} -o jsonpath='{.spec.enforcementAction}'   # expect warn`),
      ...policies
        .filter((p) => p.engine === 'kyverno')
        .map(
          (p) =>
            `kubectl get ${p.object.kind.toLowerCase()} ${p.object.namespace ? `-n ${p.object.namespace} ` : ''}${p.object.name} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'   # expect True`,
        ),
    ],
    rollback: ['Revert this pull request; no namespace has moved yet.'],
  };
}

/** The edits that put enforcement back at cleanup, with the manual follow-ups. */
function restorePolicies(s: DraftScope, policies: readonly InjectionPolicy[]): { objects: PlacedObject[]; manual: string[] } {
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
  const found = findInjectionPolicies(ctx.index, ctx.to.name);
  if (found.length === 0) return [...withInjectionBansChecked(ctx, drafts)];
  const relabels = drafts.findIndex(relabelsNamespaces);
  // Only policies that apply to a namespace the plan relabels are in the way (paused ones stay until cleanup).
  const moving = new Set(drafts.flatMap(relabelledNamespaces));
  const namespaces = ctx.inventory.namespaces.filter((n) => moving.has(n.name));
  const policies = found.filter((p) => (p.relax === null && p.restore !== null) || namespaces.some((n) => p.selects(n)));
  drafts = withInjectionBansChecked(ctx, drafts);
  // Once the namespaces have moved the phase stays in the plan, done, as long as something it paused waits for cleanup.
  const paused = policies.some((p) => p.relax === null && p.restore !== null);
  if (policies.length === 0 || (relabels < 0 && !paused)) return [...drafts];
  const at =
    relabels >= 0
      ? relabels
      : Math.max(
          0,
          drafts.findIndex((d) => d.id.startsWith('workloads') || d.id === 'default-revision'),
        );
  const phase = draftAdmissionPolicies(ctx, scopeFor('admission-policies'), policies);
  const restore = restorePolicies(scopeFor('cleanup-policies'), policies);
  return [...drafts.slice(0, at), phase, ...drafts.slice(at)].map((d) =>
    d.id === 'cleanup' && (restore.objects.length > 0 || restore.manual.length > 0)
      ? {
          ...d,
          objects: [...d.objects, ...restore.objects],
          manual: [...d.manual, ...restore.manual],
          why: `${d.why} The admission policies relaxed for the relabel get their enforcement back: ${
            policies
              .filter((p) => p.restore)
              .map((p) => describe(p.object))
              .join(', ') || 'none to restore'
          }.`,
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
