import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { ArgoCdClient } from '../src/adapters/argocd/client.js';
import { readLocalRepo } from '../src/adapters/fs/local-repo.js';
import { createApp, reconcileInstallations } from '../src/app.js';
import { elideStateBlock, parsePhaseBranch } from '../src/core/markers.js';
import { deriveStateKey, parseStateBlock, type StateKey, stateKeyForRepo, type UpgradeState } from '../src/core/state.js';
import type { RepoSnapshot } from '../src/model/snapshot.js';
import { loadTemplates } from '../src/text/templates.js';
import { createWorkflowServices } from '../src/workflow/services.js';
import type { GateScheduler } from '../src/workflow/upgrade-workflow.js';
import { ArgoCdSimulator } from './argocd/simulator.js';
import { type ArgoScenario, VirtualClock } from './argocd/state.js';
import { GitHubSimulator } from './github/simulator.js';
import { projectRoot } from './paths.js';
import { Story } from './story.js';

export const WEBHOOK_SECRET = 'demo-webhook-secret-5f2c';
const APP_ID = 271828;
const INSTALLATION_ID = 314159;

/** What `--transcript FILE` writes (the contract is in README). */
export interface Transcript {
  scenario: string;
  pullRequests: Array<{
    number: number;
    title: string;
    branch: string;
    phase: string;
    state: 'open' | 'merged' | 'closed';
    files: string[];
    body: string;
  }>;
  comments: Array<{ issue: number; author: string; body: string }>;
  githubRequests: Array<{ method: string; path: string; status: number }>;
  /** `reason` only with `--repo`: why the upgrade did not complete (null when it did). */
  final: { status: 'completed' | 'paused' | 'refused' | 'aborted' | 'rolled-back'; phase: string | null; reason?: string | null };
}

export interface HarnessOptions {
  readonly repoDir?: string;
  /** The initial files of the default branch (instead of reading `repoDir`). */
  readonly files?: RepoSnapshot;
  /** The simulated repository's name (owner `example-org`). @default 'cluster-config' */
  readonly repo?: string;
  /** Print what a user would see. */
  readonly print?: (text: string) => void;
  /**
   * Print everything (the plan comment after every step, each PR's body) rather than the story told
   * once (story.ts: one line per event, the plan comment at the start and the end). @default true
   */
  readonly verbose?: boolean;
  /** Gate on a simulated Argo CD (the repo config switches to `gate: argocd`). */
  readonly argocd?: ArgoScenario;
  /**
   * Give the app an Argo CD token (ARGOCD_SERVER + ARGOCD_AUTH_TOKEN). Without one the gate reads
   * Argo CD Notifications' commit statuses (token-free mode). @default true
   */
  readonly argocdToken?: boolean;
  /** Check every simulated response against the OpenAPI description too (a self-check of the simulator). @default true */
  readonly validateResponses?: boolean;
  /** The app's gate timers (e.g. the real TimerScheduler); by default virtual ones, run by `jump`/`advance`. */
  readonly scheduler?: GateScheduler;
}

/** Timers in virtual time: `runDue` runs those whose time has come. */
export class VirtualScheduler implements GateScheduler {
  private readonly timers = new Map<string, { at: number; run: () => Promise<void> }>();
  constructor(private readonly clock: VirtualClock) {}
  schedule(key: string, delayMs: number, run: () => Promise<void>): void {
    this.timers.set(key, { at: this.clock.now().getTime() + delayMs, run });
  }
  /** When the earliest timer is due (virtual ms since the epoch), or null when none is set. */
  nextAt(): number | null {
    const times = [...this.timers.values()].map((t) => t.at);
    return times.length > 0 ? Math.min(...times) : null;
  }
  /** Forgets every timer (a process that died). */
  clear(): void {
    this.timers.clear();
  }
  async runDue(): Promise<void> {
    const now = this.clock.now().getTime();
    for (const [key, timer] of [...this.timers]) {
      if (timer.at > now) continue;
      this.timers.delete(key);
      await timer.run();
    }
  }
}

/**
 * The real app (Probot, handlers, workflow, GitHub adapter) against the GitHub simulator, with
 * helpers for what people do: comment, merge, close. A new app instance can replace the old one at
 * any time (a restart): nothing carries over but GitHub's state.
 */
export class DemoHarness {
  readonly sim: GitHubSimulator;
  /** The key the app authenticates its state blocks with (as derived from the App's secret in production). */
  readonly appStateKey: StateKey = deriveStateKey('demo-state-secret');
  /** The key of this repository's state blocks (as the app derives it from `appStateKey`). */
  get stateKey(): StateKey {
    return stateKeyForRepo(this.appStateKey, `${this.sim.owner}/${this.sim.repo}`);
  }
  readonly logs: string[] = [];
  private probot: Probot | null = null;
  private readonly privateKey: string;
  readonly print: (text: string) => void;
  /** The story: each event on its own line (with `verbose`, the plan comment after every step and each PR's body too). */
  readonly story: Story;
  private readonly verbose: boolean;

  readonly clock: VirtualClock;
  readonly scheduler: VirtualScheduler;
  /** What the app schedules its gate checks with (`scheduler` unless HarnessOptions.scheduler says otherwise). */
  private readonly appScheduler: GateScheduler;
  /** The app's per-issue mutex and plan cache: one set for the harness, like one bot process, across restarts and the reconcile. */
  private readonly services = createWorkflowServices();
  argo: ArgoCdSimulator | null = null;
  /** Whether the app gets an Argo CD client (HarnessOptions.argocdToken). */
  private readonly argocdToken: boolean;

  private constructor(sim: GitHubSimulator, clock: VirtualClock, options: HarnessOptions) {
    this.sim = sim;
    this.clock = clock;
    this.scheduler = new VirtualScheduler(clock);
    this.appScheduler = options.scheduler ?? this.scheduler;
    const print = options.print ?? (() => undefined);
    this.story = new Story(this, print);
    this.verbose = options.verbose !== false;
    this.print = (text) => this.story.line(text);
    this.argocdToken = options.argocdToken ?? true;
    this.privateKey = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
  }

  static async create(options: HarnessOptions = {}): Promise<DemoHarness> {
    const files = options.files ?? (await readLocalRepo(options.repoDir ?? join(projectRoot(), 'examples', 'cluster-config')));
    const clock = new VirtualClock();
    const sim = new GitHubSimulator({
      owner: 'example-org',
      repo: options.repo ?? 'cluster-config',
      files,
      collaborators: { alice: 'admin', carol: 'write', bob: 'read' },
      webhookSecret: WEBHOOK_SECRET,
      appId: APP_ID,
      installationId: INSTALLATION_ID,
      now: clock.now,
      validateResponses: options.validateResponses ?? true,
    });
    const h = new DemoHarness(sim, clock, options);
    if (options.argocd) {
      const config = files.get('.github/mesh-upgrade.yml') ?? '';
      sim.pushCommit(
        'main',
        {
          '.github/mesh-upgrade.yml': config.replace(
            /^gate: manual.*$/m,
            'gate: argocd            # advance when Argo CD reports the merge commit Synced and Healthy',
          ),
        },
        'Gate mesh upgrades on Argo CD',
        'alice',
      );
      h.argo = new ArgoCdSimulator(sim, clock, [{ name: 'prod-mesh', path: 'clusters/prod' }], options.argocd, (payload) =>
        h.deliver('status', payload),
      );
    }
    return h;
  }

  /** Jumps ahead in virtual time at once (hours of waiting), then runs what became due. */
  async jump(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.argo?.tick();
    await this.scheduler.runDue();
    this.story.observe();
  }

  /** Lets virtual time pass in one-second steps: Argo CD moves on, due gate checks run; then the story tells what happened (unless `observe` is false: the caller tells it). */
  async advance(ms: number, { observe = true }: { observe?: boolean } = {}): Promise<void> {
    for (let t = 0; t < ms; t += 1000) {
      this.clock.advance(1000);
      await this.argo?.tick();
      await this.scheduler.runDue();
    }
    if (observe) this.story.observe();
  }

  /** The running app instance (started on first use). */
  async app(): Promise<Probot> {
    if (!this.probot) {
      // Log times are virtual (the clock the simulators and the app share).
      const log = pino(
        { level: 'info', timestamp: () => `,"time":${this.clock.now().getTime()}` },
        { write: (line: string) => void this.logs.push(line) },
      );
      // Throttling spaces writes a second apart to respect GitHub's secondary limits; the simulator has none.
      // Retries keep Probot's policy (3 tries) but wait milliseconds instead of seconds.
      const Octokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
        ...options,
        throttle: { ...(options.throttle as object), enabled: false },
        retry: { retryAfterBaseValue: 5 },
      }));
      const probot = new Probot({
        appId: APP_ID,
        privateKey: this.privateKey,
        secret: WEBHOOK_SECRET,
        log,
        Octokit,
        request: { fetch: this.sim.fetch },
      });
      const argocd =
        this.argo && this.argocdToken
          ? new ArgoCdClient({ server: this.argo.server, token: 'argocd-sim-token', fetch: this.argo.fetch })
          : null;
      await probot.load(
        createApp({
          templates: loadTemplates(),
          botLogin: this.sim.botLogin,
          stateKey: this.appStateKey,
          argocd,
          now: this.clock.now,
          scheduler: this.appScheduler,
          services: this.services,
        }),
      );
      await probot.ready();
      this.probot = probot;
    }
    return this.probot;
  }

  /** Throws the app instance away: the next event is handled by a fresh one. */
  restart(): void {
    this.probot = null;
  }

  /** What a freshly started app does first: re-check every running upgrade of every installation. */
  async reconcileOnStartup(): Promise<number> {
    const app = await this.app();
    const argocd =
      this.argo && this.argocdToken
        ? new ArgoCdClient({ server: this.argo.server, token: 'argocd-sim-token', fetch: this.argo.fetch })
        : null;
    return reconcileInstallations(app, {
      templates: loadTemplates(),
      botLogin: this.sim.botLogin,
      stateKey: this.appStateKey,
      argocd,
      now: this.clock.now,
      scheduler: this.appScheduler,
      services: this.services,
    });
  }

  openIssue(login: string, title: string): number {
    const issue = this.sim.openIssue(login, title, 'Tracking the service mesh upgrade of this cluster.').issue.number;
    this.story.issueOpened(login, issue, title);
    return issue;
  }

  /** A person comments; the app receives the webhook (`times` > 1 redelivers it with the same id). */
  async comment(login: string, issue: number, body: string, times = 1): Promise<void> {
    this.print(`\n💬 @${login} on #${issue}: ${body}`);
    const { payload } = this.sim.commentAs(login, issue, body);
    await this.deliver('issue_comment', payload, times);
  }

  /** `login` ticks the box of `action` in the sticky comment of `issue` (an edit of that comment). */
  async tick(login: string, issue: number, action: 'continue' | 'abort', times = 1): Promise<void> {
    this.print(`\n☑️ @${login} ticks "${action}" in the plan comment of #${issue}`);
    const sticky = this.sim.comments(issue).find((c) => parseStateBlock(c.body ?? '', this.stateKey, issue).kind === 'state');
    if (!sticky) throw new Error(`no plan comment on #${issue}`);
    const marker = `<!-- mesh-upgrade-action:${action} -->`;
    const payload = this.sim.editCommentAs(login, sticky.id, (body) => {
      const line = body.split('\n').find((l) => l.includes(marker) && l.includes('[ ]'));
      if (!line) throw new Error(`no unticked "${action}" box in the plan comment of #${issue}`);
      return body.replace(line, line.replace('[ ]', '[x]'));
    });
    await this.deliver('issue_comment', payload, times);
  }

  async merge(pr: number, login = 'alice', times = 1): Promise<void> {
    this.print(`\n🔀 @${login} merges #${pr}`);
    await this.deliver('pull_request', this.sim.mergePullRequest(pr, login), times);
  }

  async close(pr: number, login = 'alice'): Promise<void> {
    this.print(`\n✖️ @${login} closes #${pr} without merging`);
    this.story.prClosedByPerson(pr);
    await this.deliver('pull_request', this.sim.closePullRequest(pr, login));
  }

  async deliver(name: string, payload: unknown, times = 1): Promise<void> {
    const id = crypto.randomUUID();
    for (let i = 0; i < times; i++) await this.sim.deliver((await this.app()).webhooks, name, payload, { id });
    this.story.observe();
  }

  /** The upgrade state in the bot's sticky comment on an issue. */
  state(issue: number): UpgradeState | null {
    for (const comment of this.sim.comments(issue)) {
      const parsed = parseStateBlock(comment.body ?? '', this.stateKey, issue);
      if (parsed.kind === 'state') return parsed.state;
    }
    return null;
  }

  /** The bot's comments on an issue other than its sticky plan comment: its replies. */
  /** The bot's comments on an issue besides the sticky one and the hand-overs (answers to commands, notes). */
  botReplies(issue: number): string[] {
    // A failed gate's comment says what failed: it counts as a note, and as a hand-over.
    return this.botComments(issue).filter((body) => !isHandover(body) || body.includes(`${HANDOVER}gate-failed:`) || body.includes(REPLY));
  }

  /** The bot's comments that tell a person it is their turn (a failed gate's comment among them). */
  handovers(issue: number): string[] {
    return this.botComments(issue).filter(isHandover);
  }

  private botComments(issue: number): string[] {
    return this.sim
      .comments(issue)
      .filter((c) => c.user?.login === this.sim.botLogin && parseStateBlock(c.body ?? '', this.stateKey).kind === 'none')
      .map((c) => c.body ?? '');
  }

  stickyComment(issue: number): string | null {
    return this.sim.comments(issue).find((c) => parseStateBlock(c.body ?? '', this.stateKey, issue).kind === 'state')?.body ?? null;
  }

  /** Files a PR changes (head against the base it was opened on). */
  filesOf(prNumber: number): string[] {
    const pr = this.sim.pullRequests().find((p) => p.number === prNumber)!;
    const base = this.sim.filesAt(pr.base.sha);
    const head = this.sim.filesAt(pr.head.sha);
    const paths = new Set([...base.keys(), ...head.keys()]);
    return [...paths].filter((p) => base.get(p) !== head.get(p)).sort();
  }

  printPullRequest(prNumber: number): void {
    if (!this.verbose) return; // its 📬 line was printed when it opened
    const pr = this.sim.pullRequests().find((p) => p.number === prNumber)!;
    this.print(
      `\n📬 Pull request #${pr.number}: ${pr.title}\n   branch ${pr.head.ref}\n   files: ${this.filesOf(pr.number).join(', ')}\n\n${indent(pr.body ?? '')}`,
    );
  }

  printSticky(issue: number): void {
    const body = this.stickyComment(issue);
    if (body && !this.verbose) this.story.sticky(issue, body);
    else if (body) this.print(`\n📋 Plan comment on #${issue}:\n\n${indent(elideStateBlock(body))}`);
  }

  transcript(scenario: string, trackingIssue: number | null): Transcript {
    const state = trackingIssue === null ? null : this.state(trackingIssue);
    const current = state?.phases.find((p) => p.status !== 'passed' && p.status !== 'done') ?? null;
    const issues = new Set<number>();
    for (const pr of this.sim.pullRequests()) issues.add(pr.number);
    const comments: Transcript['comments'] = [];
    for (let n = 1; n <= Math.max(0, ...this.sim.pullRequests().map((p) => p.number), trackingIssue ?? 0, 10); n++) {
      try {
        for (const c of this.sim.comments(n)) comments.push({ issue: n, author: c.user?.login ?? '', body: c.body ?? '' });
      } catch {
        // no such issue
      }
    }
    return {
      scenario,
      pullRequests: this.sim.pullRequests().map((pr) => ({
        number: pr.number,
        title: pr.title,
        branch: pr.head.ref,
        phase: parsePhaseBranch(pr.head.ref)?.phase ?? '',
        state: pr.merged_at ? 'merged' : pr.state === 'open' ? 'open' : 'closed',
        files: this.filesOf(pr.number),
        body: pr.body ?? '',
      })),
      comments,
      githubRequests: this.sim.requests.map((r) => ({ method: r.method, path: r.path, status: r.status })),
      final: { status: state ? (state.status === 'running' ? 'paused' : state.status) : 'refused', phase: current?.id ?? null },
    };
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}

const HANDOVER = '<!-- mesh-upgrade-handover:';
const REPLY = '<!-- mesh-upgrade-reply:';

function isHandover(body: string): boolean {
  return body.includes(HANDOVER);
}
