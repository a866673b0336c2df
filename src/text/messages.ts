import Mustache from 'mustache';

/** Every message of the catalogue (templates/replies.md); a test checks both lists match. */
export const MESSAGE_KEYS = [
  'reply.error',
  'reply.invalid-command',
  'reply.help',
  'reply.permission',
  'cluster.ambiguous',
  'cluster.unknown',
  'reply.already-in-progress-here',
  'reply.plan-refused',
  'hint.plan',
  'hint.setting.path',
  'hint.setting.kubernetesVersion',
  'hint.setting.strategy',
  'reply.nothing-to-change',
  'reason.dry-run',
  'next.dry-run',
  'dry-run.would-open',
  'reply.cluster-locked',
  'lock.another-issue',
  'reply.lock-taken-over',
  'lock.stale-without-issue',
  'lock.stale-issue',
  'reply.lock-given-back',
  'lock.why-github',
  'lock.why-unexpected',
  'reply.status-none',
  'reply.status',
  'reply.continued',
  'reply.continue-still-paused',
  'status.no-phase',
  'reply.continue-none',
  'reply.continue-in-review',
  'reply.abort-none',
  'reply.abort-orphan-locks',
  'note.closed-by-abort',
  'reason.aborted-by',
  'reply.aborted',
  'reply.rollback-none',
  'reply.rollback-under-way',
  'reply.rollback-done',
  'reply.rollback-aborted',
  'reply.rollback-after-cleanup',
  'reply.rollback-refused',
  'reply.rollback-cluster-held',
  'note.closed-by-rollback',
  'reason.rollback-requested',
  'reply.rolling-back',
  'reason.closed-unmerged',
  'note.closed-unmerged',
  'next.reopen',
  'next.review',
  'next.check-and-continue',
  'next.wait-for-argocd',
  'next.fix-cluster',
  'comment.gate-failed',
  'comment.handover',
  'note.manual-result-seen',
  'note.already-in-repo',
  'note.no-longer-needed',
  'note.added',
  'reason.missing-target',
  'note.blocked-no-target',
  'next.install-target',
  'reply.phase-not-opened',
  'note.grace-period',
  'next.grace-period',
  'reason.old-revision-in-use',
  'note.blocked-old-revision',
  'next.move-old-revision-users',
  'note.manual-steps',
  'manual.no-control-plane',
  'manual.no-result',
  'note.manual-waiting',
  'next.manual-commit',
  'reply.manual-not-done',
  'note.manual-confirmed',
  'next.manual-steps',
  'reason.cluster-held',
  'lock.another-upgrade',
] as const;
type MessageKey = (typeof MESSAGE_KEYS)[number];

/** Values a message is rendered with (verbatim: messages are Markdown, not HTML). */
export type MessageParams = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** The message catalogue: words people read, by key, rendered from templates/replies.md. */
export type Messages = Catalogue<MessageKey>;

const HEADING = /^## (\S+)[ \t]*$/gm;

/** The sections of a catalogue file: `## key` headings, each text up to the next one, blank lines around it dropped. */
export function parseCatalogue(text: string): Map<string, string> {
  const headings = [...text.matchAll(HEADING)];
  const sections = new Map<string, string>();
  headings.forEach((heading, i) => {
    const start = heading.index + heading[0].length;
    const end = headings[i + 1]?.index ?? text.length;
    if (sections.has(heading[1]!)) throw new Error(`message ${heading[1]} is in the catalogue twice`);
    sections.set(
      heading[1]!,
      text
        .slice(start, end)
        .replace(/^(?:[ \t]*\n)+/, '')
        .replace(/\n\s*$/, ''),
    );
  });
  return sections;
}

/** A catalogue's messages by key, rendered with Mustache (values verbatim). */
export interface Catalogue<K extends string> {
  say(key: K, params?: MessageParams): string;
}

/**
 * A catalogue file (`## key` sections) for the keys the code names; a key missing from the file
 * fails here, at startup, not in a reply.
 */
export function catalogueFrom<K extends string>(text: string, keys: readonly K[], file: string): Catalogue<K> {
  const sections = parseCatalogue(text);
  const missing = keys.filter((key) => !sections.has(key));
  if (missing.length > 0) throw new Error(`${file} lacks the message(s) ${missing.join(', ')}`);
  return {
    say(key, params = {}) {
      return Mustache.render(sections.get(key)!, params, {}, { escape: (value: string) => String(value) });
    },
  };
}

/** The catalogue as Messages. */
export function messagesFrom(text: string): Messages {
  return catalogueFrom(text, MESSAGE_KEYS, 'templates/replies.md');
}
