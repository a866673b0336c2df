import { posix } from 'node:path';
import semver from 'semver';
import { asDict, getPath } from '../../model/kube.js';
import type { IndexedObject } from '../../model/objects.js';
import type { InstalledRevision } from '../inventory.js';
import type { YamlIndex } from '../repo-index.js';
import type { Revision } from '../revision.js';

/**
 * Istio 1.24 removed the in-cluster operator: an operator install going past 1.23 moves to
 * revisioned Helm releases (`istio-base`, `istiod-<rev>`) written in the repo's GitOps style, next to
 * its existing Argo CD Applications or Flux HelmReleases. This module decides whether a plan does
 * that, where the releases go, and what of the IstioOperator becomes chart values.
 * @see https://istio.io/latest/blog/2024/in-cluster-operator-deprecation-announcement/
 */

/** Istio's published Helm charts (the `helm repo add istio` URL of Istio's Helm install docs). */
export const ISTIO_CHARTS = 'https://istio-release.storage.googleapis.com/charts';

/** Whether an upgrade leaves an operator install for Helm: the target is past 1.23 and an operator reconciles the IstioOperator. */
export function isOperatorToHelm(installed: InstalledRevision | null, to: Pick<Revision, 'version'>): boolean {
  if (installed?.install !== 'istio-operator' || !installed.installer || !to.version) return false;
  // istioctl install -f of a non-revisioned IstioOperator outlives the operator: its own path.
  if (installed.name === 'default' && !installed.operator) return false;
  const target = semver.parse(to.version);
  return target !== null && (target.major > 1 || target.minor >= 24);
}

/** Where the new Helm releases go, and in which style. */
export interface HelmHome {
  readonly style: 'argocd' | 'flux';
  /** Directory the new release files are written to. */
  readonly dir: string;
  /** The Argo CD Application that syncs the IstioOperator (project, destination, sync policy are copied from it). */
  readonly owner: IndexedObject | null;
  /** An existing Helm release of the repo (Flux: its interval is copied). */
  readonly sample: IndexedObject | null;
  /** Argo CD: whether an Application syncs `dir`, so that a new Application file there is applied. */
  readonly synced: boolean;
  /** Flux: the HelmRepository of Istio's charts already in the repo. */
  readonly repository: IndexedObject | null;
}

/**
 * The repo's GitOps style and the place for new releases: Argo CD when it holds Applications (the
 * directory of its Helm Applications, else of the Application that syncs the IstioOperator: the
 * app-of-apps directory); Flux when it holds HelmReleases or Flux Kustomizations (the directory of
 * its HelmReleases, else the IstioOperator's own). Null when the repo shows neither.
 */
export function helmHomeFor(index: YamlIndex, iop: IndexedObject): HelmHome | null {
  const applications = index.ofKind('Application').filter((o) => o.apiVersion.startsWith('argoproj.io/') && !o.isPatch);
  if (applications.length > 0) {
    const owner = applications.find((a) => sourcePaths(a).some((p) => iop.file.startsWith(`${p}/`))) ?? null;
    const helmApps = applications.filter((a) => typeof getPath(a.body, ['spec', 'source', 'chart']) === 'string');
    const dir = posix.dirname((helmApps[0] ?? owner ?? applications[0]!).file);
    const synced = applications.some((a) =>
      sourcePaths(a).some(
        (p) => p === dir || (dir.startsWith(`${p}/`) && getPath(a.body, ['spec', 'source', 'directory', 'recurse']) === true),
      ),
    );
    return { style: 'argocd', dir, owner, sample: helmApps[0] ?? null, synced, repository: null };
  }
  const releases = index.ofKind('HelmRelease').filter((o) => o.apiVersion.startsWith('helm.toolkit.fluxcd.io/') && !o.isPatch);
  const fluxKustomizations = index.ofKind('Kustomization').filter((o) => o.apiVersion.startsWith('kustomize.toolkit.fluxcd.io/'));
  if (releases.length === 0 && fluxKustomizations.length === 0) return null;
  const repository =
    index.ofKind('HelmRepository').find((r) => String(getPath(r.body, ['spec', 'url']) ?? '').replace(/\/$/, '') === ISTIO_CHARTS) ?? null;
  return {
    style: 'flux',
    dir: posix.dirname((releases[0] ?? iop).file),
    owner: null,
    sample: releases[0] ?? null,
    synced: true,
    repository,
  };
}

function sourcePaths(app: IndexedObject): string[] {
  const sources = [
    getPath(app.body, ['spec', 'source']),
    ...(Array.isArray(getPath(app.body, ['spec', 'sources'])) ? (getPath(app.body, ['spec', 'sources']) as unknown[]) : []),
  ];
  return sources
    .map((s) => asDict(s).path)
    .filter((p): p is string => typeof p === 'string' && p !== '')
    .map((p) =>
      posix
        .normalize(p)
        .replace(/^\.\/?/, '')
        .replace(/\/$/, ''),
    );
}

/** The chart values an IstioOperator translates to, and what it holds that no value expresses. */
interface TranslatedValues {
  readonly istiod: Record<string, unknown>;
  readonly base: Record<string, unknown>;
  /** Fields without a Helm equivalent, as `spec.…` paths with a reason. */
  readonly untranslated: string[];
}

/** Profiles whose istiod and base are the charts' defaults. */
const PLAIN_PROFILES = new Set(['default', 'minimal', 'empty', 'remote']);
/** Profiles the charts take as the `profile` value (manifests/helm-profiles). */
const CHART_PROFILES = new Set(['demo', 'preview', 'ambient', 'openshift', 'openshift-ambient', 'stable']);
/** `components.pilot.k8s` fields with the istiod value nearest to them. */
const K8S_TO_VALUES = ['resources', 'nodeSelector', 'tolerations', 'affinity', 'podAnnotations', 'serviceAnnotations'] as const;

/**
 * Translates an IstioOperator into istiod and base chart values (Istio ≥ 1.24, whose istiod chart
 * reads the flattened values: `values.pilot.X` becomes `X`), following `istioctl manifest translate`
 * for `hub`, `tag`, `revision`, `meshConfig`, `compatibilityVersion` and `values`, and adding the
 * istiod values nearest to the `components.pilot.k8s` settings, which istioctl applies after
 * rendering and `translate` drops. Everything else is listed, never guessed.
 */
export function translateIstioOperator(iop: IndexedObject, to: Pick<Revision, 'name' | 'version'>): TranslatedValues {
  const spec = asDict(iop.body.spec);
  const values = structuredClone(asDict(spec.values)) as Record<string, unknown>;
  const untranslated: string[] = [];
  const istiod: Record<string, unknown> = {};
  const base: Record<string, unknown> = {};

  const profile = typeof spec.profile === 'string' ? spec.profile : 'default';
  if (CHART_PROFILES.has(profile)) istiod.profile = profile;
  else if (!PLAIN_PROFILES.has(profile))
    untranslated.push(`spec.profile: ${profile} (no Helm profile of that name; set its values by hand)`);

  const global: Record<string, unknown> = { ...asDict(values.global) };
  if (typeof spec.hub === 'string') global.hub = spec.hub;
  // The pin of the running release; the caller moves it to the target (./image-pins.ts), keeping its variant.
  if (spec.tag !== undefined) global.tag = spec.tag;
  delete values.global;
  for (const key of ['installPackagePath', 'namespace'] as const)
    if (spec[key] !== undefined) untranslated.push(`spec.${key} (istioctl only)`);
  if (spec.compatibilityVersion !== undefined) istiod.compatibilityVersion = spec.compatibilityVersion;

  // values.pilot.* are istiod's own values from 1.24 on; values.base.* are the base chart's.
  // Deep merges: a key set in two places keeps the fields of both, the later one winning per field.
  mergeInto(istiod, asDict(values.pilot));
  delete values.pilot;
  if (values.base !== undefined) mergeInto(base, asDict(values.base));
  delete values.base;
  for (const key of ['gateways', 'cni', 'istio_cni', 'ztunnel'] as const) {
    if (values[key] !== undefined)
      untranslated.push(
        `spec.values.${key} (values of another chart: ${key === 'gateways' ? 'gateway' : key === 'ztunnel' ? 'ztunnel' : 'cni'})`,
      );
    delete values[key];
  }
  mergeInto(istiod, values);
  // istioctl merges spec.meshConfig over spec.values.meshConfig, field by field: spec.meshConfig wins.
  if (spec.meshConfig !== undefined) istiod.meshConfig = mergeInto(structuredClone(asDict(istiod.meshConfig)), asDict(spec.meshConfig));

  const components = asDict(spec.components);
  const pilot = asDict(components.pilot);
  if (pilot.enabled === false) untranslated.push('spec.components.pilot.enabled: false (the istiod release always installs istiod)');
  const k8s = asDict(pilot.k8s);
  // components.pilot.k8s is applied after rendering (a strategic merge): maps merge over the values, lists replace them.
  for (const key of K8S_TO_VALUES) {
    if (k8s[key] === undefined) continue;
    istiod[key] =
      isPlainObject(k8s[key]) && isPlainObject(istiod[key]) ? mergeInto(structuredClone(istiod[key]), k8s[key]) : structuredClone(k8s[key]);
  }
  if (typeof k8s.replicaCount === 'number') istiod.replicaCount = k8s.replicaCount;
  const hpa = asDict(k8s.hpaSpec);
  if (k8s.hpaSpec !== undefined) {
    istiod.autoscaleEnabled = true;
    if (typeof hpa.minReplicas === 'number') istiod.autoscaleMin = hpa.minReplicas;
    if (typeof hpa.maxReplicas === 'number') istiod.autoscaleMax = hpa.maxReplicas;
    const rest = Object.keys(hpa).filter((k) => k !== 'minReplicas' && k !== 'maxReplicas' && k !== 'scaleTargetRef');
    if (rest.length > 0)
      untranslated.push(`spec.components.pilot.k8s.hpaSpec.${rest.join(', ')} (the chart sets only min/max replicas and the CPU target)`);
  } else if (typeof k8s.replicaCount === 'number' && istiod.autoscaleMin === undefined && istiod.autoscaleEnabled !== false) {
    // The chart's HPA (autoscaleEnabled, min 1) would scale a fixed replica count down.
    istiod.autoscaleMin = k8s.replicaCount;
  }
  if (Array.isArray(k8s.env)) {
    const env: Record<string, unknown> = { ...asDict(istiod.env) };
    for (const entry of k8s.env.map(asDict)) {
      if (typeof entry.name === 'string' && entry.value !== undefined && entry.valueFrom === undefined) env[entry.name] = entry.value;
      else untranslated.push(`spec.components.pilot.k8s.env ${String(entry.name)} (valueFrom: the chart's env is a map of values)`);
    }
    istiod.env = env;
  }
  const rolling = asDict(getPath(k8s, ['strategy', 'rollingUpdate']));
  if (rolling.maxSurge !== undefined) istiod.rollingMaxSurge = rolling.maxSurge;
  if (rolling.maxUnavailable !== undefined) istiod.rollingMaxUnavailable = rolling.maxUnavailable;
  if (typeof k8s.priorityClassName === 'string') global.priorityClassName = k8s.priorityClassName;
  const mapped = new Set<string>([...K8S_TO_VALUES, 'replicaCount', 'hpaSpec', 'env', 'strategy', 'priorityClassName']);
  for (const key of Object.keys(k8s)) {
    if (mapped.has(key)) continue;
    untranslated.push(
      key === 'overlays'
        ? 'spec.components.pilot.k8s.overlays (kustomize-style patches of the render: no Helm value; a kustomize post-render or a patch in git)'
        : `spec.components.pilot.k8s.${key} (no istiod value)`,
    );
  }
  const strategyRest = Object.keys(asDict(k8s.strategy)).filter(
    (k) => k !== 'rollingUpdate' && !(k === 'type' && asDict(k8s.strategy).type === 'RollingUpdate'),
  );
  if (strategyRest.length > 0) untranslated.push(`spec.components.pilot.k8s.strategy.${strategyRest.join(', ')} (the chart always rolls)`);
  for (const [name, component] of Object.entries(components)) {
    if (name === 'pilot' || name === 'ingressGateways' || name === 'egressGateways') continue;
    const c = asDict(component);
    if (name === 'base') {
      if (c.k8s !== undefined) untranslated.push('spec.components.base.k8s (no base chart value)');
      continue;
    }
    if (c.enabled === true || c.k8s !== undefined)
      untranslated.push(`spec.components.${name} (its own chart: install it as a separate release)`);
  }
  if (Object.keys(global).length > 0) istiod.global = global;
  istiod.revision = to.name;
  delete istiod.revisionTags;
  return { istiod, base, untranslated };
}

/** `over` merged deeply into `target` (plain objects merge, anything else replaces); returns `target`. */
function mergeInto(target: Record<string, unknown>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
  for (const [key, value] of Object.entries(over)) {
    const current = target[key];
    target[key] = isPlainObject(value) && isPlainObject(current) ? mergeInto(current, value) : structuredClone(value);
  }
  return target;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
