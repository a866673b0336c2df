import { z } from 'zod';

/** Subcommands of `/upgrade`, each with the one-line help shown to users. */
export const SUBCOMMANDS = {
  status: 'show where the upgrade is',
  continue: 'pass a manual gate, or resume after a pause',
  abort: 'stop the upgrade (merged phases stay; open phase PRs are closed)',
  rollback: 'undo the merged phases as reviewed PRs (before cleanup is merged)',
  help: 'show this help',
} as const;

export const START_FLAGS = {
  '--version': 'X.Y.Z[-asm.N]: release of the target when its name does not say',
  '--cluster': 'NAME: which cluster of .github/mesh-upgrade.yml (default: the only one)',
  '--canary': 'NS1,NS2: namespaces moved first, in a wave of their own',
  '--downgrade': 'allow a target older than the running release',
  '--dry-run': 'post the plan and the would-be PR bodies without creating branches',
} as const;

export const Command = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('start'),
    revision: z.string(),
    version: z.string().optional(),
    cluster: z.string().optional(),
    canary: z.array(z.string()).optional(),
    downgrade: z.boolean(),
    dryRun: z.boolean(),
  }),
  z.object({ kind: z.enum(['status', 'continue', 'abort', 'rollback', 'help']) }),
]);
export type Command = z.infer<typeof Command>;

export type CommandParse =
  | { readonly kind: 'none' }
  | { readonly kind: 'command'; readonly command: Command }
  | { readonly kind: 'invalid'; readonly message: string };

const VALUE_FLAGS = new Set(['--version', '--cluster', '--canary']);
const BOOLEAN_FLAGS = new Set(['--downgrade', '--dry-run']);

/**
 * Reads an `/upgrade` command from a comment. Only the first non-blank line counts, after fenced
 * code, `>` quotes and HTML comments are removed, so quoting or documenting a command never runs it.
 */
export function parseCommand(body: string): CommandParse {
  const line = firstMeaningfulLine(body);
  if (line === null || !/^\/upgrade(\s|$)/.test(line)) return { kind: 'none' };
  const [, ...tokens] = line.split(/\s+/).filter(Boolean);
  const [head, ...rest] = tokens;
  if (head === undefined) return { kind: 'invalid', message: `\`/upgrade\` needs a target revision or a subcommand.` };

  if (head in SUBCOMMANDS) {
    if (rest.length > 0) return { kind: 'invalid', message: `\`/upgrade ${head}\` takes no arguments (got \`${rest.join(' ')}\`).` };
    return { kind: 'command', command: { kind: head as keyof typeof SUBCOMMANDS } };
  }
  if (head.startsWith('-')) return { kind: 'invalid', message: `\`${head}\` comes after the target revision: \`/upgrade <revision> ${head} …\`.` };
  const near = Object.keys(SUBCOMMANDS).find((s) => editDistance(s, head) <= 2 && head.length >= 3 && !/\d/.test(head));
  if (near) return { kind: 'invalid', message: `unknown subcommand \`${head}\`; did you mean \`${near}\`?` };

  const options: { version?: string; cluster?: string; canary?: string[]; downgrade: boolean; dryRun: boolean } = { downgrade: false, dryRun: false };
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    const [flag, inline] = token.includes('=') ? [token.slice(0, token.indexOf('=')), token.slice(token.indexOf('=') + 1)] : [token, undefined];
    if (BOOLEAN_FLAGS.has(flag)) {
      if (inline !== undefined) return { kind: 'invalid', message: `\`${flag}\` takes no value.` };
      if (flag === '--downgrade') options.downgrade = true;
      else options.dryRun = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) return { kind: 'invalid', message: `unknown flag \`${flag}\`.` };
    const value = inline ?? rest[++i];
    if (value === undefined || value === '' || value.startsWith('--')) return { kind: 'invalid', message: `\`${flag}\` needs a value.` };
    if (flag === '--version') options.version = value;
    else if (flag === '--cluster') options.cluster = value;
    else options.canary = value.split(',').map((s) => s.trim()).filter(Boolean);
  }
  return { kind: 'command', command: { kind: 'start', revision: head, ...options } };
}

function firstMeaningfulLine(body: string): string | null {
  const withoutComments = body.replace(/<!--[\s\S]*?(-->|$)/g, '');
  const lines: string[] = [];
  let fence: string | null = null;
  for (const raw of withoutComments.split(/\r?\n/)) {
    const trimmed = raw.trim();
    const marker = /^(```+|~~~+)/.exec(trimmed)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      continue;
    }
    if (marker) {
      fence = marker;
      continue;
    }
    if (trimmed.startsWith('>')) continue;
    lines.push(trimmed);
  }
  return lines.find((l) => l !== '') ?? null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The help text: every subcommand and flag. */
export function commandHelp(): string {
  const lines = [
    '`/upgrade <revision> [flags]` starts a canary upgrade to `<revision>` (e.g. `asm-1140-0`, `1-22-1`).',
    '',
    ...Object.entries(START_FLAGS).map(([flag, text]) => `- \`${flag}\` ${text}`),
    '',
    ...Object.entries(SUBCOMMANDS).map(([name, text]) => `- \`/upgrade ${name}\`: ${text}`),
  ];
  return lines.join('\n');
}
