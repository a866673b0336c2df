import { UpgradeRefusedError } from '../../model/errors.js';
import { getPath } from '../../model/kube.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import { toHelmRelease } from '../helm-release-values.js';
import type { HelmRelease } from '../inventory.js';
import type { YamlIndex } from '../repo-index.js';

/**
 * Values files of an Istio chart pulled from a Helm repository: Argo CD single-source
 * `spec.source.chart` with `helm.valueFiles`, or Flux `spec.chart.spec.valuesFiles`. They are paths
 * inside the chart package (or URLs), not files of this repo, so the plan cannot read them. Values
 * set inline (`helm.valuesObject`, `helm.values`, `helm.parameters`; Flux `values`, `valuesFrom`) win
 * over them and are read and edited as usual.
 *
 * The values the plan's correctness rests on must be inline: without them the plan would guess the
 * old release's revision, tag ownership or validator target. Those are refused
 * (`helm-value-files-unreadable`); otherwise a warning (`helm-value-files-unread`) names each
 * file and what the plan assumed.
 */
const DECISIVE: Readonly<Record<HelmRelease['chart'], readonly string[]>> = {
  // revision: which control plane this is; revisionTags: who serves the default tag (two owners at the handover, or none after cleanup).
  istiod: ['revision', 'revisionTags'],
  // revision: gateway pods are pinned to it; a revision the plan does not see would be removed under them at cleanup.
  gateway: ['revision'],
  // defaultRevision: the istiod the validator (istiod-default-validator) calls.
  base: ['defaultRevision'],
};

/** Values worth naming in the warning, beyond the decisive ones. */
const SHOWN = ['global.hub', 'global.tag'];

export function chartValueFilesWarnings(index: YamlIndex): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  const refused: string[] = [];
  for (const object of [...index.ofKind('Application'), ...index.ofKind('HelmRelease')]) {
    if (object.isPatch) continue;
    const release = toHelmRelease(object, index);
    if (!release) continue;
    const files = unreadableValueFiles(release);
    if (files.length === 0) continue;
    const where = `${object.kind} ${object.name} (${object.file})`;
    const chart = `${release.chart}${release.chartVersion ? ` ${release.chartVersion}` : ''}`;
    const missing = DECISIVE[release.chart].filter((key) => !hasValue(release.values, key));
    if (missing.length > 0) {
      refused.push(
        `${where} lists ${files.join(', ')} in ${fieldOf(object.kind)} (inside the chart ${chart}, not in this repo) and does not set ${missing.join(', ')} inline, so ${missing.length === 1 ? 'it' : 'they'} may come from there`,
      );
      continue;
    }
    const assumed = [...DECISIVE[release.chart], ...SHOWN].map(
      (key) =>
        `${key}=${hasValue(release.values, key) ? JSON.stringify(valueAt(release.values, key)) : 'unset inline (the chart default, unless a values file sets it)'}`,
    );
    warnings.push({
      code: 'helm-value-files-unread',
      message: `${where}: the values files ${files.join(', ')} (${fieldOf(object.kind)}) are inside the chart ${chart}, not in this repo, so values set there (global.hub, global.tag, meshConfig, …) are not visible to the plan. Inline values win over them; the plan assumed ${assumed.join(', ')}. A copy for the new revision lists the same files: check the target chart ships them.`,
      file: object.file,
    });
  }
  if (refused.length > 0) {
    throw new UpgradeRefusedError(
      `${refused.join('; ')}. The plan cannot read values files packaged in a chart and will not guess these values: set them inline in ${refused.length === 1 ? 'that Application' : 'those Applications'} (helm.valuesObject or helm.values; Flux: spec.values), which win over valueFiles, then plan again.`,
      'helm-value-files-unreadable',
    );
  }
  return warnings;
}

function unreadableValueFiles(release: HelmRelease): string[] {
  const body = release.object.body;
  // Only a chart from a Helm repository: a multi-source Application is refused elsewhere, a path source is a local chart.
  const list =
    release.object.kind === 'HelmRelease'
      ? getPath(body, ['spec', 'chart', 'spec', 'valuesFiles'])
      : getPath(body, ['spec', 'source', 'helm', 'valueFiles']);
  const files = Array.isArray(list) ? list.filter((f): f is string => typeof f === 'string' && f !== '') : [];
  // values.yaml is the chart's own defaults, not an override.
  return files.filter((f) => f !== 'values.yaml');
}

function fieldOf(kind: string): string {
  return kind === 'HelmRelease' ? 'spec.chart.spec.valuesFiles' : 'helm.valueFiles';
}

function valueAt(values: Readonly<Record<string, unknown>>, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>(
      (v, k) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined),
      values,
    );
}

function hasValue(values: Readonly<Record<string, unknown>>, key: string): boolean {
  return valueAt(values, key) !== undefined;
}

/**
 * What the new istiod release must say inline because the old one's chart values files may say it:
 * `revisionTags: []` (an inherited `[default]` would make both releases render the default tag; the
 * copy keeps the same valueFiles). Empty when the release has no unreadable values files.
 */
export function overridesOfChartValueFiles(release: HelmRelease): Record<string, unknown> {
  return release.chart === 'istiod' && unreadableValueFiles(release).length > 0 ? { revisionTags: [] } : {};
}
