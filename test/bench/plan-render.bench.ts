/**
 * `npm run bench`: plan + render of a canary upgrade on a large synthetic GitOps repo, measured
 * against the YAML parse floor.
 *
 * The repo is built in memory: the ASM `asm-1130-0` control plane of test/fixtures/asm-manifests
 * (istiod split into one file per kind, webhooks, `istiod` Service, revision tags, gateway,
 * Argo CD Applications), 2,000 app namespaces with 20,000 workloads in about 5,000 files (about
 * 11 MB of YAML), and a handful of namespaces outside the mesh. A seeded PRNG keeps it identical
 * from run to run.
 *
 * Measured, after a warm-up of every step on a small repo, as the median of 3 runs each (the three
 * steps take turns, with a forced GC before each when run with --expose-gc):
 * - the floor: one full parse of every YAML file of the repo, with js-yaml `loadAll` and with
 *   `yaml` `parseAllDocuments`; the faster of the two is the floor (each file's result is dropped
 *   once parsed, so the floor carries no cost of keeping it);
 * - plan + render: `planUpgrade(repo, { to: 'asm-1140-0' })` (which writes every phase's edits into
 *   the repo text, phase after phase) + `renderThrough(plan, <last phase>)`.
 *
 * A plan is checked before it counts (see `checkPlan`). Peak RSS is the process's `maxRSS`, the
 * high-water mark of the whole run (repo, floor parses and plans): every step is synchronous, so a
 * timer sampling `memoryUsage().rss` would never fire during one. The last line
 * of stdout is one JSON object:
 * `{"files", "workloads", "floorMs", "floorParser", "planRenderMs", "ratio", "peakRssMb"}`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import { isEntryPoint } from '../../src/cli/is-entry-point.js';
import { planUpgrade, renderThrough } from '../../src/core/plan.js';
import type { UpgradePlan } from '../../src/core/plan-types.js';
import { type FileChange, isYamlPath, type RepoSnapshot } from '../../src/model/snapshot.js';

const FROM = 'asm-1130-0';
const TO = 'asm-1140-0';
const RUNS = 3;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

type Rng = () => number;

/** mulberry32: small, fast, good enough for shaping test data. */
function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;
function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
const pad4 = (n: number) => String(n).padStart(4, '0');

// ---------------------------------------------------------------------------------------------
// Synthetic repo

/** The fixture whose control plane the synthetic repo uses (from test/bench or dist/test/bench). */
function fixtureDir(): string {
  const candidates = ['../fixtures/asm-manifests/', '../../../test/fixtures/asm-manifests/'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((dir) => {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`cannot find test/fixtures/asm-manifests (looked in ${candidates.join(', ')})`);
  return found;
}

function readTree(root: string, dir: string, out: Map<string, string>): void {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) readTree(root, path, out);
    else out.set(path, readFileSync(join(root, path), 'utf8'));
  }
}

/**
 * The ASM control plane, gateway and Argo CD Applications of the asm-manifests fixture, with the
 * revision's `istiod.yaml` split into one file per kind as `asmcli --output_dir` users often keep it.
 */
function meshFiles(): Map<string, string> {
  const all = new Map<string, string>();
  readTree(fixtureDir(), '', all);
  const out = new Map<string, string>();
  for (const [path, text] of all) {
    if (path.startsWith('argocd/') || path.startsWith('clusters/prod/istio-ingress/')) out.set(path, text);
    else if (path.startsWith('clusters/prod/istio-system/') && !path.endsWith('/istiod.yaml')) out.set(path, text);
  }
  const istiod = all.get(`clusters/prod/istio-system/${FROM}/istiod.yaml`);
  if (istiod === undefined) throw new Error(`fixture lacks clusters/prod/istio-system/${FROM}/istiod.yaml`);
  const fileOfKind: Record<string, string> = {
    ServiceAccount: 'serviceaccount.yaml',
    ConfigMap: 'configmaps.yaml',
    Deployment: 'deployment.yaml',
    Service: 'service.yaml',
    HorizontalPodAutoscaler: 'hpa.yaml',
    PodDisruptionBudget: 'pdb.yaml',
    Role: 'rbac.yaml',
    RoleBinding: 'rbac.yaml',
    ClusterRole: 'rbac.yaml',
    ClusterRoleBinding: 'rbac.yaml',
    EnvoyFilter: 'envoyfilter.yaml',
  };
  const byFile = new Map<string, string[]>();
  for (const document of istiod.split(/^---[ \t]*\n/m)) {
    const kind = /^kind:\s*(\S+)/m.exec(document)?.[1] ?? '';
    const file = fileOfKind[kind] ?? 'other.yaml';
    const list = byFile.get(file) ?? [];
    list.push(document);
    byFile.set(file, list);
  }
  for (const [file, documents] of byFile) out.set(`clusters/prod/istio-system/${FROM}/${file}`, documents.join('---\n'));
  return out;
}

const APPS = [
  'api',
  'web',
  'worker',
  'auth',
  'billing',
  'search',
  'cart',
  'orders',
  'catalog',
  'notifier',
  'scheduler',
  'reporter',
  'ingest',
  'export',
  'profile',
  'session',
  'inventory',
  'pricing',
  'ledger',
  'frontend',
  'graphql',
  'payments',
  'shipping',
  'reviews',
];
const TEAMS = ['storefront', 'checkout', 'platform', 'data', 'identity', 'growth', 'logistics', 'finance', 'mobile', 'search'];
const REGISTRIES = ['ghcr.io/example-org', 'registry.example.com/apps', 'gcr.io/example-prod'];
const ENV = [
  ['LOG_LEVEL', 'info'],
  ['LOG_FORMAT', 'json'],
  ['OTEL_ENDPOINT', 'http://otel.observability:4317'],
  ['GOMAXPROCS', '"2"'],
  ['JAVA_OPTS', '"-XX:MaxRAMPercentage=75"'],
  ['DB_POOL_SIZE', '"10"'],
  ['CACHE_TTL', '5m'],
] as const;

interface Generated {
  readonly files: number;
  readonly appNamespaces: number;
  readonly workloads: number;
  readonly statefulSets: number;
  readonly optedOut: number;
  readonly pods: number;
}

function namespaceFile(rng: Rng, name: string, team: string, style: number): string {
  const lines: string[] = [];
  if (chance(rng, 0.2)) lines.push(`# ${name}: owned by ${team} (#team-${team}). Injection labels are managed by platform.`);
  lines.push('apiVersion: v1', 'kind: Namespace', 'metadata:', `  name: ${name}`);
  if (style < 0.03) {
    // Flow-style labels.
    lines.push(`  labels: {team: ${team}, istio.io/rev: ${FROM}, env: prod}`);
  } else if (style < 0.08) {
    // Legacy label: follows the default tag.
    lines.push(
      '  labels:',
      `    istio-injection: enabled${chance(rng, 0.5) ? ' # TODO(platform): move to istio.io/rev' : ''}`,
      `    team: ${team}`,
    );
  } else {
    const rev = chance(rng, 0.3) ? `"${FROM}"` : FROM;
    lines.push('  labels:', `    team: ${team}`, `    istio.io/rev: ${rev}${chance(rng, 0.25) ? ' # managed by platform team' : ''}`);
    if (chance(rng, 0.5)) lines.push('    env: prod');
  }
  if (chance(rng, 0.4)) lines.push('  annotations:', `    owner: "${team}@example.com"`, `    cost-center: "cc-${int(rng, 1000, 9999)}"`);
  return `${lines.join('\n')}\n`;
}

/**
 * One workload manifest, 430–650 bytes (about 530 on average; StatefulSets run larger): labels,
 * annotations on some, one container with image, ports, resources and (mostly) env.
 */
function workloadDoc(
  rng: Rng,
  ns: string,
  team: string,
  name: string,
  kind: 'Deployment' | 'StatefulSet',
  stats: { optedOut: number; pods: number },
): string {
  const app = name;
  const container = name.replace(/-\d+$/, '');
  const port = pick(rng, [8080, 8080, 8443, 9090, 3000, 5000]);
  const replicas = int(rng, 1, 3);
  const omitReplicas = kind === 'Deployment' && chance(rng, 0.05);
  const optedOut = chance(rng, 0.01);
  if (optedOut) stats.optedOut++;
  else stats.pods += omitReplicas ? 1 : replicas;
  const l: string[] = [];
  l.push('apiVersion: apps/v1', `kind: ${kind}`, 'metadata:', `  name: ${name}`, `  namespace: ${ns}`, '  labels:', `    app: ${app}`);
  if (chance(rng, 0.3)) l.push(`    team: ${team}`);
  if (chance(rng, 0.1)) l.push('  annotations:', `    deploy.example.com/change-id: "CHG-${int(rng, 10000, 99999)}"`);
  l.push('spec:');
  if (kind === 'StatefulSet') l.push(`  serviceName: ${name}`);
  if (omitReplicas) l.push('  # no replicas: defaults to 1');
  else l.push(`  replicas: ${replicas}`);
  l.push('  selector:', '    matchLabels:', `      app: ${app}`, '  template:', '    metadata:', '      labels:', `        app: ${app}`);
  if (chance(rng, 0.2)) l.push(`        version: v${int(rng, 1, 5)}`);
  if (optedOut) l.push('        sidecar.istio.io/inject: "false" # opted out, see PLAT-118');
  if (chance(rng, 0.1)) {
    l.push('      annotations:', '        prometheus.io/scrape: "true"', `        prometheus.io/port: "${port}"`);
    if (chance(rng, 0.2)) l.push('        proxy.istio.io/config: \'{"holdApplicationUntilProxyStarts": true}\'');
  }
  l.push('    spec:', '      containers:', `      - name: ${container}`);
  l.push(`        image: ${pick(rng, REGISTRIES)}/${container}:${int(rng, 0, 9)}.${int(rng, 0, 40)}.${int(rng, 0, 20)}`);
  l.push('        ports:', `        - containerPort: ${port}`);
  if (chance(rng, 0.2)) l.push('          name: http');
  const cpu = pick(rng, [50, 100, 200, 250, 500]);
  const memory = pick(rng, [64, 128, 256, 512]);
  if (chance(rng, 0.1)) {
    l.push(
      '        resources:',
      '          requests:',
      `            cpu: ${cpu}m`,
      `            memory: ${memory}Mi`,
      '          limits:',
      `            memory: ${memory * 2}Mi`,
    );
  } else {
    const limits = chance(rng, 0.25) ? `, limits: {memory: ${memory * 2}Mi}` : '';
    l.push(`        resources: {requests: {cpu: ${cpu}m, memory: ${memory}Mi}${limits}}`);
  }
  if (chance(rng, 0.35)) {
    l.push('        env:');
    for (const [k, v] of shuffle(rng, [...ENV]).slice(0, chance(rng, 0.15) ? 2 : 1))
      l.push(`        - name: ${k}`, `          value: ${v}`);
  }
  if (chance(rng, 0.05)) l.push('        readinessProbe:', '          httpGet: {path: /healthz, port: http}');
  if (kind === 'StatefulSet') {
    l.push('        volumeMounts:', '        - name: data', '          mountPath: /data');
    l.push(
      '  volumeClaimTemplates:',
      '  - metadata:',
      '      name: data',
      '    spec:',
      '      accessModes: ["ReadWriteOnce"]',
      `      resources: {requests: {storage: ${pick(rng, [10, 20, 50])}Gi}}`,
    );
  }
  return `${l.join('\n')}\n`;
}

/** Workloads per app namespace: exactly `total` in all, 5–15 each, shuffled. */
function workloadCounts(rng: Rng, namespaces: number, total: number): number[] {
  const base = Math.floor(total / namespaces);
  const counts = Array.from({ length: namespaces }, (_, i) => base + (i < total - base * namespaces ? 1 : 0));
  for (let i = 0; i + 1 < namespaces; i += 2) {
    const d = Math.min(int(rng, 0, 5), counts[i + 1]! - 1);
    counts[i] = counts[i]! + d;
    counts[i + 1] = counts[i + 1]! - d;
  }
  return shuffle(rng, counts);
}

/**
 * The synthetic repo: the mesh of the fixture, `namespaces` app namespaces holding `workloads`
 * workloads (namespace.yaml + 1–3 workload files each, 1.5 on average), and a few namespaces
 * outside the mesh.
 */
export function buildRepo(namespaces: number, workloads: number, seed: number): { snapshot: Map<string, string>; stats: Generated } {
  const rng = mulberry32(seed);
  const snapshot = meshFiles();
  const stats = { optedOut: 0, pods: 0, statefulSets: 0 };
  const counts = workloadCounts(rng, namespaces, workloads);
  // 60% one workload file, 30% two, 10% three: 1.5 on average.
  const fileCounts = shuffle(
    rng,
    Array.from({ length: namespaces }, (_, i) => (i < namespaces * 0.6 ? 1 : i < namespaces * 0.9 ? 2 : 3)),
  );
  const namespaceStyles = shuffle(
    rng,
    Array.from({ length: namespaces }, (_, i) => i / namespaces),
  );
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${pad4(n)}`;
    const team = pick(rng, TEAMS);
    const dir = `clusters/prod/apps/${ns}`;
    snapshot.set(`${dir}/namespace.yaml`, namespaceFile(rng, ns, team, namespaceStyles[n]!));
    const count = counts[n]!;
    const files = Math.min(fileCounts[n]!, count);
    const documents: string[][] = Array.from({ length: files }, () => []);
    const used = new Map<string, number>();
    for (let w = 0; w < count; w++) {
      const kind = chance(rng, 0.07) ? 'StatefulSet' : 'Deployment';
      if (kind === 'StatefulSet') stats.statefulSets++;
      const app = pick(rng, APPS);
      const seen = (used.get(app) ?? 0) + 1;
      used.set(app, seen);
      const name = seen === 1 ? app : `${app}-${seen}`;
      documents[Math.floor((w * files) / count)]!.push(workloadDoc(rng, ns, team, name, kind, stats));
    }
    const names =
      files === 1 ? ['workloads.yaml'] : files === 2 ? ['backend.yaml', 'frontend.yaml'] : ['backend.yaml', 'frontend.yaml', 'jobs.yaml'];
    documents.forEach((docs, i) => {
      const header = chance(rng, 0.15) ? `# ${ns} ${names[i]!.replace('.yaml', '')} workloads. Image tags are bumped by renovate.\n` : '';
      snapshot.set(`${dir}/${names[i]!}`, header + docs.join('---\n'));
    });
  }
  // Outside the mesh: no injection labels, must stay untouched.
  for (const ns of ['monitoring', 'cert-manager', 'external-dns', 'logging', 'velero']) {
    const dir = `clusters/prod/system/${ns}`;
    snapshot.set(
      `${dir}/namespace.yaml`,
      `# Not meshed: infrastructure.\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n  labels: {team: platform}\n`,
    );
    snapshot.set(`${dir}/deployment.yaml`, workloadDoc(rng, ns, 'platform', ns, 'Deployment', { optedOut: 0, pods: 0 }));
  }
  return { snapshot, stats: { files: snapshot.size, appNamespaces: namespaces, workloads, ...stats } };
}

// ---------------------------------------------------------------------------------------------
// Measured steps

const yamlTexts = (snapshot: RepoSnapshot) => [...snapshot].filter(([path]) => isYamlPath(path)).map(([, text]) => text);

/** One full parse of every YAML file with js-yaml (each file's result is dropped after counting). */
function parseJsYaml(texts: readonly string[]): number {
  let documents = 0;
  for (const text of texts) documents += loadAll(text).length;
  return documents;
}

/** One full parse of every YAML file with `yaml` (Document ASTs, dropped after counting; a YAML error throws). */
function parseYaml(texts: readonly string[]): number {
  let documents = 0;
  for (const text of texts) {
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) continue;
    for (const doc of docs) if (doc.errors.length > 0) throw new Error(`yaml: ${doc.errors[0]!.message}`);
    documents += docs.length;
  }
  return documents;
}

function planAndRender(snapshot: RepoSnapshot): { plan: UpgradePlan; rendered: readonly FileChange[] } {
  const plan = planUpgrade(snapshot, { to: TO });
  const last = plan.phases[plan.phases.length - 1]!;
  return { plan, rendered: renderThrough(plan, last.id) };
}

const gc = (globalThis as { gc?: () => void }).gc;
const collect = () => gc?.();

function time<T>(fn: () => T): { ms: number; result: T } {
  collect();
  const start = performance.now();
  const result = fn();
  return { ms: performance.now() - start, result };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;

/**
 * Throws unless the plan found the mesh and does the whole upgrade: the five kinds of phase, every
 * meshed workload restarted (all its pods, in waves), the gateway moved, every app namespace
 * relabelled, the old control plane deleted, and nothing outside the mesh touched.
 */
function checkPlan(plan: UpgradePlan, rendered: readonly FileChange[], stats: Generated): void {
  const ids = plan.phases.map((p) => p.id);
  const fail = (message: string) => {
    throw new Error(`${message} (phases: ${ids.join(', ')})`);
  };
  for (const id of ['control-plane', 'gateways', 'default-revision', 'cleanup']) if (!ids.includes(id)) fail(`plan lacks phase ${id}`);
  const waves = plan.phases.filter((p) => /^workloads(-\d+)?$/.test(p.id));
  if (waves.length === 0 || waves.some((w) => w.files.length === 0 || w.changes.length === 0)) fail('a workloads phase changes nothing');
  const restarted = waves.flatMap((w) => w.changes).filter((c) => c.kind === 'Deployment' || c.kind === 'StatefulSet').length;
  if (restarted !== stats.workloads - stats.optedOut)
    fail(`restarted ${restarted} workloads, expected ${stats.workloads - stats.optedOut}`);
  const pods = waves.reduce((sum, w) => sum + w.pods, 0);
  if (pods !== stats.pods) fail(`waves restart ${pods} pods, expected ${stats.pods}`);
  if (!plan.phases.find((p) => p.id === 'gateways')?.changes.some((c) => c.kind === 'Deployment')) fail('the gateway is not restarted');
  const relabelled = rendered.filter((c) => /^clusters\/prod\/apps\/[^/]+\/namespace\.yaml$/.test(c.path) && c.action === 'update').length;
  if (relabelled !== stats.appNamespaces) fail(`${relabelled} of ${stats.appNamespaces} app namespaces relabelled`);
  if (!rendered.some((c) => c.action === 'delete' && c.path.startsWith(`clusters/prod/istio-system/${FROM}/`)))
    fail(`the ${FROM} control plane is not deleted`);
  const outside = rendered.find((c) => c.path.startsWith('clusters/prod/system/'));
  if (outside) fail(`${outside.path} is outside the mesh but changed`);
}

function describePlan(plan: UpgradePlan, rendered: number): string {
  const waves = plan.phases.filter((p) => /^workloads(-\d+)?$/.test(p.id));
  const changed = plan.phases.reduce((sum, p) => sum + p.files.length, 0);
  const objects = plan.phases.reduce((sum, p) => sum + p.changes.length, 0);
  const ids = plan.phases.map((p) => p.id);
  const shown = ids.length > 8 ? [...ids.slice(0, 4), '…', ...ids.slice(-4)] : ids;
  return [
    `plan: ${plan.phases.length} phases (${waves.length} workloads waves of ≤100 pods): ${shown.join(', ')}`,
    `  ${objects} object changes, ${changed} file changes over all phases; ${rendered} net file changes through ${ids[ids.length - 1]}; ${plan.warnings.length} warnings`,
  ].join('\n');
}

function main(): void {
  const totalStart = performance.now();
  if (!gc) console.log('note: run with node --expose-gc for a collection before each timed run');

  // Warm-up on a small repo: every measured step, so each is JIT-compiled before it is timed.
  const small = buildRepo(60, 600, 7);
  const smallTexts = yamlTexts(small.snapshot);
  for (let i = 0; i < 3; i++) {
    parseJsYaml(smallTexts);
    parseYaml(smallTexts);
    const { plan, rendered } = planAndRender(small.snapshot);
    checkPlan(plan, rendered, small.stats);
  }

  const built = time(() => buildRepo(2000, 20_000, 20240611));
  const { snapshot, stats } = built.result;
  const texts = yamlTexts(snapshot);
  const bytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0);
  console.log(
    `synthetic repo: ${stats.files} files (${texts.length} YAML), ${(bytes / 1e6).toFixed(2)} MB of YAML, built in ${built.ms.toFixed(0)} ms`,
  );
  console.log(
    `  ${stats.appNamespaces} app namespaces, ${stats.workloads} workloads (${stats.statefulSets} StatefulSets, ${stats.optedOut} opted out), ${stats.pods} pods to restart`,
  );
  console.log(`  + istiod ${FROM} (manifests), 1 gateway, 5 namespaces outside the mesh`);

  const jsYamlMs: number[] = [];
  const yamlMs: number[] = [];
  const planMs: number[] = [];
  let documents = 0;
  let summary = '';
  for (let run = 0; run < RUNS; run++) {
    const a = time(() => parseJsYaml(texts));
    jsYamlMs.push(a.ms);
    documents = a.result;
    const b = time(() => parseYaml(texts));
    yamlMs.push(b.ms);
    if (b.result !== documents) throw new Error(`parsers disagree: js-yaml ${documents} documents, yaml ${b.result}`);
    // The plan (and its per-phase snapshots) goes out of scope at the end of the iteration.
    const p = time(() => planAndRender(snapshot));
    planMs.push(p.ms);
    if (run === 0) {
      checkPlan(p.result.plan, p.result.rendered, stats);
      summary = describePlan(p.result.plan, p.result.rendered.length);
    }
    console.log(
      `run ${run + 1}: js-yaml loadAll ${fmt(a.ms)} | yaml parseAllDocuments ${fmt(b.ms)} | plan+render ${fmt(p.ms)} | maxRSS so far ${peakRssMb().toFixed(0)} MB`,
    );
  }
  console.log(summary);

  const jsYaml = median(jsYamlMs);
  const yaml = median(yamlMs);
  const floorMs = Math.min(jsYaml, yaml);
  const floorParser = jsYaml <= yaml ? 'js-yaml' : 'yaml';
  const planRenderMs = median(planMs);
  const ratio = planRenderMs / floorMs;
  const peak = peakRssMb();
  console.log(
    `medians of ${RUNS}: js-yaml ${jsYaml.toFixed(0)} ms, yaml ${yaml.toFixed(0)} ms (${documents} documents) → floor ${floorMs.toFixed(0)} ms (${floorParser})`,
  );
  console.log(
    `plan+render ${planRenderMs.toFixed(0)} ms = ${ratio.toFixed(2)}× floor (target ≤ 3, aim ≤ 1.5): ${ratio <= 3 ? 'met' : 'NOT met'}`,
  );
  console.log(
    `peak RSS ${peak.toFixed(0)} MB (target ≤ 500): ${peak <= 500 ? 'met' : 'NOT met'}; whole bench ${((performance.now() - totalStart) / 1000).toFixed(1)} s`,
  );
  console.log(
    JSON.stringify({
      files: stats.files,
      workloads: stats.workloads,
      floorMs: round(floorMs, 1),
      floorParser,
      planRenderMs: round(planRenderMs, 1),
      ratio: round(ratio, 2),
      peakRssMb: round(peak, 1),
    }),
  );
}

if (isEntryPoint(import.meta.url)) main();
