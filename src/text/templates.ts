import { readFileSync } from 'node:fs';
import { type CliWords, cliWordsFrom } from './cli-words.js';
import { type Messages, messagesFrom } from './messages.js';

/** The Markdown templates of everything people read (in `templates/`). */
export interface Templates {
  readonly planComment: string;
  readonly pullRequest: string;
  readonly pullRequestTitle: string;
  readonly reply: string;
  /** The workflow's replies, reasons, next steps and notes (templates/replies.md). */
  readonly messages: Messages;
}

/** A template, relative to this module (works from src/ under vitest and from dist/). */
function read(name: string): string {
  for (const base of ['../../templates/', '../../../templates/']) {
    try {
      return readFileSync(new URL(`${base}${name}`, import.meta.url), 'utf8');
    } catch {
      // try the next layout
    }
  }
  throw new Error(`template ${name} not found next to the application`);
}

/** Reads the templates once. */
export function loadTemplates(): Templates {
  return {
    planComment: read('plan-comment.md'),
    pullRequest: read('pull-request.md'),
    pullRequestTitle: read('pull-request-title.md'),
    reply: read('reply.md'),
    messages: messagesFrom(read('replies.md')),
  };
}

/** The words of the `mesh-upgrade` CLI (templates/cli.md). */
export function loadCliWords(): CliWords {
  return cliWordsFrom(read('cli.md'));
}
