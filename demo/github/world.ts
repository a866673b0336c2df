import { SimClock } from './clock.js';
import type { Ruleset } from './domain/rulesets.js';
import { GitStore } from './git-store.js';
import { API_ORIGIN, WEB_ORIGIN } from './http.js';
import { RepoRecords } from './records.js';
import { type Permission, stableId, UserDirectory } from './users.js';

export interface WorldOptions {
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch: string;
  readonly files: ReadonlyMap<string, string>;
  readonly collaborators: Readonly<Record<string, Permission>>;
  readonly appId: number;
  readonly installationId: number;
  readonly botLogin: string;
  readonly now?: () => Date;
}

/**
 * Everything the simulated GitHub knows about its single repository: git data, issues and pull
 * requests, users, issued tokens and time. Routes and the human-side helpers both work on it.
 */
export class World {
  readonly owner: string;
  readonly repo: string;
  readonly fullName: string;
  readonly repoId: number;
  readonly defaultBranch: string;
  readonly appId: number;
  readonly appSlug: string;
  readonly installationId: number;
  readonly clock: SimClock;
  readonly users: UserDirectory;
  readonly git = new GitStore();
  readonly records = new RepoRecords();
  /** Access token → the login it acts as. */
  readonly tokens = new Map<string, string>();
  /** Commits GitHub would show as "Verified" (made by the App through the API, or merged in the web UI). */
  readonly signedCommits = new Set<string>();
  /** Repository rulesets the git refs API enforces (see `domain/rulesets.ts`). */
  readonly rulesets: Ruleset[] = [];
  readonly createdAt: string;
  pushedAt: string;

  constructor(options: WorldOptions) {
    this.owner = options.owner;
    this.repo = options.repo;
    this.fullName = `${options.owner}/${options.repo}`;
    this.repoId = stableId(`repository:${this.fullName}`);
    this.defaultBranch = options.defaultBranch;
    this.appId = options.appId;
    this.appSlug = options.botLogin.replace(/\[bot\]$/, '');
    this.installationId = options.installationId;
    this.clock = new SimClock(options.now);
    this.users = new UserDirectory(options.owner, options.botLogin, options.collaborators);
    this.createdAt = this.clock.stamp();
    this.pushedAt = this.createdAt;
    this.seedInitialCommit(options.files);
  }

  /** `https://api.github.com/repos/{owner}/{repo}` + suffix. */
  apiUrl(suffix = ''): string {
    return `${API_ORIGIN}/repos/${this.fullName}${suffix}`;
  }

  /** `https://github.com/{owner}/{repo}` + suffix. */
  webUrl(suffix = ''): string {
    return `${WEB_ORIGIN}/${this.fullName}${suffix}`;
  }

  branchSha(branch: string): string | undefined {
    return this.git.ref(`refs/heads/${branch}`);
  }

  /** Commit identity of a GitHub user, with the current time. */
  person(login: string, date = this.clock.stamp()): { name: string; email: string; date: string } {
    const name = login === 'web-flow' ? 'GitHub' : login;
    return { name, email: this.users.email(login), date };
  }

  private seedInitialCommit(files: ReadonlyMap<string, string>): void {
    const tree = this.git.writeTextFiles(files);
    const owner = this.users.owner.login;
    const sha = this.git.writeCommit({
      tree,
      parents: [],
      author: this.person(owner, this.createdAt),
      committer: this.person(owner, this.createdAt),
      message: 'Initial commit',
    });
    this.git.setRef(`refs/heads/${this.defaultBranch}`, sha);
  }
}
