import type { Hint, UserText } from '../model/errors.js';
import type { Catalogue } from './messages.js';

/** The messages every reader's catalogue has for hints (templates/replies.md, templates/cli.md). */
export const HINT_KEYS = ['hint.plan', 'hint.setting.path', 'hint.setting.kubernetesVersion', 'hint.setting.strategy'] as const;
type HintKey = (typeof HINT_KEYS)[number];

/**
 * A message said in one reader's words: its text as written, each hint as that reader's catalogue
 * says it (the bot: `/upgrade …` and .github/mesh-upgrade.yml; the CLI: `mesh-upgrade plan …` and flags).
 */
export function sayText(text: UserText, words: Catalogue<HintKey>): string {
  return text.map((part) => (typeof part === 'string' ? part : sayHint(part, words))).join('');
}

function sayHint(hint: Hint, words: Catalogue<HintKey>): string {
  if (hint.kind === 'plan')
    return words.say('hint.plan', { revision: hint.revision, version: hint.version ?? null, downgrade: hint.downgrade ?? false });
  return words.say(`hint.setting.${hint.name}`, { value: hint.value ?? null });
}
