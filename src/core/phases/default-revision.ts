import { HelmValues } from '../../constructs/helm-release.js';
import { IstiodService } from '../../constructs/istiod-service.js';
import { WebhookRevision } from '../../constructs/webhook-configuration.js';
import type { PlacedObject } from '../../writer/apply-phase.js';
import type { HelmRelease } from '../discover.js';
import { asDict, getPath, ISTIO_SYSTEM, REV_LABEL, stringMap } from '../kube.js';
import type { IndexedObject } from '../yaml-index.js';
import type { DraftScope, PhaseDraft, PlanContext } from './context.js';

/**
 * Phase 4: everything that names "the" control plane moves: the `istiod` Service selector, every
 * revision tag that points at the old revision (`default` decides what `istio-injection=enabled`
 * and the leader-elected singleton duties use), and the default validator. With Helm: base's
 * `defaultRevision` and the `revisionTags` of the istiod releases.
 */
export function draftDefaultRevision(ctx: PlanContext, s: DraftScope): PhaseDraft {
  const { from, to, inventory } = ctx;
  const objects: PlacedObject[] = [];
  const oldService = `istiod-${from.name}`;

  const service = inventory.istiodService;
  if (service) {
    const selector = stringMap(getPath(service.body, ['spec', 'selector']));
    if (selector[REV_LABEL] === from.name) {
      objects.push({ desired: new IstiodService(s.scope, s.id('Service', 'istiod'), { revision: to.name }), targets: [service] });
    }
  }

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
  if (base && base.values.defaultRevision === from.name) {
    objects.push({ desired: helmValues(s, base, { defaultRevision: to.name }), targets: [base.object] });
  }
  for (const revision of inventory.revisions) {
    const release = revision.helm;
    if (!release || release.chart !== 'istiod') continue;
    const tags = stringList(release.values.revisionTags);
    if (revision.name === from.name && tags.length > 0) {
      objects.push({ desired: helmValues(s, release, { revisionTags: [] }), targets: [release.object] });
    }
  }
  const oldRelease = ctx.installed?.helm;
  const movedTags = oldRelease ? stringList(oldRelease.values.revisionTags) : [];
  if (movedTags.length > 0) {
    const target = inventory.revisions.find((r) => r.name === to.name)?.helm?.object ?? ctx.created.get('istiod-release');
    if (target && oldRelease) {
      objects.push({
        desired: new HelmValues(s.scope, s.id(target.kind, target.name), {
          apiVersion: target.apiVersion,
          kind: target.kind,
          name: target.name,
          namespace: target.namespace,
          valuesPath: oldRelease.valuesPath,
          values: { revisionTags: movedTags },
        }),
        targets: [target],
      });
    }
  }

  return {
    id: 'default-revision',
    title: `Make ${to.name} the default revision`,
    why: `Points the \`istiod\` Service, the revision tag(s) and the default validator at ${to.name}. The \`default\` tag decides which control plane injects namespaces labelled istio-injection=enabled, validates untagged Istio config and does the singleton (leader-elected) work; the \`istiod\` Service is what validation fallbacks, remote clusters and VMs reach. After this, nothing depends on ${from.name}.`,
    objects,
    deletions: [],
    manual: [],
    manualDone: true,
    pods: 0,
    namespaces: [],
    estimatedMinutes: 1,
    verify: [
      `kubectl -n ${ISTIO_SYSTEM} get endpoints istiod   # only istiod-${to.name} pod IPs`,
      `istioctl tag list   # default → ${to.name}`,
      `kubectl get validatingwebhookconfiguration istiod-default-validator -o jsonpath='{.webhooks[0].failurePolicy}'   # Fail, once istiod-${to.name} has patched it`,
      `kubectl apply --dry-run=server -f - <<<'{"apiVersion":"networking.istio.io/v1beta1","kind":"Gateway","metadata":{"name":"invalid-probe","namespace":"default"},"spec":{"selector":{},"servers":[{"port":{"number":-1}}]}}'   # must be rejected`,
    ],
    rollback: [`Revert this pull request: the Service, tags and validator point back at ${from.name}, which is still installed.`],
  };
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

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
