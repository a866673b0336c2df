import { load as loadValues } from 'js-yaml';
import { asDict, getPath } from '../model/kube.js';
import type { IndexedObject } from '../model/objects.js';
import type { HelmRelease } from './inventory.js';
import type { YamlIndex } from './repo-index.js';
import { hasPlaceholder, mergeValues, resolveDeep, resolveVariable, valuesFromConfigMaps } from './sources/flux-substitution.js';

/** Values the plan edits; an Argo CD parameter setting one would silently win over the edit. */
const MESH_VALUE = /^(revision|revisionTags(\[\d+\])?|defaultRevision|global\.operatorManageWebhooks)$/;

/** An Argo CD Application or Flux HelmRelease of one of Istio's charts (`base`, `istiod`, `gateway`), with its values read; else null. */
export function toHelmRelease(object: IndexedObject, index?: YamlIndex): HelmRelease | null {
  if (object.kind === 'HelmRelease') {
    const chart = stringValue(getPath(object.body, ['spec', 'chart', 'spec', 'chart']));
    if (!isIstioChart(chart)) return null;
    const ownValues = asDict(getPath(object.body, ['spec', 'values']));
    const rawVersion = stringValue(getPath(object.body, ['spec', 'chart', 'spec', 'version']));
    // Flux post-build substitutions (`${istio_version}`) and valuesFrom ConfigMaps, as the cluster sees them.
    const resolved = index && rawVersion !== null ? resolveVariable(index, object.file, rawVersion) : null;
    const values = index
      ? mergeValues(valuesFromConfigMaps(index, object).values, asDict(resolveDeep(index, object.file, ownValues)))
      : ownValues;
    return {
      object,
      chart,
      values,
      valuesPath: ['spec', 'values'],
      valuesAreText: false,
      chartVersionPath: ['spec', 'chart', 'spec', 'version'],
      chartVersion: resolved ? resolved.value : rawVersion !== null && hasPlaceholder(rawVersion) ? null : rawVersion,
      chartVersionSubstitution: resolved?.substitution ?? null,
    };
  }
  if (!object.apiVersion.startsWith('argoproj.io/')) return null;
  const source = asDict(getPath(object.body, ['spec', 'source']));
  const chart = stringValue(source.chart);
  if (!isIstioChart(chart)) return null;
  const helm = asDict(source.helm);
  const text = typeof helm.values === 'string' ? helm.values : null;
  let values: Readonly<Record<string, unknown>> = asDict(helm.valuesObject);
  let valuesPath = ['spec', 'source', 'helm', 'valuesObject'];
  if (text !== null && helm.valuesObject === undefined) {
    values = parseValuesText(text);
    valuesPath = ['spec', 'source', 'helm', 'values'];
  }
  const parameters = (Array.isArray(helm.parameters) ? helm.parameters : []).map(asDict);
  const meshParameters = parameters.map((p) => stringValue(p.name) ?? '').filter((name) => MESH_VALUE.test(name));
  // Parameters win over valuesObject and values: the revision the cluster gets is theirs.
  const revisionParameter = parameters.find((p) => p.name === 'revision');
  if (revisionParameter) values = { ...values, revision: typeof revisionParameter.value === 'string' ? revisionParameter.value : '' };
  return {
    object,
    chart,
    values,
    valuesPath,
    valuesAreText: text !== null && helm.valuesObject === undefined,
    chartVersionPath: ['spec', 'source', 'targetRevision'],
    chartVersion: stringValue(source.targetRevision),
    ...(meshParameters.length > 0 ? { meshParameters } : {}),
  };
}

/** Helm `values` given as a string of YAML; unreadable values count as none. */
function parseValuesText(text: string): Readonly<Record<string, unknown>> {
  try {
    return asDict(loadValues(text));
  } catch {
    return {};
  }
}

export function isIstioChart(chart: string | null): chart is 'base' | 'istiod' | 'gateway' {
  return chart === 'base' || chart === 'istiod' || chart === 'gateway';
}

export function stringValue(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;
}

export function numberValue(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
