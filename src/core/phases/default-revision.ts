import { pointer } from '../../constructs/desired-object.js';
import { HelmValues } from '../../constructs/helm-release.js';
import { IstiodService } from '../../constructs/istiod-service.js';
import { RevisionTag } from '../../constructs/revision-tag.js';
import { WebhookRevision } from '../../constructs/webhook-configuration.js';
import { WebhookDeactivation } from '../../constructs/webhook-deactivation.js';
import { asDict, getPath, ISTIO_SYSTEM, REV_LABEL, stringMap } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { HelmRelease } from '../inventory.js';
import { isOperatorToHelm } from '../sources/iop-to-helm.js';
import type { DraftScope, PhaseDraft, PlanContext } from './context.js';
import { helmNonRevisionedHandover } from './helm-nonrevisioned.js';
import { fileBeside, istiodServiceFor } from './naming.js';
import { firstCanaryTagSteps } from './operator-first-canary.js';

/**
 * Phase 4: everything that names "the" control plane moves: the `istiod` Service selector, every
 * revision tag that points at the old revision (`default` decides what `istio-injection=enabled`
 * and the leader-elected singleton duties use), and the default validator. With Helm: base's
 * `defaultRevision` and the `revisionTags` of the istiod releases.
 */
export function draftDefaultRevision(ctx: PlanContext, s: DraftScope): PhaseDraft {
  const { from, to, inventory } = ctx;
  const objects: PlacedObject[] = [];
  const oldService = istiodServiceFor(from.name);

  const service = inventory.istiodService;
  if (service) {
    const selector = stringMap(getPath(service.body, ['spec', 'selector']));
    // The non-revisioned Service selects `app: istiod, istio: pilot`, which only the old pods carry.
    const nonRevisioned = from.name === 'default' && (selector[REV_LABEL] ?? 'default') === 'default';
    if (selector[REV_LABEL] === from.name || nonRevisioned) {
      const dropSelectorKeys = nonRevisioned && selector.istio !== undefined ? ['istio'] : [];
      objects.push({
        desired: new IstiodService(s.scope, s.id('Service', 'istiod'), { revision: to.name, dropSelectorKeys }),
        targets: [service],
      });
    }
  }

  // From a non-revisioned control plane: the `default` tag goes to the new revision and the old
  // injector is deactivated in this one commit, so that no pod is ever matched by both.
  objects.push(...nonRevisionedHandover(ctx, s));

  for (const tag of inventory.tags) {
    if (tag.revision !== from.name) continue;
    objects.push({
      desired: new WebhookRevision(s.scope, s.id('MutatingWebhookConfiguration', tag.object.name), {
        kind: 'MutatingWebhookConfiguration',
        name: tag.object.name,
        revision: to.name,
        webhookNames: webhooksCalling(tag.object, oldService),
      }),
      targets: [tag.object],
    });
  }

  const validator = inventory.defaultValidator;
  if (validator && validator.body.metadata.labels?.[REV_LABEL] === from.name) {
    const names = webhooksCalling(validator, oldService);
    objects.push({
      desired: new WebhookRevision(s.scope, s.id('ValidatingWebhookConfiguration', validator.name), {
        kind: 'ValidatingWebhookConfiguration',
        name: validator.name,
        revision: to.name,
        webhookNames: names,
      }),
      targets: [validator],
    });
  }

  const base = inventory.helmBase;
  // The base chart's defaultRevision is "default" unless set.
  if (base && (base.values.defaultRevision ?? 'default') === from.name) {
    objects.push({ desired: helmValues(s, base, { defaultRevision: to.name }), targets: [base.object] });
  }
  const handover = helmTagHandover(ctx, s);
  objects.push(...handover.objects);
  const helmDefault = helmNonRevisionedHandover(ctx, s);
  objects.push(...helmDefault.objects);

  const manual = [...defaultTagOutsideGit(ctx), ...handover.manual, ...firstCanaryTagSteps(ctx), ...helmDefault.manual];

  return {
    id: 'default-revision',
    title: `Make ${to.name} the default revision`,
    why: inventory.istiodService
      ? `Points the \`istiod\` Service, the revision tag(s) and the default validator at ${to.name}. The \`default\` tag decides which control plane injects namespaces labelled istio-injection=enabled, validates untagged Istio config and does the singleton (leader-elected) work; the \`istiod\` Service is what validation fallbacks, remote clusters and VMs reach. After this, nothing depends on ${from.name}.`
      : `Points the revision tag(s) and the default validator at ${to.name}. The \`default\` tag decides which control plane injects namespaces labelled istio-injection=enabled, validates untagged Istio config and does the singleton (leader-elected) work. After this, nothing depends on ${from.name}.`,
    objects,
    deletions: [],
    manual,
    manualDone: manual.length === 0,
    manualResult: 'cluster',
    pods: 0,
    namespaces: [],
    estimatedMinutes: 1,
    verify: [
      // Only where the repo has the `istiod` Service: otherwise there is nothing of ours to look at.
      ...(inventory.istiodService ? [`kubectl -n ${ISTIO_SYSTEM} get endpoints istiod   # only istiod-${to.name} pod IPs`] : []),
      `istioctl tag list   # default → ${to.name}`,
      `kubectl get validatingwebhookconfiguration istiod-default-validator -o jsonpath='{.webhooks[0].clientConfig.service.name} {.webhooks[0].failurePolicy}'   # istiod-${to.name} Fail, once istiod-${to.name} has patched it`,
      // The probe must pass the CRD's schema, so that only Istio's webhook can refuse it (a Gateway
      // with port -1 is refused by the schema, with or without a webhook): host `*` on a
      // VirtualService bound to the mesh (no gateways) is refused by Istio's validation
      // (validateVirtualService: "wildcard host * is not allowed for virtual services bound to the
      // mesh gateway"). The grep checks that it was the default validator's webhook that said so.
      `kubectl apply --dry-run=server -f - <<<'{"apiVersion":"networking.istio.io/v1beta1","kind":"VirtualService","metadata":{"name":"mesh-upgrade-validation-probe","namespace":"default"},"spec":{"hosts":["*"],"http":[{"route":[{"destination":{"host":"mesh-upgrade-validation-probe"}}]}]}}' 2>&1 | grep 'admission webhook "validation.istio.io" denied'   # must print the denial`,
    ],
    rollback: [`Revert this pull request: the Service, tags and validator point back at ${from.name}, which is still installed.`],
  };
}

/**
 * When the `default` tag or the default validator lives only in the cluster (istioctl or asmcli
 * made them), git cannot move it: the phase says so and moves it with istioctl.
 */
function defaultTagOutsideGit(ctx: PlanContext): string[] {
  const { inventory, from, to } = ctx;
  // A non-revisioned control plane in git hands `default` over in its own way; an unseen one (managed) does not.
  if (from.name === 'default' && from.flavor !== 'managed') return [];
  // Leaving the operator for Helm: the new releases take `default` (phases/operator-to-helm.ts).
  if (isOperatorToHelm(ctx.installed, to)) return [];
  const helmTagged = inventory.revisions.some((r) => stringList(r.helm?.values.revisionTags).includes('default'));
  const tagInGit = inventory.tags.some((t) => t.tag === 'default') || helmTagged;
  const validatorInGit = inventory.defaultValidator !== null || inventory.helmBase !== null;
  if (tagInGit && validatorInGit) return [];
  const missing = [
    tagInGit ? null : 'the default tag (MutatingWebhookConfiguration istio-revision-tag-default)',
    validatorInGit ? null : 'ValidatingWebhookConfiguration istiod-default-validator',
  ].filter(Boolean);
  ctx.warn({
    code: 'default-tag-outside-git',
    message: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not in the repo, so this pull request cannot move ${missing.length > 1 ? 'them' : 'it'}: the default-revision phase runs istioctl tag set default --revision ${to.name} --overwrite.`,
    file: null,
  });
  const istioctl = to.version ? `istioctl ${to.version}` : `the istioctl of ${to.name}`;
  return [
    `istioctl tag set default --revision ${to.name} --overwrite   # with ${istioctl}; moves ${missing.join(' and ')}, which live outside git`,
    `istioctl tag list   # default → ${to.name}`,
  ];
}

/** Annotation on an Argo CD Application whose pruning the tag handover turned off. */
const PRUNE_PAUSED_ANNOTATION = 'mesh-upgrade-bot.io/prune-paused-for-tag-handover';

/**
 * The revision tags move from the old istiod release to the new one in this one commit, without a
 * moment where no release renders them (pods created then would start without a sidecar):
 * - Argo CD: the old Application stops rendering them with pruning off, so it leaves the live tags
 *   alone instead of deleting them before the new Application applies its own; both never render
 *   them at once (they would fight). Pruning comes back when the tags return (rollback) or the
 *   Application goes (cleanup).
 * - Flux: Helm will not hand a resource from one release to another, so the old release must let go
 *   first; the step reconciles the two releases back to back to keep the gap to seconds.
 */
function helmTagHandover(ctx: PlanContext, s: DraftScope): { objects: PlacedObject[]; manual: string[] } {
  const { inventory, to } = ctx;
  const oldRelease = ctx.installed?.helm;
  const tags = oldRelease ? stringList(oldRelease.values.revisionTags) : [];
  if (oldRelease?.chart !== 'istiod' || tags.length === 0) return { objects: [], manual: [] };
  const target = inventory.revisions.find((r) => r.name === to.name)?.helm?.object ?? ctx.created.get('istiod-release');
  if (!target) return { objects: [], manual: [] };
  const argo = oldRelease.object.apiVersion.startsWith('argoproj.io/');
  const old = oldRelease.object;
  const autoPrune = argo && getPath(old.body, ['spec', 'syncPolicy', 'automated', 'prune']) === true;
  const resumePrune = argo && asDict(getPath(target.body, ['metadata', 'annotations']))[PRUNE_PAUSED_ANNOTATION] !== undefined;
  const objects: PlacedObject[] = [
    {
      desired: new HelmValues(s.scope, s.id(old.kind, old.name), {
        apiVersion: old.apiVersion,
        kind: old.kind,
        name: old.name,
        namespace: old.namespace,
        valuesPath: oldRelease.valuesPath,
        values: { revisionTags: [] },
        ...(autoPrune
          ? {
              also: {
                metadata: { annotations: { [PRUNE_PAUSED_ANNOTATION]: 'true' } },
                spec: { syncPolicy: { automated: { prune: false } } },
              },
            }
          : {}),
      }),
      targets: [old],
    },
    {
      desired: new HelmValues(s.scope, s.id(target.kind, target.name), {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.name,
        namespace: target.namespace,
        valuesPath: oldRelease.valuesPath,
        // Tags the new release already renders (another old revision's, moved earlier) stay.
        values: {
          revisionTags: [
            ...new Set([...stringList(inventory.revisions.find((r) => r.name === to.name)?.helm?.values.revisionTags), ...tags]),
          ],
        },
        ...(resumePrune
          ? {
              also: { spec: { syncPolicy: { automated: { prune: true } } } },
              remove: [pointer('metadata', 'annotations', PRUNE_PAUSED_ANNOTATION)],
            }
          : {}),
      }),
      targets: [target],
    },
  ];
  const namespace = old.namespace ?? 'flux-system';
  const manual = argo
    ? autoPrune || getPath(old.body, ['spec', 'syncPolicy', 'automated']) !== undefined
      ? []
      : [
          `argocd app sync ${old.name} && argocd app sync ${target.name}   # in this order, without --prune: ${old.name} must not delete the tag(s) ${tags.join(', ')}`,
        ]
    : [
        `flux reconcile helmrelease -n ${namespace} ${old.name} && flux reconcile helmrelease -n ${namespace} ${target.name}   # right after the merge: the old release drops the tag(s) ${tags.join(', ')}, the new one creates them`,
      ];
  return { objects, manual };
}

function helmValues(s: DraftScope, release: HelmRelease, values: Record<string, string | string[]>): HelmValues {
  const { object } = release;
  return new HelmValues(s.scope, s.id(object.kind, object.name), {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.name,
    namespace: object.namespace,
    valuesPath: release.valuesPath,
    values,
  });
}

/** Names of the webhooks that call the old revision's istiod Service (webhooks with a `url` are left alone). */
function webhooksCalling(object: IndexedObject, service: string): string[] {
  const webhooks = Array.isArray(object.body.webhooks) ? object.body.webhooks : [];
  return webhooks
    .map(asDict)
    .filter((w) => asDict(asDict(w.clientConfig).service).name === service)
    .map((w) => String(w.name));
}

/**
 * Istio's order for a non-revisioned install: `istioctl tag set default --revision <new>` creates
 * `istio-revision-tag-default` (the four webhooks of the non-revisioned injector, calling the new
 * istiod) and deactivates `istio-sidecar-injector`. In git both happen in one commit: with the tag
 * alone, both injectors would match every istio-injection=enabled pod; with the deactivation alone,
 * those namespaces would lose injection.
 * @see https://istio.io/latest/docs/setup/upgrade/canary/#default-tag
 */
function nonRevisionedHandover(ctx: PlanContext, s: DraftScope): PlacedObject[] {
  const { from, to, inventory, index } = ctx;
  const injector = inventory.nonRevisionInjector;
  if (from.name !== 'default' || !injector) return [];
  const objects: PlacedObject[] = [];
  if (!inventory.tags.some((t) => t.tag === 'default')) {
    const file = fileBeside(index.kustomizations, injector.file, 'istio-revision-tag-default.yaml');
    objects.push({
      desired: new RevisionTag(s.scope, s.id('MutatingWebhookConfiguration', 'istio-revision-tag-default'), {
        template: injector.body,
        tag: 'default',
        revision: to.name,
        file,
      }),
      targets: [],
    });
  }
  const webhookNames = (Array.isArray(injector.body.webhooks) ? injector.body.webhooks : []).map((w) => String(asDict(w).name));
  objects.push({
    desired: new WebhookDeactivation(s.scope, s.id('MutatingWebhookConfiguration', injector.name), { name: injector.name, webhookNames }),
    targets: [injector],
  });
  return objects;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
