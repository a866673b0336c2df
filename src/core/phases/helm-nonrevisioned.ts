import { pointer } from '../../constructs/desired-object.js';
import { FluxVariable } from '../../constructs/flux-variable.js';
import { HelmValues } from '../../constructs/helm-release.js';
import { NamespaceInjection } from '../../constructs/namespace-injection.js';
import { said, settingHint, UpgradeRefusedError } from '../../model/errors.js';
import { asDict, getPath, INJECTION_LABEL, ISTIO_SYSTEM, REV_LABEL, stringMap } from '../../model/kube.js';
import type { MergePatch } from '../../model/merge-patch.js';
import type { IndexedObject } from '../../model/objects.js';
import type { PlacedObject } from '../../model/placed-object.js';
import type { HelmRelease, InstalledRevision } from '../inventory.js';
import type { StrategySetting } from '../upgrade-options.js';
import type { DraftScope, PlanContext } from './context.js';

/**
 * The first canary from a Helm istiod release without `revision` (Istio's plain `helm install
 * istiod`), following Istio's Helm canary upgrade: a second istiod release with `revision`, every
 * namespace relabelled to it, then `default` handed over.
 *
 * Why the namespaces are relabelled (never the tag strategy): the old release renders the
 * non-revisioned injector `istio-sidecar-injector` (which serves `istio-injection=enabled`), the new
 * one renders the `default` tag (`revisionTags: [default]`). They are two Argo CD Applications or Flux
 * HelmReleases that sync independently, so the moment one stops and the other starts is not one
 * apply. Relabelled namespaces (`istio.io/rev=<new>`) are served by the new release's own injector
 * before the handover, so no pod in git depends on it; only pods outside git still on
 * `istio-injection=enabled` (or `sidecar.istio.io/inject=true`) see the handover.
 * @see https://istio.io/latest/docs/setup/upgrade/helm/
 */
export function isHelmNonRevisioned(installed: InstalledRevision | null): installed is InstalledRevision & { helm: HelmRelease } {
  return installed?.name === 'default' && installed.install === 'helm' && installed.helm?.chart === 'istiod';
}

/** The strategy a Helm non-revisioned upgrade must use (relabel), or null when the style leaves it open. */
export function forcedStrategy(installed: InstalledRevision | null, requested: StrategySetting | undefined): 'relabel' | null {
  if (!isHelmNonRevisioned(installed)) return null;
  if (requested === 'tag') {
    throw new UpgradeRefusedError(
      said`${settingHint('strategy', 'tag')} is not possible from the non-revisioned Helm release ${installed.helm.object.kind} ${installed.helm.object.name}: istio-injection=enabled is served by its injector istio-sidecar-injector, and the default tag would be rendered by the new release, a separate ${installed.helm.object.kind === 'HelmRelease' ? 'HelmRelease' : 'Application'} that syncs on its own, so namespaces that follow the tag would depend on two releases changing at once. Use ${settingHint('strategy', 'relabel')} (the default here): every namespace moves to istio.io/rev=<new> and restarts before default is handed over.`,
      'strategy-tag-non-revisioned-helm',
    );
  }
  return 'relabel';
}

/**
 * The default-revision handover, in one commit: the new release renders the `default` tag
 * (`revisionTags: [default]`, which serves istio-injection=enabled namespaces and
 * `sidecar.istio.io/inject=true` pods outside git), and the old release stops rendering its injector
 * (`global.operatorManageWebhooks: true`: in the istiod chart that value gates only
 * templates/mutatingwebhook.yaml, the `istio-sidecar-injector` configuration; istiod, its Service
 * and the validator are still rendered). The base chart's `defaultRevision` is set by the caller.
 */
export function helmNonRevisionedHandover(ctx: PlanContext, s: DraftScope): { objects: PlacedObject[]; manual: string[] } {
  const { installed, inventory, to } = ctx;
  if (!isHelmNonRevisioned(installed)) return { objects: [], manual: [] };
  const oldRelease = installed.helm;
  const existing = inventory.revisions.find((r) => r.name === to.name)?.helm ?? null;
  const target = existing?.object ?? ctx.created.get('istiod-release');
  if (!target) return { objects: [], manual: [] };
  const objects: PlacedObject[] = [];
  const old = oldRelease.object;
  if (asDict(oldRelease.values.global).operatorManageWebhooks !== true) {
    objects.push({
      desired: new HelmValues(s.scope, s.id(old.kind, old.name), {
        apiVersion: old.apiVersion,
        kind: old.kind,
        name: old.name,
        namespace: old.namespace,
        valuesPath: oldRelease.valuesPath,
        values: { global: { operatorManageWebhooks: true } },
      }),
      targets: [old],
    });
  }
  const tags = existing ? stringList(existing.values.revisionTags) : [];
  if (!tags.includes('default')) {
    objects.push({
      desired: new HelmValues(s.scope, s.id(target.kind, target.name), {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.name,
        namespace: target.namespace,
        valuesPath: existing?.valuesPath ?? oldRelease.valuesPath,
        values: { revisionTags: [...tags, 'default'] },
      }),
      targets: [target],
    });
  }
  if (objects.length === 0) return { objects, manual: [] };
  const argo = old.apiVersion.startsWith('argoproj.io/');
  const automated = getPath(old.body, ['spec', 'syncPolicy', 'automated']);
  const autoPrune = argo && asDict(automated).prune === true;
  const manual: string[] = [];
  if (argo) {
    if (automated === undefined)
      manual.push(
        `argocd app sync ${target.name} && argocd app sync ${old.name}   # in this order: the default tag first (istiod skips a pod it has already injected), then the old release stops rendering istio-sidecar-injector`,
      );
    if (!autoPrune) {
      manual.push(
        `kubectl delete mutatingwebhookconfiguration istio-sidecar-injector   # right after ${old.name} has synced: it no longer renders the injector, and without auto-prune Argo CD leaves it (then both it and the default tag would inject istio-injection=enabled pods)`,
      );
    }
  } else {
    const ns = (o: IndexedObject) => o.namespace ?? 'flux-system';
    manual.push(
      `flux reconcile helmrelease -n ${ns(target)} ${target.name} && flux reconcile helmrelease -n ${ns(old)} ${old.name}   # right after the merge, in this order: the default tag first (istiod skips a pod it has already injected), then helm upgrade of ${old.name} removes istio-sidecar-injector, which it no longer renders`,
    );
  }
  return { objects, manual };
}

/** Before cleanup merges: the old release takes the `istiod` Service (Helm renders it only for revision "") with it. */
export function helmNonRevisionedCleanupChecks(ctx: PlanContext): { beforeMerge: string[]; why: string | null } {
  if (!isHelmNonRevisioned(ctx.installed)) return { beforeMerge: [], why: null };
  const old = ctx.installed.helm.object;
  return {
    beforeMerge: [
      `kubectl get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\t"}{.spec.containers[?(@.name=="istio-proxy")].env[?(@.name=="ISTIO_META_DISCOVERY_ADDRESS")].value}{"\\n"}{end}' | grep -c 'istiod\\.${ISTIO_SYSTEM}'   # must print 0: proxies outside git injected by the old istiod (istio-injection=enabled or sidecar.istio.io/inject=true pods, jobs, bare pods) must be restarted first, or they lose their control plane with the istiod Service`,
    ],
    why: `Deletes the non-revisioned istiod release ${old.kind} ${old.name}; Helm removes everything it rendered: istiod, its \`istiod\` Service (the chart renders that Service only for revision ""), ConfigMaps, RBAC and the validator istio-validator-${ISTIO_SYSTEM}. The base chart, the CRDs and ${ISTIO_SYSTEM} stay. Proxies still connected to the old istiod — anything outside git that was not restarted — lose their control plane: the checks under "Before merging" must find none.`,
  };
}

/**
 * Gateways phase, Helm non-revisioned: a gateway release's `revision` alone does not move its pods
 * while their namespace keeps istio-injection=enabled (that label wins over the pod's istio.io/rev),
 * so the gateway namespace moves too: its Namespace in git, or the Argo CD Application's
 * `managedNamespaceMetadata` labels. A Flux gateway release that `dependsOn` the old istiod release
 * depends on the new one instead (the old one goes at cleanup).
 */
export function helmGatewayMoves(
  ctx: PlanContext,
  s: DraftScope,
  release: HelmRelease,
): { also: MergePatch | null; remove: string[]; objects: PlacedObject[] } {
  const { from, to, inventory } = ctx;
  const { object } = release;
  const spec = asDict(object.body.spec);
  let also: MergePatch | null = null;
  const remove: string[] = [];
  const objects: PlacedObject[] = [];
  const old = ctx.installed?.helm?.object;
  const target = inventory.revisions.find((r) => r.name === to.name)?.helm?.object ?? ctx.created.get('istiod-release');
  if (object.kind === 'HelmRelease' && old?.kind === 'HelmRelease' && Array.isArray(spec.dependsOn)) {
    const isOld = (d: Record<string, unknown>) =>
      d.name === old.name && (d.namespace === undefined ? object.namespace === old.namespace : d.namespace === old.namespace);
    // The writer edits list entries by name and cannot rename one: said, not written.
    if (spec.dependsOn.map(asDict).some(isOld)) {
      ctx.warn({
        code: 'flux-depends-on-old-release',
        message: `HelmRelease ${object.namespace ?? ''}/${object.name} dependsOn ${old.name}, which the cleanup phase removes; helm-controller does not reconcile a release whose dependency is missing. Change that entry to ${target?.name ?? `the ${to.name} istiod release`} before cleanup is merged.`,
        file: object.file,
      });
    }
  }
  if (from.name !== 'default') return { also, remove, objects };
  const managed = stringMap(getPath(object.body, ['spec', 'syncPolicy', 'managedNamespaceMetadata', 'labels']));
  if (managed[INJECTION_LABEL] !== undefined) {
    also = { spec: { syncPolicy: { managedNamespaceMetadata: { labels: { [REV_LABEL]: to.name } } } } };
    remove.push(pointer('spec', 'syncPolicy', 'managedNamespaceMetadata', 'labels', INJECTION_LABEL));
  }
  const destination = String(
    getPath(object.body, ['spec', 'destination', 'namespace']) ??
      getPath(object.body, ['spec', 'targetNamespace']) ??
      object.namespace ??
      '',
  );
  const ns = inventory.namespaces.find((n) => n.name === destination);
  // Two gateway releases in one namespace (public and internal ingress) move it once.
  if (ns && ns.revision === from.name && !s.scope.node.tryFindChild(s.id('Namespace', destination))) {
    objects.push({
      desired: new NamespaceInjection(s.scope, s.id('Namespace', destination), { namespace: destination, revision: to.name }),
      targets: ns.definitions,
    });
  }
  return { also, remove, objects };
}

/**
 * How a release's chart version moves to `version` when it comes from a Flux post-build variable:
 * the variable's source (its ConfigMap, or the Kustomization's `postBuild.substitute`) is edited
 * when no other release uses it; otherwise the literal version is pinned in this release, and a
 * warning says which variable and file.
 */
export function chartVersionMove(
  ctx: PlanContext,
  s: DraftScope,
  release: HelmRelease,
  version: string,
): { chartVersion: { path: readonly string[]; version: string } | null; objects: PlacedObject[] } {
  const path = release.chartVersionPath;
  if (!path) return { chartVersion: null, objects: [] };
  const sub = release.chartVersionSubstitution;
  if (!sub) return { chartVersion: { path, version }, objects: [] };
  const pattern = new RegExp(`\\$\\{${sub.variable}(?::?[=-][^}]*)?\\}`);
  const sharers = ctx.index
    .ofKind('HelmRelease')
    .filter(
      (o) =>
        o !== release.object &&
        !(o.file === release.object.file && o.documentIndex === release.object.documentIndex) &&
        pattern.test(JSON.stringify(o.body)),
    );
  const holder = sub.source === 'configmap' ? sub.configMap : sub.source === 'substitute' ? sub.kustomization : null;
  if (sharers.length === 0 && holder) {
    const desired = new FluxVariable(s.scope, s.id(holder.kind, holder.name, sub.variable), {
      object: holder,
      variable: sub.variable,
      value: version,
      where: sub.source === 'configmap' ? 'configmap' : 'substitute',
    });
    return { chartVersion: null, objects: [{ desired, targets: [holder] }] };
  }
  ctx.warn({
    code: 'flux-substitution-pinned',
    message: `${release.object.kind} ${release.object.name} takes its chart version from the Flux variable \${${sub.variable}}${holder ? ` (${holder.kind} ${holder.name}, ${holder.file})` : ''}, which ${sharers.length > 0 ? `${sharers.map((o) => o.name).join(', ')} also use${sharers.length === 1 ? 's' : ''}` : 'the repo cannot edit'}: the upgrade pins ${version} in ${release.object.file} instead of changing the variable.`,
    file: release.object.file,
  });
  return { chartVersion: { path, version }, objects: [] };
}

/** The new istiod release is a copy of the old one: a chart version shared through a Flux variable is pinned in the copy. */
export function warnPinnedCopy(ctx: PlanContext, release: HelmRelease, copyFile: string): void {
  const sub = release.chartVersionSubstitution;
  if (!sub || !ctx.to.version) return;
  const holder = sub.source === 'configmap' ? sub.configMap : sub.source === 'substitute' ? sub.kustomization : null;
  ctx.warn({
    code: 'flux-substitution-pinned',
    message: `${release.object.kind} ${release.object.name} takes its chart version from the Flux variable \${${sub.variable}}${holder ? ` (${holder.kind} ${holder.name}, ${holder.file})` : ''}; the old release keeps it, so the new release ${copyFile} pins ${ctx.to.version} instead.`,
    file: copyFile,
  });
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
