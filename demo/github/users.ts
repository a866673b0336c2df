import { createHash } from 'node:crypto';

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';
export type UserType = 'User' | 'Bot' | 'Organization';
export type AuthorAssociation = 'OWNER' | 'COLLABORATOR' | 'NONE';

export interface SimUser {
  readonly login: string;
  readonly id: number;
  readonly type: UserType;
}

const RANK: Readonly<Record<Permission, number>> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

/** The committer GitHub records for merges and edits made in the web UI. */
export const WEB_FLOW: SimUser = { login: 'web-flow', id: 19864447, type: 'User' };

/**
 * Everyone the simulator knows: the owning organisation, the App's bot user, collaborators with
 * their role, and anybody else who shows up (they get a stable id derived from the login).
 */
export class UserDirectory {
  readonly owner: SimUser;
  readonly bot: SimUser;

  constructor(
    ownerLogin: string,
    botLogin: string,
    private readonly collaborators: Readonly<Record<string, Permission>>,
  ) {
    this.owner = { login: ownerLogin, id: stableId(ownerLogin), type: 'Organization' };
    this.bot = { login: botLogin, id: stableId(botLogin), type: 'Bot' };
  }

  user(login: string): SimUser {
    if (login === this.owner.login) return this.owner;
    if (login === this.bot.login) return this.bot;
    if (login === WEB_FLOW.login) return WEB_FLOW;
    return { login, id: stableId(login), type: login.endsWith('[bot]') ? 'Bot' : 'User' };
  }

  /** The role on this repository; the App's bot is not a collaborator (its access comes from the installation). */
  permission(login: string): Permission {
    return this.collaborators[login] ?? 'none';
  }

  /** Whether `login` may do something that needs `needed`; the App's installation may do everything. */
  can(login: string, needed: Permission): boolean {
    return login === this.bot.login || RANK[this.permission(login)] >= RANK[needed];
  }

  association(login: string): AuthorAssociation {
    if (login === this.owner.login) return 'OWNER';
    return this.permission(login) === 'none' ? 'NONE' : 'COLLABORATOR';
  }

  /** The noreply address GitHub puts on commits it makes for a user. */
  email(login: string): string {
    if (login === WEB_FLOW.login) return 'noreply@github.com';
    return `${this.user(login).id}+${login}@users.noreply.github.com`;
  }

  /** The GitHub user a commit email belongs to, as GitHub links commits to accounts. */
  loginByEmail(email: string): string | null {
    if (email === 'noreply@github.com') return WEB_FLOW.login;
    const match = /^(\d+)\+(.+)@users\.noreply\.github\.com$/.exec(email);
    return match && stableId(match[2]!) === Number(match[1]) ? match[2]! : null;
  }
}

/** A deterministic GitHub-looking id for a name (users, the repository). */
export function stableId(key: string): number {
  return 10_000_000 + (createHash('sha1').update(key).digest().readUInt32BE(0) % 90_000_000);
}
