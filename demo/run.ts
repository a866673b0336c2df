import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  type Stats,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { readLocalRepo } from '../src/adapters/fs/local-repo.js';
import { CONFIG_PATH, parseRepoConfig } from '../src/config/repo-config.js';
import { isStateComment } from '../src/core/markers.js';
import { DemoHarness, type Transcript } from './harness.js';
import { projectRoot } from './paths.js';
import { ANY_REPO_SCENARIOS, type UpgradeRequest, upgradeCommand } from './scenarios/any-repo.js';
import { ARGO_SCENARIOS } from './scenarios/argocd.js';
import { type ScenarioResult, TARGET } from './scenarios/drive.js';
import { SCENARIO_REPOS, scenarioRepo } from './scenarios/first-canary.js';
import { SCENARIOS } from './scenarios.js';

export interface DemoIO {
  /** Standard output (one call per line, without the newline). */
  readonly out: (text: string) => void;
  /** Standard error (one call per message, without the newline). */
  readonly err: (text: string) => void;
}

/** Written into the demo's copy of a repo that has no `.github/mesh-upgrade.yml`. */
export const MINIMAL_CONFIG = `# written by the mesh-upgrade-bot demo: the repo had no ${CONFIG_PATH}
clusters:
  - name: default
    path: .             # the whole repo
gate: manual            # a maintainer says /upgrade continue after checking each phase
`;

/** Directories neither uploaded to the simulated repo nor copied to --final-repo. */
const NOT_COPIED = new Set(['.git', 'node_modules']);

class UsageError extends Error {}

interface Args {
  readonly scenario: string;
  readonly transcript?: string;
  readonly quiet: boolean;
  /** Everything (the plan comment after every step, each PR's body) instead of the story told once. */
  readonly verbose: boolean;
  readonly finalRepo?: string;
  /** With `--repo`: the directory and the upgrade the maintainer asks for. */
  readonly repo?: { readonly dir: string; readonly shown: string; readonly request: UpgradeRequest };
}

const USAGE = (names: readonly string[], anyRepo: readonly string[]) =>
  [
    `Usage: npm run demo -- [--scenario ${names.join('|')}] [--transcript FILE] [--final-repo OUT_DIR] [--verbose|--quiet]`,
    `       npm run demo -- --repo DIR --to REVISION [--version V] [--scenario ${anyRepo.join('|')}] [--transcript FILE] [--final-repo OUT_DIR] [--verbose|--quiet]`,
    '',
    'Without --repo: examples/cluster-config upgraded to asm-1140-0 (first-canary: test/fixtures/rendered-nonrevisioned',
    'to 1-22-1). With --repo: a copy of DIR (DIR is never',
    'modified), the maintainer saying `/upgrade REVISION [--version V]`. --final-repo writes the simulated',
    'default branch at the end to OUT_DIR (created; it must not exist or be empty). The output tells the story once',
    '(one line per comment, pull request and gate decision; the plan comment at the start and the end);',
    "--verbose prints everything (the plan comment after every step, each pull request's body), --quiet nothing.",
  ].join('\n');

/**
 * `npm run demo -- …`: the real app against the simulated GitHub, printed as a user would see it.
 * Returns the exit code: 0 ran (whatever the upgrade's outcome), 1 a request broke GitHub's OpenAPI
 * description, 2 a usage error. main.ts is this with the process's streams.
 */
export async function runDemo(argv: readonly string[], io: DemoIO): Promise<number> {
  let args: Args | 'help';
  try {
    args = parseDemoArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    io.err(`demo: ${(error as Error).message}`);
    return 2;
  }
  if (args === 'help') {
    io.out(USAGE(Object.keys(SCENARIOS), Object.keys(ANY_REPO_SCENARIOS)));
    return 0;
  }
  const print = args.quiet ? () => undefined : io.out;
  const name = args.scenario;

  let h: DemoHarness;
  let result: ScenarioResult;
  let transcript: Transcript;
  let sourceDir: string;
  let uploaded: ReadonlySet<string>;
  if (!args.repo) {
    const own = SCENARIO_REPOS[name];
    sourceDir = own ? join(projectRoot(), ...own.dir.split('/')) : join(projectRoot(), 'examples', 'cluster-config');
    const argocd = ARGO_SCENARIOS[name];
    const files = await scenarioRepo(name);
    h = await DemoHarness.create({ print, verbose: args.verbose, ...(argocd ? { argocd } : {}), ...(files ? { files } : {}) });
    uploaded = new Set(h.sim.filesAt(h.sim.defaultBranch).keys());
    print(
      `▶ scenario ${name}: ${own ? `${own.dir} (with a .github/mesh-upgrade.yml added: one cluster \`prod\`, the whole repo, gate manual)` : 'examples/cluster-config'} on a simulated GitHub (example-org/cluster-config)`,
    );
    result = await SCENARIOS[name]!(h);
    transcript = h.transcript(name, result.trackingIssue);
  } else {
    const { dir, shown, request } = args.repo;
    sourceDir = dir;
    const files = new Map(await readLocalRepo(dir));
    uploaded = new Set(files.keys());
    const repoName = simulatedRepoName(dir);
    print(`▶ scenario ${name}: a copy of ${shown} on a simulated GitHub (example-org/${repoName}); ${shown} itself is not modified`);
    if (files.size === 0) print(`  ${shown} has no YAML files: there is nothing for the bot to plan.`);
    const config = files.get(CONFIG_PATH);
    if (config === undefined) {
      files.set(CONFIG_PATH, MINIMAL_CONFIG);
      print(
        `  ${shown} has no ${CONFIG_PATH}: the demo wrote a minimal one into its copy (one cluster \`default\`, path \`.\` = the whole repo, gate manual):\n${indent(MINIMAL_CONFIG.trimEnd())}`,
      );
    } else {
      print(`  using ${shown}/${CONFIG_PATH} as it is`);
      if (configGate(config) === 'argocd') {
        print(
          '  note: it says `gate: argocd`, and this demo simulates no Argo CD (nor its commit statuses) for --repo: a merged phase whose applications must report Synced and Healthy waits, and the demo stops there.',
        );
      }
    }
    print(
      `  the maintainer (@alice) says \`${upgradeCommand(request)}\`, merges each phase PR and says \`/upgrade continue\`; manual steps that must commit files are not done, so the demo stops where the bot waits for them.`,
    );
    h = await DemoHarness.create({ print, verbose: args.verbose, files, repo: repoName });
    result = await ANY_REPO_SCENARIOS[name]!(request)(h);
    const base = h.transcript(name, result.trackingIssue);
    transcript = { ...base, final: { ...base.final, reason: finalReason(h, result.trackingIssue) } };
  }

  h.story.end(result.trackingIssue, result.trackingIssue === null ? null : h.stickyComment(result.trackingIssue));
  print(
    `\n■ final: ${transcript.final.status}${transcript.final.phase ? ` at ${transcript.final.phase}` : ''}; ${transcript.pullRequests.length} pull request(s); ${transcript.githubRequests.length} GitHub requests`,
  );
  if (transcript.final.reason) print(`  reason: ${transcript.final.reason}`);
  if (result.stopped) print(`  the demo stopped: ${result.stopped}`);
  for (const { phase, requests } of result.requestsPerPhase)
    print(`  ${phase}: ${requests} GitHub requests from gate pass to pull request opened`);
  for (const { phase, ms } of result.gateLatencies ?? [])
    print(`  ${phase}: opened ${(ms / 1000).toFixed(1)} s (virtual) after the gate's conditions held`);
  if (h.sim.violations.length > 0) {
    io.err(`demo: requests that break GitHub's OpenAPI description:\n${h.sim.violations.join('\n')}`);
    return 1;
  }
  if (args.transcript) writeFileSync(args.transcript, `${JSON.stringify(transcript, null, 2)}\n`);
  if (args.finalRepo) {
    const { written, copied } = writeFinalRepo(h.sim.filesAt(h.sim.defaultBranch), sourceDir, uploaded, args.finalRepo);
    print(
      `  final repo: ${args.finalRepo} (${written} file(s) of the simulated ${h.sim.defaultBranch} branch${copied > 0 ? `, ${copied} other file(s) copied unchanged` : ''})`,
    );
  }
  return 0;
}

function parseDemoArgs(argv: readonly string[]): Args | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string' },
      transcript: { type: 'string' },
      quiet: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      repo: { type: 'string' },
      to: { type: 'string' },
      version: { type: 'string' },
      'final-repo': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.quiet && values.verbose) throw new UsageError('--quiet and --verbose exclude each other');
  for (const flag of ['scenario', 'transcript', 'repo', 'to', 'version', 'final-repo'] as const) {
    if (values[flag] === '') throw new UsageError(`--${flag} needs a value`);
  }
  const name = values.scenario ?? 'happy';
  const finalRepo = values['final-repo'];
  const common = {
    scenario: name,
    quiet: values.quiet ?? false,
    verbose: values.verbose ?? false,
    ...(values.transcript ? { transcript: values.transcript } : {}),
    ...(finalRepo ? { finalRepo } : {}),
  };

  if (values.repo === undefined) {
    if (values.to !== undefined || values.version !== undefined) {
      throw new UsageError(`--to and --version need --repo DIR (without --repo the demo upgrades examples/cluster-config to ${TARGET})`);
    }
    if (!SCENARIOS[name]) throw new UsageError(`unknown scenario '${name}'; scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
    const own = SCENARIO_REPOS[name];
    if (finalRepo)
      checkOutDir(finalRepo, own ? join(projectRoot(), ...own.dir.split('/')) : join(projectRoot(), 'examples', 'cluster-config'));
    return common;
  }

  if (values.to === undefined)
    throw new UsageError('--repo DIR needs --to REVISION (the revision to upgrade to, as in `/upgrade REVISION`)');
  const revision = token('--to', values.to);
  const version = values.version === undefined ? undefined : token('--version', values.version);
  if (!ANY_REPO_SCENARIOS[name]) {
    const known = SCENARIOS[name] ? ` ('${name}' is written for examples/cluster-config; run it without --repo)` : '';
    throw new UsageError(`scenario '${name}' does not run with --repo${known}; with --repo: ${Object.keys(ANY_REPO_SCENARIOS).join(', ')}`);
  }
  const dir = resolve(values.repo);
  let stat: Stats;
  try {
    stat = statSync(dir);
  } catch {
    throw new UsageError(`--repo ${values.repo}: no such directory`);
  }
  if (!stat.isDirectory()) throw new UsageError(`--repo ${values.repo}: not a directory`);
  if (finalRepo) checkOutDir(finalRepo, dir);
  if (values.transcript && isInside(values.transcript, dir)) {
    throw new UsageError(
      `--transcript ${values.transcript} is inside --repo ${values.repo}, which the demo never modifies; write it elsewhere`,
    );
  }
  return { ...common, repo: { dir, shown: values.repo.replace(/(.)\/+$/, '$1'), request: { revision, ...(version ? { version } : {}) } } };
}

/** A revision or version as one word of the `/upgrade` comment. */
function token(flag: string, value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(value))
    throw new UsageError(
      `${flag} '${value}': expected one word of letters, digits, '.', '_', '+' or '-' (e.g. 1-22-1, asm-1140-0, 1.22.1)`,
    );
  return value;
}

/** --final-repo must be absent or an empty directory, and outside the repo the demo reads. */
function checkOutDir(out: string, source: string): void {
  if (isInside(out, source))
    throw new UsageError(
      `--final-repo ${out} is inside ${relative(process.cwd(), source) || '.'}, which the demo never modifies; choose a directory elsewhere`,
    );
  let stat: Stats;
  try {
    stat = statSync(out);
  } catch {
    return;
  }
  if (!stat.isDirectory()) throw new UsageError(`--final-repo ${out} exists and is not a directory`);
  if (readdirSync(out).length > 0) throw new UsageError(`--final-repo ${out} exists and is not empty`);
}

/** Whether `path` (existing or not) is `dir` or lies under it, symlinks resolved. */
function isInside(path: string, dir: string): boolean {
  const rel = relative(realpathSync(dir), realExisting(resolve(path)));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/** The real path of the longest existing prefix of `path`, with the rest appended. */
function realExisting(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realExisting(parent), basename(path));
  }
}

/** The simulated repository's name: DIR's name, as GitHub would accept it. */
function simulatedRepoName(dir: string): string {
  const name = basename(realpathSync(dir))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 100);
  return name || 'cluster-config';
}

function configGate(text: string): string | null {
  try {
    return parseRepoConfig(text).gate;
  } catch {
    return null; // the bot says what is wrong with it
  }
}

/** Why the upgrade did not complete: the bot's pause reason, or where it waits; a refusal's text. */
function finalReason(h: DemoHarness, issue: number | null): string | null {
  const state = issue === null ? null : h.state(issue);
  if (!state) {
    const reply =
      issue === null
        ? undefined
        : [...h.sim.comments(issue)].reverse().find((c) => c.user?.type === 'Bot' && !isStateComment(c.body ?? ''));
    return reply ? (reply.body ?? '').replace(/<!--[\s\S]*?-->/g, '').trim() || null : null;
  }
  if (state.status === 'completed' || state.status === 'rolled-back') return null;
  if (state.reason) return state.reason;
  const phase = state.phases.find((p) => p.status !== 'passed' && p.status !== 'done');
  const next = /\*\*Next:\*\* (.*)/.exec(h.stickyComment(state.issue) ?? '')?.[1]?.trim();
  const parts = [phase ? `${phase.id}: ${phase.note ?? phase.status}` : null, next ? `next: ${next}` : null].filter(
    (p): p is string => p !== null,
  );
  return parts.length > 0 ? parts.join('; ') : null;
}

/**
 * Writes the default branch's files to `out`, then copies the files of `source` that never were in
 * the simulated repo (the bot reads only YAML; README, scripts, binaries stay as they are).
 */
function writeFinalRepo(
  files: ReadonlyMap<string, string>,
  source: string,
  uploaded: ReadonlySet<string>,
  out: string,
): { written: number; copied: number } {
  mkdirSync(out, { recursive: true });
  if (readdirSync(out).length > 0) throw new Error(`--final-repo ${out} is no longer empty`);
  for (const [path, text] of files) {
    const target = join(out, ...path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    const original = join(source, ...path.split('/'));
    if (existsSync(original) && lstatSync(original).isFile()) chmodSync(target, lstatSync(original).mode & 0o7777); // git keeps the mode
  }
  let copied = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const from = join(dir, entry.name);
      const path = relative(source, from).split(sep).join('/');
      if (entry.isDirectory()) {
        if (!NOT_COPIED.has(entry.name)) walk(from);
        continue;
      }
      if (uploaded.has(path) || files.has(path)) continue;
      const target = join(out, ...path.split('/'));
      mkdirSync(dirname(target), { recursive: true });
      if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), target);
      else if (entry.isFile()) copyFileSync(from, target);
      else continue;
      copied++;
    }
  };
  walk(source);
  return { written: files.size, copied };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
