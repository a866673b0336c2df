import type { YamlIndex } from '../repo-index.js';
import type { InjectionPolicy } from './admission-policy-model.js';
import { gatekeeperConstraint } from './gatekeeper.js';
import { kyvernoPolicy } from './kyverno.js';

/**
 * Policies in the repo that a relabel runs into. Policies that do not mention the mesh labels
 * (mTLS, authorization, resource limits) are left alone.
 */
export function findInjectionPolicies(index: YamlIndex, newRevision: string): InjectionPolicy[] {
  const templates = new Map(
    index
      .ofKind('ConstraintTemplate')
      .filter((t) => t.apiVersion.startsWith('templates.gatekeeper.sh/'))
      .map((t) => [t.name, t]),
  );
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
