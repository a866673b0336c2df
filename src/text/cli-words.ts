import { HINT_KEYS } from './hints.js';
import { type Catalogue, catalogueFrom } from './messages.js';

/** Every message of the CLI's catalogue (templates/cli.md); a test checks both lists match. */
export const CLI_KEYS = [
  'usage.main',
  'usage.plan',
  'usage.render',
  'plan.heading',
  'plan.nothing',
  'plan.from-nothing',
  'plan.from-unnamed',
  'plan.phase-estimate',
  'plan.manual',
  'plan.restart-estimate',
  'plan.warnings',
  'plan.urgent-warnings',
  'plan.other-warnings',
  'plan.summary',
  'render.wrote',
  'render.nothing',
  'refused',
  ...HINT_KEYS,
] as const;
type CliKey = (typeof CLI_KEYS)[number];

/** The words of the `mesh-upgrade` CLI, rendered from templates/cli.md (plain text, not Markdown). */
export type CliWords = Catalogue<CliKey>;

export function cliWordsFrom(text: string): CliWords {
  return catalogueFrom(text, CLI_KEYS, 'templates/cli.md');
}
