import { elideStateBlock } from '../src/core/markers.js';
import { parseStateBlock, type StateKey, type UpgradeState } from '../src/core/state.js';
import type { GitHubSimulator } from './github/simulator.js';

/** What the story reads of the harness: the simulated GitHub and the key of the bot's state blocks. */
export interface StorySource {
  readonly sim: GitHubSimulator;
  readonly stateKey: StateKey;
}

/**
 * The demo's default output (README, "The demo and its transcript"): the story told once. Each
 * thing a person does, each comment the bot posts, each pull request it opens or closes and each
 * gate decision (a phase's status moving, the upgrade's status moving) is one line; the plan
 * comment is printed in full when it first appears and once more at the end; the bot's replies in
 * full (refusals included). `--verbose` prints what the harness prints instead: everything,
 * the plan comment after every step and each PR's body.
 *
 * The story observes the simulated GitHub after each event the harness delivers (`observe`), so
 * the scenarios need not know about it; the lines they print themselves come through `line`.
 */
export class Story {
  private readonly issues = new Set<number>();
  private readonly seenComments = new Set<number>();
  private readonly prStates = new Map<number, string>();
  private readonly phaseStatus = new Map<number, Map<string, string>>();
  private readonly upgradeStatus = new Map<number, string>();
  /** Replies already printed (as a person reads them), so a scenario printing one again adds nothing. */
  private readonly shownReplies = new Set<string>();
  /** The plan comment as printed at the start, per issue. */
  private readonly stickyShown = new Map<number, string>();

  constructor(
    private readonly source: StorySource,
    private readonly out: (text: string) => void,
  ) {}

  private get sim(): GitHubSimulator {
    return this.source.sim;
  }

  /** A person opened an issue. */
  issueOpened(login: string, issue: number, title: string): void {
    this.issues.add(issue);
    this.out(`📝 @${login} opens issue #${issue}: ${title}`);
  }

  /** A person closed a PR (the harness says so; the story does not repeat it). */
  prClosedByPerson(pr: number): void {
    this.prStates.set(pr, 'closed');
  }

  /**
   * A line a scenario or the harness prints. One-line events are printed without the blank line
   * before them; a bot reply the story already printed is left out.
   */
  line(text: string): void {
    const trimmed = text.replace(/^\n+/, '');
    const reply = /^🤖 (?:on #\d+: )?([\s\S]*)$/u.exec(trimmed);
    if (reply && this.shownReplies.has(replyText(reply[1]))) return;
    this.out(trimmed);
  }

  /** The plan comment in full, the first time it is shown for its issue. */
  sticky(issue: number, body: string): void {
    if (this.stickyShown.has(issue)) return;
    this.stickyShown.set(issue, body);
    this.out(`\n📋 Plan comment on #${issue}:\n\n${indent(elideStateBlock(body))}\n`);
  }

  /** The plan comment at the end (when it changed since the start). */
  end(issue: number | null, body: string | null): void {
    if (issue === null || body === null) return;
    if (this.stickyShown.get(issue) === body) {
      this.out(`\n📋 Plan comment on #${issue} at the end: as at the start`);
      return;
    }
    this.out(`\n📋 Plan comment on #${issue} at the end:\n\n${indent(elideStateBlock(body))}`);
  }

  /** What happened on the simulated GitHub since the last look, one line each. */
  observe(): void {
    const prs = this.sim.pullRequests();
    for (const pr of prs) this.issues.add(pr.number);
    const bot = this.sim.botLogin;
    const states: Array<{ issue: number; state: UpgradeState }> = [];
    const replies: string[] = [];
    // The bot's new comments: the plan comment appearing (at once), its replies (in full, last: most
    // answer the event after what it did, such as a redelivered command).
    for (const issue of [...this.issues].sort((a, b) => a - b)) {
      for (const comment of this.sim.comments(issue)) {
        const body = comment.body ?? '';
        const parsed = parseStateBlock(body, this.source.stateKey, issue);
        if (parsed.kind === 'state') states.push({ issue, state: parsed.state });
        if (this.seenComments.has(comment.id)) continue;
        this.seenComments.add(comment.id);
        if (comment.user?.login !== bot) continue;
        if (parsed.kind === 'state') {
          this.out(`📋 @${bot} posts the plan comment on #${issue}`);
          continue;
        }
        const text = replyText(body);
        this.shownReplies.add(text);
        replies.push(`🤖 @${bot} on #${issue}: ${text.split('\n').join('\n   ')}`);
      }
    }
    // Gate decisions: each phase whose status moved (a PR opened is the 📬 line below).
    for (const { issue, state } of states) {
      const known = this.phaseStatus.get(issue) ?? new Map<string, string>();
      this.phaseStatus.set(issue, known);
      for (const phase of state.phases) {
        const before = known.get(phase.id);
        known.set(phase.id, phase.status);
        if (before === phase.status || (before === undefined && phase.status === 'pending')) continue;
        if (phase.status === 'open' && phase.pr !== null) continue;
        this.out(`🚦 ${phase.id}: ${phase.status}${phase.note ? ` — ${phase.note}` : ''}`);
      }
    }
    // Pull requests the bot opened, or closed without a person doing it.
    for (const pr of prs) {
      const state = pr.merged_at ? 'merged' : pr.state;
      const before = this.prStates.get(pr.number);
      this.prStates.set(pr.number, state);
      if (before === undefined) {
        const files = this.filesOf(pr.number);
        this.out(`📬 @${pr.user?.login ?? bot} opens #${pr.number}: ${pr.title} (${files} file${files === 1 ? '' : 's'})`);
      } else if (before !== state && state === 'closed') this.out(`✖️ #${pr.number} closed by @${bot}`);
    }
    // The upgrade's own status (paused, completed, rolled back…).
    for (const { issue, state } of states) {
      const before = this.upgradeStatus.get(issue);
      this.upgradeStatus.set(issue, state.status);
      if (before === undefined || before === state.status) continue;
      this.out(`🏁 the upgrade on #${issue} is ${state.status}${state.reason ? `: ${state.reason}` : ''}`);
    }
    for (const reply of replies) this.out(reply);
  }

  private filesOf(prNumber: number): number {
    const pr = this.sim.pullRequests().find((p) => p.number === prNumber)!;
    const base = this.sim.filesAt(pr.base.sha);
    const head = this.sim.filesAt(pr.head.sha);
    return [...new Set([...base.keys(), ...head.keys()])].filter((p) => base.get(p) !== head.get(p)).length;
  }
}

/** A bot comment as a person reads it (hidden markers left out). */
function replyText(body: string | null | undefined): string {
  return (body ?? '').replace(/<!--[\s\S]*?-->/g, '').trim();
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => (l ? `   ${l}` : ''))
    .join('\n');
}
