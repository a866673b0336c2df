import { fromMarkdown } from 'mdast-util-from-markdown';
import { z } from 'zod';
import { DNS_LABEL, inlineCode } from './user-text.js';

/** Subcommands of `/upgrade`, each with the one-line help shown to users. */
const SUBCOMMANDS = {
  status: 'show where the upgrade is',
  continue: 'pass a manual gate, or resume after a pause',
  abort: 'stop the upgrade (merged phases stay; open phase PRs are closed)',
  rollback: 'undo the merged phases as reviewed PRs (before cleanup is merged)',
  help: 'show this help',
} as const;

const START_FLAGS = {
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

/** Longest comment read for a command: longer ones are not commands (and cost nothing to parse). */
const MAX_COMMAND_COMMENT = 10_000;
/** Most canary namespaces one command may name. */
export const MAX_CANARY = 50;

/**
 * Reads an `/upgrade` command from a comment. Only a paragraph that is the comment's first block
 * counts, and only its first line: code (fenced or indented), quotes and HTML comments before it or
 * around it never run anything, as a Markdown parser sees them (the way GitHub renders the comment).
 * Replies never repeat what was typed beyond tokens checked to be plain names.
 */
export function parseCommand(body: string): CommandParse {
  if (body.length > MAX_COMMAND_COMMENT || !body.includes('/upgrade')) return { kind: 'none' };
  const line = commandLine(body);
  if (line === null || !/^\/upgrade(\s|$)/.test(line)) return { kind: 'none' };
  const [, ...tokens] = line.split(/\s+/).filter(Boolean);
  const [head, ...rest] = tokens;
  if (head === undefined) return { kind: 'invalid', message: `\`/upgrade\` needs a target revision or a subcommand.` };

  if (head in SUBCOMMANDS) {
    if (rest.length > 0) return { kind: 'invalid', message: `\`/upgrade ${head}\` takes no arguments.` };
    return { kind: 'command', command: { kind: head as keyof typeof SUBCOMMANDS } };
  }
  if (head.startsWith('-'))
    return { kind: 'invalid', message: `${flagName(head)} comes after the target revision: \`/upgrade <revision> --flag …\`.` };
  const near = Object.keys(SUBCOMMANDS).find((s) => editDistance(s, head) <= 2 && head.length >= 3 && !/\d/.test(head));
  if (near) return { kind: 'invalid', message: `unknown subcommand ${inlineCode(head, 20)}; did you mean \`${near}\`?` };
  if (!DNS_LABEL.test(head))
    return {
      kind: 'invalid',
      message: 'the target revision must be a lowercase DNS-1123 label of at most 63 characters (e.g. `asm-1140-0`, `1-22-1`).',
    };

  const options: { version?: string; cluster?: string; canary?: string[]; downgrade: boolean; dryRun: boolean } = {
    downgrade: false,
    dryRun: false,
  };
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!;
    const [flag, inline] = token.includes('=')
      ? [token.slice(0, token.indexOf('=')), token.slice(token.indexOf('=') + 1)]
      : [token, undefined];
    if (BOOLEAN_FLAGS.has(flag)) {
      if (inline !== undefined) return { kind: 'invalid', message: `\`${flag}\` takes no value.` };
      if (flag === '--downgrade') options.downgrade = true;
      else options.dryRun = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) return { kind: 'invalid', message: `unknown flag ${flagName(flag)}.` };
    const value = inline ?? rest[++i];
    if (value === undefined || value === '' || value.startsWith('--')) return { kind: 'invalid', message: `\`${flag}\` needs a value.` };
    if (flag === '--version') {
      if (!/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]{1,30})?$/.test(value))
        return { kind: 'invalid', message: '`--version` takes a release such as `1.22.1` or `1.14.0-asm.0`.' };
      options.version = value;
    } else if (flag === '--cluster') {
      if (!DNS_LABEL.test(value))
        return { kind: 'invalid', message: '`--cluster` takes a cluster name from `.github/mesh-upgrade.yml` (a DNS-1123 label).' };
      options.cluster = value;
    } else {
      const names = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (names.length > MAX_CANARY) return { kind: 'invalid', message: `\`--canary\` takes at most ${MAX_CANARY} namespaces.` };
      if (!names.every((n) => DNS_LABEL.test(n)))
        return { kind: 'invalid', message: '`--canary` takes namespace names (DNS-1123 labels) separated by commas.' };
      options.canary = names;
    }
  }
  return { kind: 'command', command: { kind: 'start', revision: head, ...options } };
}

/**
 * The first line of the comment's first paragraph, as GitHub's Markdown sees it; HTML comments
 * before it are skipped, any other block first (code, quote, list, heading, other HTML such as a
 * collapsed `<details>`) means the comment is not a command.
 */
function commandLine(body: string): string | null {
  const tree = fromMarkdown(body);
  for (const node of tree.children) {
    if (node.type === 'html' && /^\s*<!--[\s\S]*-->\s*$/.test(node.value)) continue;
    if (node.type !== 'paragraph') return null;
    const start = node.position?.start.offset ?? 0;
    const end = node.position?.end.offset ?? body.length;
    return body.slice(start, end).split(/\r?\n/)[0]!.trim();
  }
  return null;
}

/** A flag as typed, if it looks like one; otherwise a description that repeats nothing. */
function flagName(token: string): string {
  const flag = token.split('=')[0]!;
  return /^--?[a-z][a-z-]{0,30}$/.test(flag) ? `\`${flag}\`` : 'that flag';
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
