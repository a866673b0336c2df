import { asDict, describe, getPath } from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import type { PlanContext } from './phases/context.js';
import { warnDigestOnlySidecars } from './sources/proxy-digests.js';

/**
 * Findings about the repo that a reviewer should see before the first merge: label conflicts,
 * double injection, opted-out pods, a control plane without redundancy, and webhook fields Argo CD
 * will report as drift. They are warnings: the plan still comes out, with the reason attached.
 */
export function collectPreflightWarnings(ctx: PlanContext): void {
  const { inventory, from, installed, warn } = ctx;
  warnDigestOnlySidecars(ctx);

  for (const ns of inventory.namespaces) {
    if (ns.hasBothLabels) {
      warn({
        code: 'namespace-both-labels',
        message: `namespace ${ns.name} has both istio-injection and istio.io/rev (istioctl analyze IST0123); istio-injection wins today. The workloads phase removes istio-injection.`,
        file: ns.definitions[0]?.file ?? null,
      });
    }
  }

  if (inventory.nonRevisionInjector && inventory.tags.some((t) => t.tag === 'default')) {
    warn({
      code: 'double-injection',
      message: `MutatingWebhookConfiguration istio-sidecar-injector (no revision) and the default tag both match istio-injection=enabled and istio.io/rev=default: pods could be injected twice (IST0139). Remove the non-revision injector from git; Argo CD self-heal would undo istioctl's deactivation of it.`,
      file: inventory.nonRevisionInjector.file,
    });
  }

  for (const workload of inventory.workloads) {
    if (
      workload.optedOut &&
      workload.object.namespace &&
      inventory.namespaces.some((n) => n.name === workload.object.namespace && n.revision === from.name)
    ) {
      warn({
        code: 'pods-opted-out',
        message: `${describe(workload.object)} opts out of injection (sidecar.istio.io/inject: "false"); it is not restarted.`,
        file: workload.object.file,
      });
    }
  }

  if (installed && installed.istiodReplicas !== null && installed.istiodReplicas < 2) {
    warn({
      code: 'istiod-no-redundancy',
      message: `istiod ${from.name} runs ${installed.istiodReplicas} replica; with one pod, a node drain during the upgrade leaves the mesh without a control plane. Consider 2+ replicas (and a PodDisruptionBudget) for ${ctx.to.name}.`,
      file: installed.installer?.file ?? null,
    });
  }

  for (const webhook of inventory.webhooksWithCaBundle) {
    warn({
      code: 'webhook-cabundle-in-git',
      message: `${describe(webhook)} has a caBundle in git; istiod writes that field at runtime, so Argo CD will fight it. Remove caBundle from git and ignore it in the Application.`,
      file: webhook.file,
    });
  }
  for (const app of applicationsDeployingWebhooks(ctx)) {
    const ignored = JSON.stringify(getPath(app.body, ['spec', 'ignoreDifferences']) ?? []);
    const missing = ['caBundle', 'failurePolicy'].filter((field) => !ignored.includes(field));
    if (missing.length === 0) continue;
    warn({
      code: 'webhook-drift',
      message: `Argo CD Application ${app.name} syncs Istio webhook configurations but does not ignore ${missing.join(' and ')}, which istiod rewrites at runtime: the Application will stay OutOfSync (and self-heal will undo istiod). Add to spec.ignoreDifferences:\n${IGNORE_DIFFERENCES_SNIPPET}`,
      file: app.file,
    });
  }

  for (const app of applicationsDeployingWebhooks(ctx)) {
    const automated = asDict(getPath(app.body, ['spec', 'syncPolicy', 'automated']));
    if (Object.keys(automated).length > 0 && automated.enabled !== false && automated.prune !== true) {
      warn({
        code: 'argocd-no-prune',
        message: `Argo CD Application ${app.name} auto-syncs without prune: the cleanup phase deletes the old control plane from git, which auto-sync will never apply. Set spec.syncPolicy.automated.prune: true (or sync cleanup with prune by hand).`,
        file: app.file,
      });
    }
  }

  // (From a non-revisioned IstioOperator the gateways phase moves them to the new one.)
  if (installed?.install === 'istio-operator' && installed.installer && installed.name !== 'default') {
    const gateways = operatorGateways(installed.installer);
    if (gateways.length > 0) {
      warn({
        code: 'operator-managed-gateways',
        message: `IstioOperator ${installed.installer.name} runs gateways (${gateways.join(', ')}, from its components or its profile's defaults); their Deployments have no revision in their name, so the new IstioOperator disables them (otherwise it would upgrade them in place, istio/istio#26019), and deleting ${installed.installer.name} at cleanup would delete them. Move them to their own manifests or Helm release (then disable them in ${installed.installer.name}); cleanup waits until then.`,
        file: installed.installer.file,
      });
    }
  }
}

const IGNORE_DIFFERENCES_SNIPPET = `  ignoreDifferences:
    - group: admissionregistration.k8s.io
      kind: MutatingWebhookConfiguration
      jqPathExpressions:
        - .webhooks[]?.clientConfig.caBundle
    - group: admissionregistration.k8s.io
      kind: ValidatingWebhookConfiguration
      jqPathExpressions:
        - .webhooks[]?.clientConfig.caBundle
        - .webhooks[]?.failurePolicy`;

/** Argo CD Applications whose source deploys Istio's webhook configurations (by path or chart). */
function applicationsDeployingWebhooks(ctx: PlanContext): IndexedObject[] {
  const webhookFiles = [...ctx.index.ofKind('MutatingWebhookConfiguration'), ...ctx.index.ofKind('ValidatingWebhookConfiguration')].map(
    (o) => o.file,
  );
  return ctx.inventory.argoApplications.filter((app) => {
    const source = asDict(getPath(app.body, ['spec', 'source']));
    if (source.chart === 'istiod' || source.chart === 'base') return true;
    const path = typeof source.path === 'string' ? source.path.replace(/^\.\/|\/$/g, '') : null;
    return path !== null && webhookFiles.some((file) => file.startsWith(`${path}/`) || file.includes(`/${path}/`));
  });
}

/** Profiles that enable gateways by themselves (Istio's manifests/profiles). */
const PROFILE_GATEWAYS: Readonly<Record<string, readonly string[]>> = {
  default: ['istio-ingressgateway'],
  demo: ['istio-ingressgateway', 'istio-egressgateway'],
  preview: ['istio-ingressgateway'],
};

/**
 * The gateways an IstioOperator runs: those its components enable, plus its profile's defaults
 * (no profile is `default`) unless the components disable them.
 */
export function operatorGateways(iop: IndexedObject): string[] {
  const spec = asDict(iop.body.spec);
  const profile = typeof spec.profile === 'string' ? spec.profile : 'default';
  const listed = ['ingressGateways', 'egressGateways'].flatMap((key) => asArray(getPath(spec, ['components', key])).map(asDict));
  const running = new Set(PROFILE_GATEWAYS[profile] ?? []);
  for (const gateway of listed) {
    const name = typeof gateway.name === 'string' ? gateway.name : null;
    if (!name) continue;
    if (gateway.enabled === true) running.add(name);
    else if (gateway.enabled === false) running.delete(name);
  }
  return [...running].sort();
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
