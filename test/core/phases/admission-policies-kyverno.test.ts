import { diffLines } from 'diff';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { planUpgrade } from '../../../src/core/plan.js';
import type { UpgradePlan } from '../../../src/core/plan-types.js';
import { findInjectionPolicies } from '../../../src/core/sources/admission-policies.js';
import { PAUSED_ANNOTATION } from '../../../src/core/sources/admission-policy-model.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { admitNamespace } from '../../helpers/admission.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';
import { changedFiles, runUpgrade, type UpgradeStep } from '../../helpers/upgrade-run.js';

const TO = '1-22-1';
const POLICIES = 'clusters/shop/policies/';
const KYVERNO = `${POLICIES}kyverno/`;

const docs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean);
/** Every policy object the repo declares (the policies are plain files). */
const policiesIn = (repo: RepoSnapshot) =>
  [...repo]
    .filter(([path]) => path.startsWith(POLICIES) && path.endsWith('.yaml') && !path.endsWith('kustomization.yaml'))
    .flatMap(([, text]) => docs(text));
/** The namespaces in git, as a step leaves them. */
const namespacesIn = (repo: RepoSnapshot) =>
  docs(repo.get('clusters/shop/apps/namespaces.yaml')!).map((n) => ({
    name: n.metadata.name as string,
    labels: (n.metadata.labels ?? {}) as Record<string, string>,
  }));
/** A namespace created by hand (not in git) before the upgrade: it keeps istio-injection=enabled. */
const OUTSIDE_GIT = { name: 'legacy-batch', labels: { team: 'batch', mesh: 'enrolled', 'istio-injection': 'enabled' } };

/** Kyverno >= 1.13: the action on the rule, no spec-level validationFailureAction; a deny on the injection label. */
const DENY_RULE = `# Kyverno 1.13 style: failureAction on the rule.
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: injection-required
spec:
  background: false
  rules:
    - name: enrolled-namespaces-inject
      match:
        any:
          - resources:
              kinds: [Namespace]
              selector:
                matchLabels:
                  mesh: enrolled
      validate:
        failureAction: Enforce
        message: "enrolled namespaces need istio-injection=enabled"
        deny:
          conditions:
            any:
              - key: "{{ request.object.metadata.labels.\\"istio-injection\\" || '' }}"
                operator: NotEquals
                value: enabled
`;

/** A deny the plan cannot read (it compares with the old object): Audit on that rule only. */
const HISTORY_RULE = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: label-history
spec:
  rules:
    - name: keep-injection-label
      match:
        any:
          - resources:
              kinds: [Namespace]
      validate:
        failureAction: Enforce
        message: "do not drop the injection label"
        deny:
          conditions:
            any:
              - key: "{{ request.object.metadata.labels.\\"istio-injection\\" || '' }}"
                operator: NotEquals
                value: "{{ request.oldObject.metadata.labels.\\"istio-injection\\" || '' }}"
    - name: team-label
      match:
        any:
          - resources:
              kinds: [Namespace]
      validate:
        failureAction: Enforce
        message: "namespaces need a team"
        pattern:
          metadata:
            labels:
              team: "?*"
`;

/** Audit by default, enforced in storefront by an override. */
const OVERRIDE_RULE = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: storefront-injection
spec:
  validationFailureAction: Audit
  validationFailureActionOverrides:
    - action: Enforce
      namespaces: [storefront]
  rules:
    - name: injection-unchanged
      match:
        any:
          - resources:
              kinds: [Namespace]
      validate:
        deny:
          conditions:
            all:
              - key: "{{ request.object.metadata.labels.\\"istio-injection\\" || '' }}"
                operator: NotEquals
                value: "{{ request.oldObject.metadata.labels.\\"istio-injection\\" || '' }}"
`;

/** A namespaced Policy cannot see Namespace objects (cluster-scoped); its pod rule is about something else. */
const NAMESPACED = `apiVersion: kyverno.io/v1
kind: Policy
metadata:
  name: storefront-rules
  namespace: storefront
spec:
  validationFailureAction: Enforce
  rules:
    - name: namespace-injection
      match:
        any:
          - resources:
              kinds: [Namespace]
      validate:
        pattern:
          metadata:
            labels:
              istio-injection: enabled
`;

/** Not about the injection labels: must stay byte for byte. */
const UNRELATED = `# Jobs must not get a sidecar (it would keep them running), and every container needs limits.
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: jobs-and-limits
spec:
  validationFailureAction: Enforce
  rules:
    - name: no-sidecar-in-jobs
      match:
        any:
          - resources:
              kinds: [Pod]
              selector:
                matchExpressions:
                  - {key: job-name, operator: Exists}
      validate:
        failureAction: Enforce
        message: "Job pods need sidecar.istio.io/inject: false"
        pattern:
          metadata:
            annotations:
              sidecar.istio.io/inject: "false"
    - name: limits
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        message: "limits required"
        pattern:
          spec:
            containers:
              - resources:
                  limits:
                    memory: "?*"
`;

/** Lists every policy file the tests add in the policies kustomization: kustomize applies only listed files. */
function listed(repo: Map<string, string>): Map<string, string> {
  const kustomization = `${POLICIES}kustomization.yaml`;
  const text = repo.get(kustomization)!;
  const added = [...repo.keys()].filter(
    (path) =>
      path.startsWith(POLICIES) && path.endsWith('.yaml') && path !== kustomization && !text.includes(`- ${path.slice(POLICIES.length)}\n`),
  );
  return repo.set(kustomization, text + added.map((path) => `  - ${path.slice(POLICIES.length)}\n`).join(''));
}

describe('Kyverno per-rule failureAction, deny conditions, namespaced policies (fixture admission-policies)', () => {
  let repo: RepoSnapshot;
  let plan: UpgradePlan;
  let steps: UpgradeStep[];
  beforeAll(async () => {
    const base = await loadFixture('admission-policies');
    repo = listed(
      new Map(base)
        .set(`${KYVERNO}deny.yaml`, DENY_RULE)
        .set(`${KYVERNO}history.yaml`, HISTORY_RULE)
        .set(`${KYVERNO}override.yaml`, OVERRIDE_RULE)
        .set(`${KYVERNO}namespaced.yaml`, NAMESPACED)
        .set(`${KYVERNO}jobs.yaml`, UNRELATED),
    );
    plan = planUpgrade(repo, { to: TO });
    steps = runUpgrade(repo, { to: TO });
  });

  it('sees rule-level and override enforcement, and ignores the namespaced Policy and the unrelated one', () => {
    const found = findInjectionPolicies(buildYamlIndex(repo), TO).map((p) => `${p.object.kind}/${p.object.name}: ${p.effect}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'ClusterPolicy/injection-required: rule enrolled-namespaces-inject requires istio-injection=enabled (deny)',
        'ClusterPolicy/label-history: rule keep-injection-label names istio-injection or istio.io/rev',
        'ClusterPolicy/storefront-injection: rule injection-unchanged names istio-injection or istio.io/rev',
      ]),
    );
    expect(found.filter((f) => f.includes('storefront-rules') || f.includes('jobs-and-limits'))).toEqual([]);
    const phase = plan.phases.find((p) => p.id === 'admission-policies')!;
    expect(phase.changes.map((c) => c.name)).toEqual(
      expect.arrayContaining(['injection-required', 'label-history', 'storefront-injection']),
    );
  });

  it('admits every namespace in git and one outside git on istio-injection=enabled at every phase from the relax on', () => {
    const at = steps.findIndex((s) => s.phase === 'admission-policies');
    expect(at).toBeGreaterThan(0);
    for (const step of steps.slice(at)) {
      const policies = policiesIn(step.after);
      for (const ns of [...namespacesIn(step.after), OUTSIDE_GIT]) {
        expect(admitNamespace(policies, ns).rejections, `${ns.name} after ${step.phase}`).toEqual([]);
      }
    }
  });

  it('rewrites the deny to also accept istio.io/rev, and still rejects a namespace with injection disabled', () => {
    const final = steps.at(-1)!.after;
    const text = final.get(`${KYVERNO}deny.yaml`)!;
    expect(text).toContain('failureAction: Enforce');
    expect(text).toContain('istio.io/rev');
    const policies = docs(text);
    expect(admitNamespace(policies, { name: 'x', labels: { mesh: 'enrolled', 'istio-injection': 'disabled' } }).rejections).toEqual([
      'ClusterPolicy/injection-required enrolled-namespaces-inject',
    ]);
    expect(admitNamespace(policies, { name: 'x', labels: { mesh: 'enrolled', 'istio.io/rev': 'prod-stable' } }).rejections).toEqual([]);
  });

  it('puts only the unreadable rule in Audit (the other rule keeps Enforce), overrides included, and says so at cleanup', () => {
    const relaxed = steps.find((s) => s.phase === 'admission-policies')!.after;
    const history = docs(relaxed.get(`${KYVERNO}history.yaml`)!)[0];
    expect(history.spec.rules.map((r: { validate: { failureAction: string } }) => r.validate.failureAction)).toEqual(['Audit', 'Enforce']);
    expect(history.metadata.annotations[PAUSED_ANNOTATION]).toContain('keep-injection-label');
    const override = docs(relaxed.get(`${KYVERNO}override.yaml`)!)[0];
    expect(override.spec.validationFailureActionOverrides).toEqual([{ action: 'Audit', namespaces: ['storefront'] }]);
    const manual = plan.phases.find((p) => p.id === 'cleanup')!.manual.join('\n');
    expect(manual).toContain('rule keep-injection-label to accept both');
    expect(manual).toContain('put back validate.failureAction: Enforce on rule keep-injection-label');
    expect(manual).toContain('put back Enforce in validationFailureActionOverrides');
    // Audit is written before the first relabel, in the admission-policies phase, not left to cleanup.
    const at = plan.phases.findIndex((p) => p.id === 'admission-policies');
    expect(at).toBeLessThan(plan.phases.findIndex((p) => p.id === 'workloads'));
  });

  it('changes only the nodes it must in the deny and per-rule policies', () => {
    const step = steps.find((s) => s.phase === 'admission-policies')!;
    const changed = (file: string) =>
      diffLines(step.before.get(file)!, step.after.get(file)!)
        .filter((p) => p.added || p.removed)
        .flatMap((p) =>
          p.value
            .split('\n')
            .filter(Boolean)
            .map((l) => `${p.added ? '+' : '-'}${l.trim()}`),
        );
    expect(changed(`${KYVERNO}deny.yaml`)).toEqual([
      '+all:',
      `+- key: "{{ request.object.metadata.labels.\\"istio.io/rev\\" || '' }}"`,
      '+operator: Equals',
      '+value: ""',
    ]);
    expect(changed(`${KYVERNO}history.yaml`).sort()).toEqual(
      [
        '+annotations:',
        `+${PAUSED_ANNOTATION}: rule keep-injection-label failureAction=Enforce`,
        '-failureAction: Enforce',
        '+failureAction: Audit',
      ].sort(),
    );
  });

  it('leaves the namespaced Policy and the unrelated policy byte for byte', () => {
    const final = steps.at(-1)!.after;
    expect(final.get(`${KYVERNO}namespaced.yaml`)).toBe(NAMESPACED);
    expect(final.get(`${KYVERNO}jobs.yaml`)).toBe(UNRELATED);
  });

  it('is idempotent, and writes schema-valid objects', async () => {
    expect(planUpgrade(steps.at(-1)!.after, { to: TO }).phases.flatMap((p) => p.files)).toEqual([]);
    expect((await validateYamlFiles(changedFiles(steps))).errors).toEqual([]);
  });
});

/** A ClusterPolicy with one Namespace rule whose pattern has these labels, selecting `mesh: <selector>`. */
function namespaceRule(
  name: string,
  selector: string,
  labels: string,
  action = '  validationFailureAction: Enforce\n',
  ruleAction = '',
): string {
  return `apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: ${name}\nspec:\n${action}  rules:\n    - name: ${name}-rule\n      match:\n        any:\n          - resources:\n              kinds: [Namespace]\n              selector:\n                matchLabels:\n                  mesh: ${selector}\n      validate:\n${ruleAction}        message: "${name}"\n        pattern:\n          metadata:\n            labels:\n${labels}`;
}

describe('Kyverno value patterns that ban a label, and namespaced Policies (fixture admission-policies)', () => {
  let base: RepoSnapshot;
  beforeAll(async () => {
    base = await loadFixture('admission-policies');
  });

  it.each([
    ['not-enabled', '              istio-injection: "!enabled"\n', '', 'istio-injection=enabled'],
    ['absent', '              istio-injection: "!*"\n', '', 'istio-injection'],
    ['anchor', '              X(istio-injection): "null"\n', '', 'istio-injection'],
    ['rule-action', '              istio-injection: "!*"\n', '        failureAction: Enforce\n', 'istio-injection'],
  ])('keeps a ban on istio-injection (%s) as it is, with a check before merging cleanup', (name, labels, ruleAction, selector) => {
    const file = `${KYVERNO}ban-${name}.yaml`;
    const text = namespaceRule(`ban-${name}`, 'revisioned', labels, ruleAction ? '' : '  validationFailureAction: Enforce\n', ruleAction);
    const repo = listed(new Map(base).set(file, text));
    expect(findInjectionPolicies(buildYamlIndex(repo), TO).map((p) => p.object.name)).not.toContain(`ban-${name}`);
    const plan = planUpgrade(repo, { to: TO });
    const cleanup = plan.phases.find((p) => p.id === 'cleanup')! as { beforeMerge?: string[] };
    expect(cleanup.beforeMerge).toContain(
      `kubectl get ns -l ${selector},mesh=revisioned -o name   # expect: no output (ClusterPolicy ban-${name} rule ban-${name}-rule rejects these namespaces at their next update)`,
    );
    const steps = runUpgrade(repo, { to: TO });
    expect(steps.at(-1)!.after.get(file)).toBe(text);
    // What the ban forbids, the evaluator rejects; a namespace on istio.io/rev passes.
    const policies = docs(text);
    expect(admitNamespace(policies, { name: 'old', labels: { mesh: 'revisioned', 'istio-injection': 'enabled' } }).rejections).toEqual([
      `ClusterPolicy/ban-${name} ban-${name}-rule`,
    ]);
    expect(admitNamespace(policies, { name: 'new', labels: { mesh: 'revisioned', 'istio.io/rev': TO } }).rejections).toEqual([]);
  });

  it('reads istio.io/rev: "!*" as a ban on istio.io/rev, and lets both labels through from the relax on', () => {
    const file = `${KYVERNO}no-pins.yaml`;
    const repo = listed(new Map(base).set(file, namespaceRule('no-pins', 'enrolled', '              istio.io/rev: "!*"\n')));
    // Before the upgrade checkout (on istio.io/rev already) would be rejected: mark it so the fixture stays consistent.
    const ns = 'clusters/shop/apps/namespaces.yaml';
    repo.set(ns, repo.get(ns)!.replace('    mesh: enrolled\n    istio.io/rev: 1-21-2\n', '    mesh: pinned\n    istio.io/rev: 1-21-2\n'));
    expect(findInjectionPolicies(buildYamlIndex(repo), TO).map((p) => `${p.object.name}: ${p.effect}`)).toContain(
      'no-pins: rule no-pins-rule forbids istio.io/rev',
    );
    const steps = runUpgrade(repo, { to: TO });
    const at = steps.findIndex((s) => s.phase === 'admission-policies');
    expect(at).toBeGreaterThan(0);
    for (const step of steps.slice(at)) {
      const policies = policiesIn(step.after);
      for (const namespace of [...namespacesIn(step.after), OUTSIDE_GIT])
        expect(admitNamespace(policies, namespace).rejections, `${namespace.name} after ${step.phase}`).toEqual([]);
    }
    expect(steps.at(-1)!.after.get(file)).toContain('anyPattern:');
  });

  it('ignores a namespaced Policy banning istio-injection on Namespaces: it never sees one, so no check is asked for', () => {
    const file = `${KYVERNO}team-ban.yaml`;
    const text = namespaceRule('team-ban', 'revisioned', '              X(istio-injection): "null"\n').replace(
      'kind: ClusterPolicy\nmetadata:\n',
      'kind: Policy\nmetadata:\n  namespace: storefront\n',
    );
    const repo = listed(new Map(base).set(file, text));
    const cleanup = planUpgrade(repo, { to: TO }).phases.find((p) => p.id === 'cleanup')! as { beforeMerge?: string[] };
    expect((cleanup.beforeMerge ?? []).filter((c) => c.includes('team-ban'))).toEqual([]);
    expect(runUpgrade(repo, { to: TO }).at(-1)!.after.get(file)).toBe(text);
  });
});

describe('Kyverno deny conditions that require istio-injection=enabled, in their other spellings', () => {
  const denyPolicy = (conditions: string) =>
    `apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: deny-form\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: inject\n      match:\n        any:\n          - resources:\n              kinds: [Namespace]\n              selector:\n                matchLabels:\n                  mesh: enrolled\n      validate:\n        message: "inject"\n        deny:\n          conditions:\n${conditions}`;
  it.each([
    [
      'all, AnyNotIn',
      '            all:\n              - key: \'{{ request.object.metadata.labels."istio-injection" }}\'\n                operator: AnyNotIn\n                value: [enabled]\n',
    ],
    [
      'legacy list, notequals',
      '            - key: "{{ request.object.metadata.labels.\\"istio-injection\\" || \'\' }}"\n              operator: notequals\n              value: enabled\n',
    ],
  ])('%s: accepts either label after the relax, still rejects injection disabled, and stays enforcing', async (_name, conditions) => {
    const file = `${KYVERNO}deny-form.yaml`;
    const repo = listed(new Map(await loadFixture('admission-policies')).set(file, denyPolicy(conditions)));
    const steps = runUpgrade(repo, { to: TO });
    const at = steps.findIndex((s) => s.phase === 'admission-policies');
    expect(at).toBeGreaterThan(0);
    for (const step of steps.slice(at)) {
      const policies = policiesIn(step.after);
      for (const ns of [...namespacesIn(step.after), OUTSIDE_GIT])
        expect(admitNamespace(policies, ns).rejections, `${ns.name} after ${step.phase}`).toEqual([]);
    }
    const final = docs(steps.at(-1)!.after.get(file)!);
    expect(final[0].spec.validationFailureAction).toBe('Enforce');
    expect(admitNamespace(final, { name: 'x', labels: { mesh: 'enrolled', 'istio-injection': 'disabled' } }).rejections).toEqual([
      'ClusterPolicy/deny-form inject',
    ]);
    expect(planUpgrade(steps.at(-1)!.after, { to: TO }).phases.flatMap((p) => p.files)).toEqual([]);
  });
});
