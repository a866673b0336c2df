import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { planUpgrade } from '../../../src/core/plan.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { admitNamespace } from '../../helpers/admission.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { injectorsFor } from '../../helpers/injection.js';
import { hasKubectl, kustomizeBuild, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const POLICIES = 'clusters/shop/policies/';

/** Every policy object the repo declares (no kustomize needed: the policies are plain files). */
function policiesIn(repo: RepoSnapshot) {
  return [...repo]
    .filter(([path]) => path.startsWith(POLICIES) && path.endsWith('.yaml') && !path.endsWith('kustomization.yaml'))
    .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS()))
    .filter(Boolean);
}

/** A namespace created by hand (not in git) before the upgrade: it keeps istio-injection=enabled. */
const OUTSIDE_GIT = { name: 'legacy-batch', labels: { team: 'batch', mesh: 'enrolled', 'istio-injection': 'enabled' } };

/** The repo with a policy file added and listed in the policies kustomization (kustomize applies only listed files). */
function withPolicy(base: ReadonlyMap<string, string>, file: string, text: string): Map<string, string> {
  const kustomization = `${POLICIES}kustomization.yaml`;
  return new Map(base).set(file, text).set(kustomization, `${base.get(kustomization)!}  - ${file.slice(POLICIES.length)}\n`);
}

describe('admission policies after cleanup accept both injection labels (fixture admission-policies)', () => {
  let repo: RepoSnapshot;
  let steps: UpgradeStep[];
  let final: RepoSnapshot;
  beforeAll(async () => {
    repo = await loadFixture('admission-policies');
    steps = runUpgrade(repo, { to: TO });
    final = steps.at(-1)!.after;
  });

  it('admits a namespace outside git still on istio-injection=enabled, and does not pin it to a revision', () => {
    const result = admitNamespace(policiesIn(final), OUTSIDE_GIT);
    expect(result.rejections).toEqual([]);
    expect(result.labels['istio.io/rev']).toBeUndefined();
  });

  it('admits namespaces on istio.io/rev with the new revision or a tag, labels a new meshed namespace, and still rejects one with injection disabled', () => {
    const policies = policiesIn(final);
    for (const rev of [TO, 'prod-stable', 'default']) {
      expect(
        admitNamespace(policies, { name: 'storefront', labels: { team: 'web', mesh: 'enrolled', 'istio.io/rev': rev } }).rejections,
        rev,
      ).toEqual([]);
    }
    const fresh = admitNamespace(policies, { name: 'new-team', labels: { team: 'new', mesh: 'enrolled' } });
    expect(fresh.labels['istio.io/rev']).toBe(TO);
    expect(fresh.rejections).toEqual([]);
    // The policies required injection of enrolled namespaces before the upgrade, and still do.
    expect(
      admitNamespace(policies, {
        name: 'opted-out',
        labels: { team: 'x', mesh: 'enrolled', 'istio-injection': 'disabled' },
      }).rejections.sort(),
    ).toEqual(['ClusterPolicy/require-sidecar-injection meshed-namespaces-inject', 'K8sRequiredLabels/meshed-namespaces-need-injection']);
  });

  it.skipIf(!hasKubectl)('injects the outside-git namespace once, by the new revision through the default tag', async () => {
    const built = await kustomizeBuild(final, 'clusters/shop');
    const labels = admitNamespace(policiesIn(final), OUTSIDE_GIT).labels;
    const objects = [...built, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OUTSIDE_GIT.name, labels } }];
    const hits = injectorsFor(objects as never, OUTSIDE_GIT.name, { app: 'batch' });
    expect(hits).toHaveLength(1);
    expect(hits[0]).toContain(`istiod-${TO}`);
  });

  it('restores a K8sRequiredLabels constraint with other labels to those labels only, and says so', () => {
    const file = `${POLICIES}gatekeeper/required-labels.yaml`;
    const mixed = new Map(repo).set(
      file,
      repo.get(file)!.replace('      - key: istio-injection\n', '      - key: team\n      - key: istio-injection\n'),
    );
    const steps = runUpgrade(mixed, { to: TO });
    const policies = policiesIn(steps.at(-1)!.after);
    const constraint = policies.find((p) => p.metadata.name === 'meshed-namespaces-need-injection');
    expect(constraint.spec.parameters.labels).toEqual([{ key: 'team' }]);
    expect(admitNamespace(policies, OUTSIDE_GIT).rejections).toEqual([]);
    expect(admitNamespace(policies, { name: 'no-team', labels: { mesh: 'enrolled', 'istio.io/rev': TO } }).rejections).toContain(
      'K8sRequiredLabels/meshed-namespaces-need-injection',
    );
    expect(
      planUpgrade(mixed, { to: TO })
        .phases.find((p) => p.id === 'cleanup')!
        .manual.join('\n'),
    ).toContain('no longer requires istio-injection after cleanup');
  });

  it('accepts both after a Kyverno rule that forbade istio.io/rev, and leaves a rule it cannot read in Audit', () => {
    const extra = withPolicy(
      withPolicy(
        repo,
        `${POLICIES}kyverno/no-pins.yaml`,
        'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: no-revision-pins\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: follow-default\n      match:\n        any:\n          - resources:\n              kinds: [Namespace]\n              selector:\n                matchLabels:\n                  mesh: enrolled\n      validate:\n        message: "namespaces follow the default revision"\n        pattern:\n          metadata:\n            labels:\n              X(istio.io/rev): "null"\n',
      ),
      `${POLICIES}kyverno/ns-deny.yaml`,
      'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: keep-injection-label\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: no-dropping-injection\n      match:\n        any:\n          - resources:\n              kinds: [Namespace]\n      validate:\n        message: "do not drop the injection label"\n        deny:\n          conditions:\n            any:\n              - key: "{{ request.object.metadata.labels.\\"istio-injection\\" || \'\' }}"\n                operator: NotEquals\n                value: "{{ request.oldObject.metadata.labels.\\"istio-injection\\" || \'\' }}"\n',
    );
    const steps = runUpgrade(extra, { to: TO });
    const policies = policiesIn(steps.at(-1)!.after);
    expect(admitNamespace(policies, OUTSIDE_GIT).rejections).toEqual([]);
    expect(
      admitNamespace(policies, { name: 'storefront', labels: { team: 'web', mesh: 'enrolled', 'istio.io/rev': TO } }).rejections,
    ).toEqual([]);
    const deny = policies.find((p) => p.metadata.name === 'keep-injection-label');
    expect(deny.spec.validationFailureAction).toBe('Audit');
    const manual = planUpgrade(extra, { to: TO })
      .phases.find((p) => p.id === 'cleanup')!
      .manual.join('\n');
    expect(manual).toContain(
      'adapt rule no-dropping-injection to accept both istio.io/rev (any revision or tag) and istio-injection=enabled',
    );
    expect(manual).toContain('then set validationFailureAction back to Enforce');
  });

  it('keeps a ban on istio-injection the repo had before the upgrade, with a check before merging cleanup', () => {
    const ban = `${POLICIES}kyverno/no-legacy-label.yaml`;
    const text =
      '# Platform rule since 2023: revisioned namespaces only, no legacy label.\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: no-legacy-injection-label\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: revisioned-only\n      match:\n        any:\n          - resources:\n              kinds: [Namespace]\n              selector:\n                matchLabels:\n                  mesh: revisioned\n      validate:\n        message: "use istio.io/rev"\n        pattern:\n          metadata:\n            labels:\n              X(istio-injection): "null"\n';
    const withBan = withPolicy(repo, ban, text);
    const plan = planUpgrade(withBan, { to: TO });
    expect(plan.phases.flatMap((p) => p.files).map((f) => f.path)).not.toContain(ban);
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')! as { beforeMerge?: string[]; why: string };
    expect(cleanup.beforeMerge).toContain(
      'kubectl get ns -l istio-injection,mesh=revisioned -o name   # expect: no output (ClusterPolicy no-legacy-injection-label rule revisioned-only rejects these namespaces at their next update)',
    );
    expect(cleanup.why).toContain(
      'ClusterPolicy no-legacy-injection-label rule revisioned-only forbade istio-injection before the upgrade and is kept as it is',
    );
    const steps = runUpgrade(withBan, { to: TO });
    expect(steps.at(-1)!.after.get(ban)).toBe(text);
    expect(
      admitNamespace(policiesIn(steps.at(-1)!.after), {
        name: 'old',
        labels: { team: 'ops', mesh: 'revisioned', 'istio-injection': 'enabled' },
      }).rejections,
    ).toEqual(['ClusterPolicy/no-legacy-injection-label revisioned-only']);
  });

  it('leaves Pod mutate rules alone: sidecar.istio.io/inject and istio-injection on a pod select the default injector or none', () => {
    const pods = `${POLICIES}kyverno/pods.yaml`;
    const text =
      'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: pod-injection-labels\nspec:\n  rules:\n    - name: opt-in-pods\n      match:\n        any:\n          - resources:\n              kinds: [Pod]\n              namespaceSelector:\n                matchLabels:\n                  mesh: enrolled\n      mutate:\n        patchStrategicMerge:\n          metadata:\n            labels:\n              +(sidecar.istio.io/inject): "true"\n              +(istio-injection): enabled # legacy, harmless on a pod\n';
    const withPods = withPolicy(repo, pods, text);
    const plan = planUpgrade(withPods, { to: TO });
    expect(plan.phases.flatMap((p) => p.files).map((f) => f.path)).not.toContain(pods);
    expect(runUpgrade(withPods, { to: TO }).at(-1)!.after.get(pods)).toBe(text);
  });

  it('is idempotent with the restored forms', () => {
    expect(planUpgrade(final, { to: TO }).phases.flatMap((p) => p.files)).toEqual([]);
  });
});

describe('the next upgrade over the restored policies', () => {
  it('does not relax a constraint that already accepts any istio.io/rev', async () => {
    const repo = await loadFixture('admission-policies');
    const final = runUpgrade(repo, { to: TO }).at(-1)!.after;
    const next = planUpgrade(final, { to: '1-23-0' });
    const phase = next.phases.find((p) => p.id === 'admission-policies');
    expect(phase?.changes.map((c) => c.name) ?? []).not.toContain('meshed-namespaces-need-injection');
  });
});
