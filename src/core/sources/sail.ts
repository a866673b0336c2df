import { getPath, labelsOf, podTemplateOf, REV_LABEL, WORKLOAD_KINDS } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { YamlIndex } from '../repo-index.js';
import { parseVersion } from '../revision.js';

/**
 * Istio installed by the Sail Operator (`sailoperator.io`): an `Istio` resource whose
 * `spec.version` the operator turns into `IstioRevision`s, `IstioRevisionTag`s that follow an
 * `Istio`'s active revision (or name an `IstioRevision`), and the `IstioCNI` node agent.
 *
 * Sail's rules, as its controllers apply them (istio-ecosystem/sail-operator,
 * controllers/istio/istio_controller.go `getActiveRevisionName`):
 * - `InPlace` (the default strategy): one IstioRevision named after the Istio; a new version
 *   upgrades istiod in place.
 * - `RevisionBased`: the active IstioRevision is `<istio-name>-<spec.version with . → ->`
 *   (`default-v1-24-3`); a new version creates a new one beside the old, which the operator
 *   deletes `inactiveRevisionDeletionGracePeriodSeconds` after nothing uses it any more.
 * - An IstioRevisionTag with `targetRef.kind: Istio` follows that Istio's active revision; one with
 *   `kind: IstioRevision` names a revision and stays on it.
 * - The operator restarts nothing: pods keep the proxy they were injected with until they restart.
 */
const SAIL_GROUP = 'sailoperator.io';

type SailUpdateStrategy = 'InPlace' | 'RevisionBased';

interface SailTag {
  readonly tag: string;
  readonly object: IndexedObject;
  readonly targetKind: 'Istio' | 'IstioRevision';
  readonly targetName: string;
}

export interface SailControlPlane {
  readonly istio: IndexedObject;
  readonly name: string;
  readonly strategy: SailUpdateStrategy;
  /** `spec.version` as written (`v1.23.4`, or an alias such as `v1.23-latest`). */
  readonly versionText: string;
  /** The release it names (`1.23.4`), or null for aliases. */
  readonly version: string | null;
  /** The IstioRevision the operator makes active for `spec.version`. */
  readonly activeRevision: string;
  /**
   * Older IstioRevisions of this Istio the repo still implies (RevisionBased): revision names
   * `<name>-v…` other than the active one on namespaces or pods, and the IstioCNI's version while it
   * is behind the Istio's (the CNI is upgraded last). The operator keeps them while they are in use.
   */
  readonly inactiveRevisions: readonly string[];
  readonly gracePeriodSeconds: number | null;
  readonly updateWorkloads: boolean;
  readonly tags: readonly SailTag[];
  readonly cni: readonly IndexedObject[];
}

const isSail = (o: IndexedObject) => o.apiVersion.startsWith(`${SAIL_GROUP}/`) && !o.isPatch;

/** The revision name Sail gives an Istio's active IstioRevision. */
export function sailRevisionName(istioName: string, strategy: SailUpdateStrategy, versionText: string): string {
  return strategy === 'RevisionBased' ? `${istioName}-${versionText.replace(/\./g, '-')}` : istioName;
}

/** The `Istio` resources in the repo, each with its tags and the IstioCNI beside it. */
export function discoverSail(index: YamlIndex): SailControlPlane[] {
  const istios = index.ofKind('Istio').filter(isSail);
  if (istios.length === 0) return [];
  const tags: SailTag[] = index
    .ofKind('IstioRevisionTag')
    .filter(isSail)
    .map((object) => ({
      tag: object.name,
      object,
      targetKind: getPath(object.body, ['spec', 'targetRef', 'kind']) === 'IstioRevision' ? ('IstioRevision' as const) : ('Istio' as const),
      targetName: String(getPath(object.body, ['spec', 'targetRef', 'name']) ?? ''),
    }));
  const cni = index.ofKind('IstioCNI').filter(isSail);
  const revisionLabels = new Set<string>();
  for (const ns of index.ofKind('Namespace')) {
    const rev = labelsOf(ns.body)[REV_LABEL];
    if (rev) revisionLabels.add(rev);
  }
  for (const kind of WORKLOAD_KINDS) {
    for (const w of index.ofKind(kind)) {
      const rev = podTemplateOf(w.body).labels[REV_LABEL];
      if (rev) revisionLabels.add(rev);
    }
  }
  return istios.map((istio) => {
    const strategyText = getPath(istio.body, ['spec', 'updateStrategy', 'type']);
    const strategy: SailUpdateStrategy = strategyText === 'RevisionBased' ? 'RevisionBased' : 'InPlace';
    const versionText = String(getPath(istio.body, ['spec', 'version']) ?? '');
    const version = parseVersion(versionText);
    const activeRevision = sailRevisionName(istio.name, strategy, versionText);
    const inactive = new Set<string>();
    if (strategy === 'RevisionBased') {
      const prefix = `${istio.name}-v`;
      for (const rev of revisionLabels)
        if (rev.startsWith(prefix) && rev !== activeRevision && /^\d+-\d+-\d+$/.test(rev.slice(prefix.length))) inactive.add(rev);
      for (const c of cni) {
        const cniText = String(getPath(c.body, ['spec', 'version']) ?? '');
        const cniVersion = parseVersion(cniText);
        if (cniVersion && version && cniVersion !== version)
          inactive.add(sailRevisionName(istio.name, strategy, cniText.startsWith('v') ? cniText : `v${cniText}`));
      }
    }
    const grace = getPath(istio.body, ['spec', 'updateStrategy', 'inactiveRevisionDeletionGracePeriodSeconds']);
    return {
      istio,
      name: istio.name,
      strategy,
      versionText,
      version,
      activeRevision,
      inactiveRevisions: [...inactive].sort(),
      gracePeriodSeconds: typeof grace === 'number' ? grace : null,
      updateWorkloads: getPath(istio.body, ['spec', 'updateStrategy', 'updateWorkloads']) === true,
      tags: tags.filter((t) =>
        t.targetKind === 'Istio' ? t.targetName === istio.name : t.targetName === activeRevision || inactive.has(t.targetName),
      ),
      cni,
    };
  });
}

/**
 * Where Sail's tags point: a tag on an Istio follows its active revision; one on an IstioRevision
 * stays on it. An InPlace Istio named `default` is revision `default`, which serves
 * `istio-injection=enabled` itself.
 */
export function sailTagTargets(planes: readonly SailControlPlane[]): Map<string, string> {
  const targets = new Map<string, string>();
  for (const plane of planes) {
    for (const t of plane.tags) targets.set(t.tag, t.targetKind === 'Istio' ? plane.activeRevision : t.targetName);
    if (plane.activeRevision === 'default' && !targets.has('default')) targets.set('default', 'default');
  }
  return targets;
}
