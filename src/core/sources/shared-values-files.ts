import { UpgradeRefusedError } from '../../model/errors.js';
import type { AppOfApps, LocalChart } from './helm-app-of-apps.js';
import type { ValuesPath } from './helm-template.js';

/** The other Applications whose chart lists `file` among its values files. */
function sharers(aoa: AppOfApps, chart: LocalChart, file: string): LocalChart[] {
  return aoa.charts.filter((c) => c.app !== chart.app && c.layers.some((l) => l.file === file));
}

/**
 * Where a value of one Application's chart is written when the values file that sets it is also
 * listed by another Application (`helm.valueFiles: [../common/mesh.yaml, values-prod.yaml]`): the
 * shared file is never edited for one release; the value goes into the highest-precedence values
 * file of this Application that no other one lists and that comes after the shared one (a later
 * values file wins). Refused when there is none, or when the value is inside a list (Helm replaces
 * a list whole, so a later file cannot override one element).
 */
export function overrideFileFor(aoa: AppOfApps, chart: LocalChart, file: string, path: ValuesPath): string {
  const others = sharers(aoa, chart, file);
  if (others.length === 0) return file;
  const at = chart.layers.findIndex((l) => l.file === file);
  const own = chart.layers
    .slice(at + 1)
    .map((l) => l.file)
    .filter((f): f is string => f !== null && sharers(aoa, chart, f).length === 0);
  const override = own.at(-1);
  if (override && !path.some((p) => typeof p === 'number')) return override;
  throw refusal(
    chart,
    others,
    file,
    path,
    override
      ? 'the value is inside a list, which a later values file would replace whole'
      : `no values file of ${chart.app.name} alone comes after it to override it in`,
  );
}

/** Refused when `file` is also a values file of another Application: the edit (`why`) cannot be overridden in a later file. */
export function refuseSharedValuesFile(aoa: AppOfApps, chart: LocalChart, file: string, path: ValuesPath, why: string): void {
  const others = sharers(aoa, chart, file);
  if (others.length > 0) throw refusal(chart, others, file, path, why);
}

function refusal(chart: LocalChart, others: readonly LocalChart[], file: string, path: ValuesPath, why: string): UpgradeRefusedError {
  return new UpgradeRefusedError(
    `${file} is a values file of Application ${chart.app.name} (${chart.app.file}) and of ${others.map((o) => `Application ${o.app.name} (${o.app.file})`).join(', ')}; the upgrade changes ${path.join('.')} for ${chart.app.name} only, and ${why}. Move ${path.join('.')} into a values file only ${chart.app.name} lists, after ${file} in its valueFiles, and plan again.`,
    'helm-values-file-shared',
  );
}
