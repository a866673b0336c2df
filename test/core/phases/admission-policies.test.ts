import { diffLines } from 'diff';
import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade, snapshotAfter } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { findInjectionPolicies } from '../../../src/core/sources/admission-policies.js';
import { PAUSED_ANNOTATION } from '../../../src/core/sources/admission-policy-model.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { type BuiltObject, changedFiles, hasKubectl, kustomizeBuild, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const ROOT = 'clusters/shop';

type Policy = BuiltObject & { spec: Record<string, unknown> };
const find = (objects: readonly BuiltObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as Policy;

describe('admission policies in the way of a relabel (fixture admission-policies)', () => {
  let repo: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    repo = await loadFixture('admission-policies');
    plan = planUpgrade(repo, { to: TO });
    steps = runUpgrade(repo, { to: TO });
  });

  it('finds the Gatekeeper constraints and Kyverno rules about the mesh labels, and leaves the others alone', () => {
    const found = findInjectionPolicies(buildYamlIndex(repo), TO).map((p) => `${p.engine} ${p.object.kind}/${p.object.name}: ${p.effect}`);
    expect(found).toEqual([
      'gatekeeper K8sNoRevisionPin/no-revision-pins: names istio-injection or istio.io/rev in the Rego of ConstraintTemplate k8snorevisionpin',
      'gatekeeper K8sRequiredLabels/meshed-namespaces-need-injection: requires the label istio-injection matching ^enabled$',
      'kyverno ClusterPolicy/require-sidecar-injection: rule meshed-namespaces-inject requires istio-injection: enabled',
      'kyverno ClusterPolicy/default-injection: rule add-injection-label writes istio-injection: enabled back',
    ]);
  });

  it('relaxes them in a phase of their own, right before the first phase that relabels a namespace', () => {
    expect(plan.phases.map((p) => p.id)).toEqual([
      'control-plane',
      'gateways',
      'admission-policies',
      'workloads',
      'default-revision',
      'cleanup',
    ]);
    const phase = plan.phases.find((p) => p.id === 'admission-policies')!;
    expect(phase.changes.map((c) => `${c.kind} ${c.name}`).sort()).toEqual([
      'ClusterPolicy default-injection',
      'ClusterPolicy require-sidecar-injection',
      'K8sNoRevisionPin no-revision-pins',
      'K8sRequiredLabels meshed-namespaces-need-injection',
    ]);
    expect(phase.why).toContain('one sync applies Namespaces before policy objects');
    expect(phase.why).toContain(
      'K8sRequiredLabels meshed-namespaces-need-injection (gatekeeper: requires the label istio-injection matching ^enabled$)',
    );
  });

  it('leaves policies alone whose match selects no namespace the plan relabels, and rules that only mention a label in their message', () => {
    const elsewhere = new Map(repo);
    for (const file of ['clusters/shop/policies/gatekeeper/required-labels.yaml', 'clusters/shop/policies/kyverno/namespaces.yaml'])
      elsewhere.set(file, repo.get(file)!.replaceAll('mesh: enrolled', 'mesh: legacy-vm'));
    elsewhere.set(
      'clusters/shop/policies/gatekeeper/no-revision-pins.yaml',
      repo
        .get('clusters/shop/policies/gatekeeper/no-revision-pins.yaml')!
        .replace('excludedNamespaces: ["istio-system", "checkout"]', 'namespaces: ["vm-*"]'),
    );
    elsewhere.set(
      'clusters/shop/policies/kyverno/pods.yaml',
      'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: pod-labels\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: app-and-version\n      match:\n        any:\n          - resources:\n              kinds: [Pod]\n      validate:\n        message: "Pods in istio-injection namespaces need app and version labels"\n        pattern:\n          metadata:\n            labels:\n              app: "?*"\n              version: "?*"\n',
    );
    const plan = planUpgrade(elsewhere, { to: TO });
    expect(plan.phases.map((p) => p.id)).not.toContain('admission-policies');
    expect(
      plan.phases
        .flatMap((p) => p.files)
        .map((f) => f.path)
        .filter((f) => f.includes('/policies/')),
    ).toEqual([]);
  });

  it('reads Kyverno policies whose conditions use JMESPath {{ }} variables, and puts an enforcing one in Audit', () => {
    const withDeny = new Map(repo).set(
      'clusters/shop/policies/kyverno/ns-deny.yaml',
      'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: keep-injection-label\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: no-dropping-injection\n      match:\n        any:\n          - resources:\n              kinds: [Namespace]\n      validate:\n        message: "do not drop the injection label"\n        deny:\n          conditions:\n            any:\n              - key: "{{ request.object.metadata.labels.\\"istio-injection\\" || \'\' }}"\n                operator: NotEquals\n                value: "{{ request.oldObject.metadata.labels.\\"istio-injection\\" || \'\' }}"\n',
    );
    // Listed in the kustomization: a file it does not name is never applied (and skipped).
    withDeny.set(
      'clusters/shop/policies/kustomization.yaml',
      `${repo.get('clusters/shop/policies/kustomization.yaml')!.trimEnd()}\n  - kyverno/ns-deny.yaml\n`,
    );
    const plan = planUpgrade(withDeny, { to: TO });
    expect(plan.warnings.filter((w) => w.code === 'skipped-file').map((w) => w.file)).not.toContain(
      'clusters/shop/policies/kyverno/ns-deny.yaml',
    );
    const phase = plan.phases.find((p) => p.id === 'admission-policies')!;
    expect(phase.changes.map((c) => c.name)).toContain('keep-injection-label');
    const text = snapshotAfter(plan, plan.phases.indexOf(phase) + 1).get('clusters/shop/policies/kyverno/ns-deny.yaml')!;
    expect(text).toContain('validationFailureAction: Audit');
  });

  it('plans nothing for them under the tag strategy, where no namespace is relabelled', () => {
    const tagged = new Map(repo);
    const ns = 'clusters/shop/apps/namespaces.yaml';
    tagged.set(ns, repo.get(ns)!.replace('    istio.io/rev: 1-21-2\n', '    istio-injection: enabled\n'));
    const tagPlan = planUpgrade(tagged, { to: TO });
    expect(tagPlan.strategy).toBe('tag');
    expect(tagPlan.phases.map((p) => p.id)).not.toContain('admission-policies');
  });

  it.skipIf(!hasKubectl)(
    'builds after every phase: policies relaxed before any namespace moves, every meshed namespace injected once, enforcement back at cleanup',
    async () => {
      expect(steps.map((s) => s.phase)).toEqual(['control-plane', 'admission-policies', 'workloads', 'default-revision', 'cleanup']);
      for (const step of steps) {
        const built = await kustomizeBuild(step.after, ROOT);
        const required = find(built, 'K8sRequiredLabels', 'meshed-namespaces-need-injection');
        const kyverno = find(built, 'ClusterPolicy', 'require-sidecar-injection');
        const storefront = built.find((o) => o.kind === 'Namespace' && o.metadata.name === 'storefront')!;
        const relabelled = storefront.metadata.labels?.['istio.io/rev'] === TO;
        if (relabelled && step.phase !== 'cleanup') {
          // Nothing that would reject the relabelled namespace is enforcing while it moves.
          expect(required.spec.enforcementAction, step.phase).toBe('warn');
          expect(JSON.stringify(kyverno.spec)).toContain('istio.io/rev');
        }
        for (const [namespace, pod] of [
          ['storefront', 'web'],
          ['checkout', 'checkout-api'],
        ] as const) {
          const hits = injectorsFor(built as never, namespace, { app: pod });
          expect(hits.length, `${namespace} after ${step.phase}: ${hits.join(', ')}`).toBeLessThanOrEqual(1);
        }
        expect(injectorsFor(built as never, 'reporting', { app: 'report-builder' })).toEqual([]);
      }
      const final = await kustomizeBuild(steps.at(-1)!.after, ROOT);
      const required = find(final, 'K8sRequiredLabels', 'meshed-namespaces-need-injection');
      expect(required.spec.enforcementAction).toBeUndefined();
      expect(required.spec.parameters).toEqual({
        message: 'meshed namespaces must enable sidecar injection',
        labels: [{ key: 'istio.io/rev' }],
      });
      expect(required.metadata.annotations).toBeUndefined();
      // The Rego constraint cannot be rewritten: it stays on warn, and cleanup says what to do.
      const pins = find(final, 'K8sNoRevisionPin', 'no-revision-pins');
      expect(pins.spec.enforcementAction).toBe('warn');
      expect(pins.metadata.annotations?.[PAUSED_ANNOTATION]).toBe('deny');
      expect(plan.phases.find((p) => p.id === 'cleanup')!.manual.join('\n')).toContain('change ConstraintTemplate k8snorevisionpin');
      for (const untouched of [
        ['K8sRequiredLabels', 'namespaces-need-team'],
        ['ClusterPolicy', 'require-strict-mtls'],
      ] as const) {
        expect(find(final, ...untouched)).toEqual(find(await kustomizeBuild(repo, ROOT), ...untouched));
      }
      const storefront = final.find((o) => o.kind === 'Namespace' && o.metadata.name === 'storefront')!;
      expect(storefront.metadata.labels).toEqual({ team: 'web', mesh: 'enrolled', 'istio.io/rev': TO });
    },
  );

  it('is idempotent: planning over the final repo changes nothing', () => {
    const again = planUpgrade(steps.at(-1)!.after, { to: TO });
    expect(again.phases.flatMap((p) => p.files)).toEqual([]);
  });

  it('reads a merged relaxation as done, and still restores it at cleanup', () => {
    const afterPolicies = steps.find((s) => s.phase === 'admission-policies')!.after;
    const replanned = planUpgrade(afterPolicies, { to: TO });
    expect(replanned.phases.find((p) => p.id === 'admission-policies')!.status).toBe('done');
    expect(replanned.phases.find((p) => p.id === 'cleanup')!.changes.map((c) => c.name)).toContain('meshed-namespaces-need-injection');
  });

  it('changes only the policy nodes it must', () => {
    const step = steps.find((s) => s.phase === 'admission-policies')!;
    const changed: string[] = [];
    for (const [path, text] of step.after) {
      const before = step.before.get(path);
      if (before === text) continue;
      for (const part of diffLines(before ?? '', text))
        if (part.added || part.removed)
          changed.push(
            ...part.value
              .split('\n')
              .filter(Boolean)
              .map((l) => `${part.added ? '+' : '-'}${l.trim()}`),
          );
    }
    expect(changed.sort()).toEqual(
      [
        '+annotations:',
        '+annotations:',
        `+${PAUSED_ANNOTATION}: deny`,
        `+${PAUSED_ANNOTATION}: unset`,
        '+enforcementAction: warn',
        '+enforcementAction: warn',
        '-enforcementAction: deny',
        '-pattern:',
        '-metadata:',
        '-labels:',
        '-istio-injection: enabled',
        '+anyPattern:',
        '+- metadata:',
        '+labels:',
        '+istio-injection: enabled',
        '+- metadata:',
        '+labels:',
        '+istio.io/rev: "?*"',
        '-+(istio-injection): enabled',
        '+(istio.io/rev): 1-22-1'.replace(/^/, '+'),
        // The mutate rule no longer labels a namespace that istio-injection already enrolls.
        '+preconditions:',
        '+all:',
        `+- key: "{{ request.object.metadata.labels.\\"istio-injection\\" || '' }}"`,
        '+operator: Equals',
        '+value: ""',
      ].sort(),
    );
  });

  it('writes only schema-valid objects', async () => {
    const changed = changedFiles(steps);
    const report = await validateYamlFiles(changed);
    expect(report.errors).toEqual([]);
  });
});
