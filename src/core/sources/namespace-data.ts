import { posix } from 'node:path';
import { load } from 'js-yaml';
import { INJECTION_LABEL, REV_LABEL } from '../../model/kube.js';
import type { PlanWarning } from '../../model/plan-warning.js';
import type { RepoSnapshot } from '../../model/snapshot.js';
import type { YamlIndex } from '../repo-index.js';
import type { Revision } from '../revision.js';

/** A namespace's labels written in a data file (YAML without `kind`) that a controller turns into Namespaces. */
interface NamespaceLabelsInData {
  readonly file: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Namespace labels kept as data: a map keyed by namespace name (`shop: {labels: {...}}`) or a list
 * of `{name, labels}` entries, in a YAML file that holds no Kubernetes object and is not a values
 * file of a chart in the repo. Tools outside this plan (namespace controllers, Terraform, tenant
 * operators) create Namespaces from such files.
 */
export function findNamespaceLabelsInData(snapshot: RepoSnapshot, index: YamlIndex): NamespaceLabelsInData[] {
  const found: NamespaceLabelsInData[] = [];
  for (const { file } of index.skipped) {
    if (!/\.ya?ml$/.test(file) || insideChart(snapshot, file)) continue;
    const text = snapshot.get(file);
    if (text === undefined || text.includes('{{')) continue;
    let data: unknown;
    try {
      data = load(text);
    } catch {
      continue;
    }
    collect(data, file, found, 0);
  }
  return found;
}

function collect(node: unknown, file: string, found: NamespaceLabelsInData[], depth: number): void {
  if (depth > 6 || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) {
      const entry = item as { name?: unknown; labels?: unknown } | null;
      if (entry && typeof entry.name === 'string' && DNS_LABEL.test(entry.name) && isLabelMap(entry.labels))
        record(file, entry.name, entry.labels, found);
      else collect(item, file, found, depth + 1);
    }
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    const labels = (value as { labels?: unknown } | null)?.labels;
    if (DNS_LABEL.test(key) && isLabelMap(labels)) record(file, key, labels, found);
    else collect(value, file, found, depth + 1);
  }
}

function isLabelMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (INJECTION_LABEL in value || REV_LABEL in value);
}

function record(file: string, namespace: string, labels: Record<string, unknown>, found: NamespaceLabelsInData[]): void {
  found.push({ file, namespace, labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)])) });
}

/** A values file of a chart kept in the repo (a `Chart.yaml` in its directory or above) is the chart's, not a controller's. */
function insideChart(snapshot: RepoSnapshot, file: string): boolean {
  for (let dir = posix.dirname(file); ; dir = posix.dirname(dir)) {
    if (snapshot.has(dir === '.' ? 'Chart.yaml' : `${dir}/Chart.yaml`)) return true;
    if (dir === '.' || dir === '/') return false;
  }
}

/**
 * One warning per data file whose namespaces are on the old revision: this plan does not edit such
 * files (what reads them is outside the repo), so it names the file, the namespaces, and the
 * two-step change a controller needs when it never overwrites a label a namespace already has.
 */
export function namespaceDataWarnings(snapshot: RepoSnapshot, index: YamlIndex, to: Revision): PlanWarning[] {
  // istio-injection=enabled wins over any istio.io/rev, and follows the default tag (the old revision until it moves).
  // A file kustomize never applies (a leftover beside a kustomization) is not data either.
  const orphans = new Set(index.skipped.filter((f) => f.reason.includes('never applies')).map((f) => f.file));
  const onOld = findNamespaceLabelsInData(snapshot, index)
    .filter((n) => !orphans.has(n.file))
    .filter((n) => n.labels[INJECTION_LABEL] === 'enabled' || (n.labels[REV_LABEL] !== undefined && n.labels[REV_LABEL] !== to.name));
  const byFile = new Map<string, string[]>();
  for (const n of onOld) byFile.set(n.file, [...(byFile.get(n.file) ?? []), n.namespace]);
  return [...byFile].map(([file, namespaces]) => ({
    code: 'namespace-labels-in-data',
    message:
      `${file} sets mesh labels for namespace${namespaces.length > 1 ? 's' : ''} ${namespaces.join(', ')} as data (no kind): whatever creates namespaces from it is outside this plan, which neither edits it nor restarts those namespaces' workloads unless they are in git. ` +
      `Change each entry to ${REV_LABEL}: ${to.name} without ${INJECTION_LABEL}. A controller that never overwrites a label a namespace already has needs a second step on the cluster: ` +
      `kubectl label namespace ${namespaces.join(' ')} ${INJECTION_LABEL}- ${REV_LABEL}=${to.name} --overwrite, then restart their workloads.`,
    file,
  }));
}
