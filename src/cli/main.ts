#!/usr/bin/env node

import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { readLocalRepo, writeLocalChanges } from '../adapters/fs/local-repo.js';
import { type CliPlanFlags, planOptionsFor } from '../config/plan-options.js';
import { type ClusterConfig, CONFIG_PATH, ConfigError, parseRepoConfig, type RepoConfig } from '../config/repo-config.js';
import { planUpgrade, renderThrough } from '../core/plan.js';
import type { PlanOptions } from '../core/plan-types.js';
import { PLATFORMS, type Platform } from '../core/platform.js';
import { MeshUpgradeError } from '../model/errors.js';
import { scopeSnapshot } from '../model/snapshot.js';
import type { CliWords } from '../text/cli-words.js';
import { sayText } from '../text/hints.js';
import { loadCliWords } from '../text/templates.js';
import { formatDiff, formatPlan } from './format-plan.js';
import { isEntryPoint } from './is-entry-point.js';
import { toPlanJson } from './plan-json.js';
import { styleFor, wantsColour } from './style.js';

const EXIT_OK = 0;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;

class UsageError extends Error {}

const COMMON_OPTIONS = {
  repo: { type: 'string' },
  to: { type: 'string' },
  version: { type: 'string' },
  path: { type: 'string' },
  cluster: { type: 'string' },
  config: { type: 'string' },
  downgrade: { type: 'boolean' },
  rollback: { type: 'boolean' },
  strategy: { type: 'string' },
  canary: { type: 'string' },
  'pod-budget': { type: 'string' },
  platform: { type: 'string' },
  'kubernetes-version': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The usage of the CLI and of each command (templates/cli.md). */
const USAGE = {
  main: () => `${words().say('usage.main')}\n`,
  plan: () => `${words().say('usage.plan')}\n`,
  render: () => `${words().say('usage.render')}\n`,
};

interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Colour stdout's text (a terminal without NO_COLOR; see `wantsColour`). `--json` is never coloured. */
  readonly colour?: boolean;
}

let cliWords: CliWords | undefined;
/** The CLI's words (templates/cli.md), read on first use. */
function words(): CliWords {
  cliWords ??= loadCliWords();
  return cliWords;
}

/** Runs the CLI; returns the exit code. Separate from process handling so tests can call it. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(USAGE.main());
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (command === 'plan') return await planCommand(rest, io);
    if (command === 'render') return await renderCommand(rest, io);
    throw new UsageError(`unknown command '${command}'; valid commands: plan, render`);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(
        `mesh-upgrade: ${error.message}\nRun 'mesh-upgrade ${command && USAGE[command as 'plan'] ? `${command} ` : ''}--help' for usage.\n`,
      );
      return EXIT_USAGE;
    }
    if (error instanceof MeshUpgradeError) {
      // The refusal's hints said the CLI's way: `mesh-upgrade plan --to …`, flags (never `/upgrade …`).
      io.stderr(`mesh-upgrade: ${words().say('refused', { reason: sayText(error.text, withInvocation(words(), rest)) })}\n`);
      return EXIT_REFUSED;
    }
    throw error;
  }
}

/**
 * The CLI's words with the repo, config and cluster of this invocation, so a suggested command runs
 * as printed (a value the shell would need quoted is left as its placeholder).
 */
function withInvocation(base: CliWords, args: readonly string[]): CliWords {
  const flagValue = (flag: string) => {
    const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i < 0) return null;
    const value = args[i]!.includes('=') ? args[i]!.slice(flag.length + 1) : args[i + 1];
    return value !== undefined && /^[\w@%+=:,./-]+$/.test(value) ? value : null;
  };
  const context = { repo: flagValue('--repo') ?? 'DIR', config: flagValue('--config'), cluster: flagValue('--cluster') };
  return { ...base, say: (key, params) => base.say(key, { ...context, ...params }) };
}

function parse<T extends ParseArgsConfig['options']>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

interface Planned {
  readonly repo: string;
  readonly path?: string;
  /** The repo config's path inside the repo (never planned as a manifest), if it is inside. */
  readonly configInRepo?: string;
  readonly options: PlanOptions;
}

async function planOptions(values: Record<string, unknown>): Promise<Planned> {
  if (typeof values.repo !== 'string') throw new UsageError('--repo DIR is required');
  if (typeof values.to !== 'string') throw new UsageError('--to REVISION is required');
  let podBudget: number | undefined;
  if (values['pod-budget'] !== undefined) {
    podBudget = Number(values['pod-budget']);
    if (!Number.isInteger(podBudget) || podBudget < 1)
      throw new UsageError(`--pod-budget must be a whole number ≥ 1, not '${String(values['pod-budget'])}'`);
  }
  const strategy = values.strategy;
  if (strategy !== undefined && strategy !== 'relabel' && strategy !== 'tag' && strategy !== 'auto')
    throw new UsageError(`--strategy is relabel, tag or auto, not '${String(strategy)}'`);
  const platform = values.platform;
  if (platform !== undefined && !PLATFORMS.includes(platform as Platform))
    throw new UsageError(`--platform is ${PLATFORMS.join(' or ')}, not '${String(platform)}'`);
  const kubernetesVersion = typeof values['kubernetes-version'] === 'string' ? values['kubernetes-version'] : undefined;
  const canary =
    typeof values.canary === 'string'
      ? values.canary
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const { config, configInRepo } = await readConfig(values.repo, typeof values.config === 'string' ? values.config : undefined);
  const path = typeof values.path === 'string' ? values.path : undefined;
  const cluster = chooseCluster(config, typeof values.cluster === 'string' ? values.cluster : undefined, path);
  // The same assembly as the bot's: a flag given wins over the repo config.
  const flags: CliPlanFlags = {
    to: values.to,
    ...(typeof values.version === 'string' ? { version: values.version } : {}),
    ...(values.downgrade ? { downgrade: true } : {}),
    ...(values.rollback ? { rollback: true } : {}),
    ...(strategy ? { strategy } : {}),
    ...(canary ? { canary } : {}),
    ...(podBudget !== undefined ? { podBudget } : {}),
    ...(platform ? { platform: platform as Platform } : {}),
    ...(kubernetesVersion ? { kubernetesVersion } : {}),
  };
  // Scoped like the bot's start: to the cluster's path ('' = the whole repo), unless --path says otherwise.
  const scope = path ?? (cluster.path || undefined);
  return {
    repo: values.repo,
    ...(scope !== undefined ? { path: scope } : {}),
    ...(configInRepo !== undefined ? { configInRepo } : {}),
    options: planOptionsFor(config, { kind: 'cli', flags, cluster }),
  };
}

/** The repo config: --config FILE, else DIR/.github/mesh-upgrade.yml when present, else the defaults. */
async function readConfig(repo: string, file: string | undefined): Promise<{ config: RepoConfig; configInRepo?: string }> {
  const configFile = file ?? join(repo, CONFIG_PATH);
  let text: string | null;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (file === undefined && code === 'ENOENT') text = null;
    else throw new UsageError(`cannot read ${file === undefined ? '' : '--config '}${configFile}: ${code ?? (error as Error).message}`);
  }
  let config: RepoConfig;
  try {
    config = parseRepoConfig(text);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const said = file === undefined ? error.message : error.message.replace(CONFIG_PATH, file);
    throw new UsageError(`invalid repo config ${said}`);
  }
  const inRepo = relative(resolve(repo), resolve(configFile));
  const configInRepo = inRepo && !inRepo.startsWith('..') && !isAbsolute(inRepo) ? inRepo.split(sep).join('/') : undefined;
  return { config, ...(configInRepo !== undefined ? { configInRepo } : {}) };
}

/**
 * The cluster to plan, as the bot's `--cluster` resolves it: the named one, or the only one. With
 * several and no --cluster, a --path that is one cluster's path picks it; otherwise it is a usage error.
 */
function chooseCluster(config: RepoConfig, name: string | undefined, path: string | undefined): ClusterConfig {
  const names = config.clusters.map((c) => c.name).join(', ');
  if (name !== undefined) {
    const cluster = config.clusters.find((c) => c.name === name);
    if (!cluster) throw new UsageError(`--cluster ${name} is not in the repo config; its clusters: ${names}`);
    return cluster;
  }
  if (config.clusters.length === 1) return config.clusters[0]!;
  const normal = (p: string) => p.replace(/^\.\//, '').replace(/\/+$/, '');
  const atPath = path === undefined ? [] : config.clusters.filter((c) => normal(c.path) === normal(path));
  if (atPath.length === 1) return atPath[0]!;
  throw new UsageError(`the repo config lists several clusters (${names}): say which with --cluster NAME`);
}

async function load(repo: string, path: string | undefined, configInRepo: string | undefined) {
  try {
    // The repo config is not a manifest (the bot leaves it out of its snapshot too), nor is a --config file inside the repo.
    const snapshot = new Map(await readLocalRepo(repo));
    snapshot.delete(CONFIG_PATH);
    if (configInRepo !== undefined) snapshot.delete(configInRepo);
    return scopeSnapshot(snapshot, path);
  } catch (error) {
    throw new UsageError(`cannot read --repo ${repo}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function planCommand(args: readonly string[], io: Io): Promise<number> {
  const values = parse(args, { ...COMMON_OPTIONS, json: { type: 'boolean' } });
  if (values.help) {
    io.stdout(USAGE.plan());
    return EXIT_OK;
  }
  const { repo, path, configInRepo, options } = await planOptions(values);
  const plan = planUpgrade(await load(repo, path, configInRepo), options);
  io.stdout(
    values.json
      ? `${JSON.stringify(toPlanJson(plan))}\n`
      : formatPlan(plan, words(), styleFor(io.colour ?? false), { rollback: values.rollback ?? false }),
  );
  return EXIT_OK;
}

async function renderCommand(args: readonly string[], io: Io): Promise<number> {
  const values = parse(args, { ...COMMON_OPTIONS, through: { type: 'string' }, write: { type: 'boolean' } });
  if (values.help) {
    io.stdout(USAGE.render());
    return EXIT_OK;
  }
  if (typeof values.through !== 'string') throw new UsageError('--through PHASE_ID is required');
  const { repo, path, configInRepo, options } = await planOptions(values);
  const snapshot = await load(repo, path, configInRepo);
  const plan = planUpgrade(snapshot, options);
  const changes = renderThrough(plan, values.through);
  if (values.write) {
    await writeLocalChanges(repo, changes);
    const said =
      changes.length === 0
        ? words().say('render.nothing', { phase: values.through })
        : words().say('render.wrote', { count: changes.length, phase: values.through });
    io.stderr(`mesh-upgrade: ${said}\n`);
  } else {
    io.stdout(formatDiff(snapshot, changes, styleFor(io.colour ?? false)));
  }
  return EXIT_OK;
}

if (isEntryPoint(import.meta.url)) {
  runCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    colour: wantsColour(process.env, process.stdout.isTTY === true),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`mesh-upgrade: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 70;
    },
  );
}
