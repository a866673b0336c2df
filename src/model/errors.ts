/**
 * A suggestion inside a message that each reader acts on in their own way: the bot's reader
 * comments `/upgrade …` and edits .github/mesh-upgrade.yml, the CLI's reader passes flags. The
 * message carries what to do; the bot (src/text) and the CLI each say it in their words.
 */
export type Hint =
  /** Plan (or start) an upgrade to `revision`: `/upgrade …` in the bot, `mesh-upgrade plan --to …` in the CLI. */
  | { readonly kind: 'plan'; readonly revision: string; readonly version?: string; readonly downgrade?: boolean }
  /** A setting of the cluster being planned: a key of the repo config in the bot, a flag in the CLI. */
  | { readonly kind: 'setting'; readonly name: 'path' | 'kubernetesVersion' | 'strategy'; readonly value?: string };

/** Text for a person: words, and hints said the reader's way. */
export type UserText = ReadonlyArray<string | Hint>;

/** Text with hints, written as a template literal: said`Check ${setting('path')}.` */
export function said(
  strings: TemplateStringsArray,
  ...values: ReadonlyArray<string | number | boolean | null | undefined | Hint>
): UserText {
  const parts: Array<string | Hint> = [];
  const push = (part: string | Hint) => {
    const last = parts[parts.length - 1];
    if (typeof part === 'string' && typeof last === 'string') parts[parts.length - 1] = last + part;
    else if (part !== '') parts.push(part);
  };
  strings.forEach((text, i) => {
    push(text);
    if (i < values.length) {
      const value = values[i];
      // Anything but a hint reads as in a template literal.
      push(typeof value === 'object' && value !== null ? value : String(value));
    }
  });
  return parts;
}

export function planHint(revision: string, options: { version?: string; downgrade?: boolean } = {}): Hint {
  return { kind: 'plan', revision, ...options };
}

export function settingHint(name: Extract<Hint, { kind: 'setting' }>['name'], value?: string): Hint {
  return { kind: 'setting', name, ...(value !== undefined ? { value } : {}) };
}

/** The text with its hints in neutral words, for logs and for readers with no words of their own. */
export function plainUserText(text: UserText): string {
  return text
    .map((part) => {
      if (typeof part === 'string') return part;
      if (part.kind === 'plan') return `${part.revision}${part.version ? ` ${part.version}` : ''}${part.downgrade ? ' (downgrade)' : ''}`;
      return part.value === undefined ? part.name : `${part.name}: ${part.value}`;
    })
    .join('');
}

/**
 * Typed, user-fixable errors. Each message says what is wrong and what to do about it;
 * the CLI prints it and exits 1, the app renders it into the issue comment. `text` keeps the
 * message's hints (`message` says them plainly), so each of them can say them its own way.
 */
export class MeshUpgradeError extends Error {
  readonly text: UserText;

  constructor(message: string | UserText) {
    const text = typeof message === 'string' ? [message] : message;
    super(plainUserText(text));
    this.name = new.target.name;
    this.text = text;
  }
}

/** A YAML file that cannot be parsed. Nothing is written when one exists. */
export class MalformedYamlError extends MeshUpgradeError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: malformed YAML: ${reason}. Fix the file (or move it out of the cluster path) and plan again.`);
  }
}

/** A revision name or version that cannot be understood. */
export class RevisionError extends MeshUpgradeError {}

/** The upgrade policy refuses this path (too many minors, downgrade without consent, …). */
export class UpgradeRefusedError extends MeshUpgradeError {
  constructor(
    message: string | UserText,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The repo holds no Istio/ASM mesh the planner can work with. */
export class MeshNotFoundError extends MeshUpgradeError {}

/** A phase id that the plan does not contain. */
export class UnknownPhaseError extends MeshUpgradeError {
  constructor(
    readonly phaseId: string,
    readonly validIds: readonly string[],
  ) {
    super(`unknown phase '${phaseId}'; this plan's phases are: ${validIds.join(', ')}`);
  }
}
