/**
 * The maintainer's manual step of the first canary from test/fixtures/rendered-nonrevisioned: the
 * output of `istioctl manifest generate --set revision=<rev>` (our own, trimmed to what the bot and
 * the tests read), committed beside the old render and listed in its kustomization. The simulated
 * maintainer cannot run istioctl, so the demo commits this prepared render instead.
 */

/** What a person commits for the manual control-plane phase: the revisioned render (our own, trimmed). */
export function renderedRevision(rev: string, version: string): string {
  const labels = `    app: istiod\n    istio.io/rev: ${rev}\n    operator.istio.io/component: "Pilot"\n`;
  const webhook = (name: string, ns: string, obj: string) => `  - name: ${name}
    clientConfig:
      service: {name: istiod-${rev}, namespace: istio-system, path: "/inject", port: 443}
    sideEffects: None
    rules:
      - {operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"]}
    failurePolicy: Fail
    admissionReviewVersions: ["v1beta1", "v1"]
    namespaceSelector:
      matchExpressions:
${ns}
    objectSelector:
      matchExpressions:
${obj}
`;
  return `# istioctl ${version} manifest generate -f render/overlay.yaml --set revision=${rev}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: istiod-${rev}
  namespace: istio-system
  labels:
${labels}---
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio-${rev}
  namespace: istio-system
  labels:
${labels}data:
  mesh: |-
    rootNamespace: istio-system
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-sidecar-injector-${rev}
  labels:
    app: sidecar-injector
    istio.io/rev: ${rev}
    operator.istio.io/component: "Pilot"
webhooks:
${webhook('rev.namespace.sidecar-injector.istio.io', `        - {key: istio.io/rev, operator: In, values: ["${rev}"]}\n        - {key: istio-injection, operator: DoesNotExist}`, `        - {key: sidecar.istio.io/inject, operator: NotIn, values: ["false"]}`)}${webhook(
  'rev.object.sidecar-injector.istio.io',
  `        - {key: istio.io/rev, operator: DoesNotExist}\n        - {key: istio-injection, operator: DoesNotExist}`,
  `        - {key: sidecar.istio.io/inject, operator: NotIn, values: ["false"]}\n        - {key: istio.io/rev, operator: In, values: ["${rev}"]}`,
)}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istiod-${rev}
  namespace: istio-system
  labels:
${labels}    istio: istiod
spec:
  selector:
    matchLabels: {app: istiod, istio.io/rev: ${rev}}
  template:
    metadata:
      labels: {app: istiod, istio.io/rev: ${rev}, istio: istiod, sidecar.istio.io/inject: "false"}
    spec:
      serviceAccountName: istiod-${rev}
      containers:
        - name: discovery
          image: docker.io/istio/pilot:${version}
          env:
            - {name: REVISION, value: "${rev}"}
---
apiVersion: v1
kind: Service
metadata:
  name: istiod-${rev}
  namespace: istio-system
  labels:
${labels}spec:
  selector: {app: istiod, istio.io/rev: ${rev}}
  ports:
    - {port: 15012, name: https-dns}
    - {port: 443, name: https-webhook, targetPort: 15017}
`;
}

/** The files a maintainer commits for the control-plane phase: the render, and its kustomization entry. */
export function preparedControlPlane(repo: ReadonlyMap<string, string>, rev: string, version: string): Record<string, string> {
  const kustomization = 'clusters/prod/istio-system/kustomization.yaml';
  const current = repo.get(kustomization);
  if (current === undefined || !current.includes('  - rendered/istio.yaml\n'))
    throw new Error(`${kustomization} does not list rendered/istio.yaml`);
  return {
    [`clusters/prod/istio-system/${rev}/istiod.yaml`]: renderedRevision(rev, version),
    [kustomization]: current.includes(`  - ${rev}/istiod.yaml\n`)
      ? current
      : current.replace('  - rendered/istio.yaml\n', `  - rendered/istio.yaml\n  - ${rev}/istiod.yaml\n`),
  };
}
