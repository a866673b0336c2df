/** The mutable non-git state of the simulated repository. JSON shapes are built from these in representations/. */

export type ReactionContent = '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes';
export type StatusState = 'error' | 'failure' | 'pending' | 'success';

export interface IssueRecord {
  readonly number: number;
  readonly id: number;
  author: string;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | 'reopened' | null;
  /** Label names, in the order they were added. */
  labels: string[];
  locked: boolean;
  readonly createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Present when the issue is a pull request (they share numbers, like on GitHub). */
  pull?: PullRecord;
}

export interface PullRecord {
  readonly id: number;
  readonly headRef: string;
  baseRef: string;
  draft: boolean;
  /** Head and base shas frozen when the pull request was closed or merged; live refs are read while it is open. */
  frozen: { readonly headSha: string; readonly baseSha: string } | null;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  mergedBy: string | null;
}

export interface CommentRecord {
  readonly id: number;
  readonly issueNumber: number;
  readonly author: string;
  body: string;
  readonly createdAt: string;
  updatedAt: string;
}

export interface ReactionRecord {
  readonly id: number;
  /** `comment:<id>` or `issue:<number>`. */
  readonly subject: string;
  readonly user: string;
  readonly content: ReactionContent;
  readonly createdAt: string;
}

export interface LabelRecord {
  readonly id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface StatusRecord {
  readonly id: number;
  readonly sha: string;
  readonly state: StatusState;
  readonly context: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
  readonly creator: string;
  readonly createdAt: string;
}

/** Id ranges kept apart so an id in a test failure says what it is. */
const FIRST_ID = {
  issue: 2_000_000_001,
  pull: 3_000_000_001,
  comment: 4_000_000_001,
  reaction: 5_000_000_001,
  label: 6_000_000_001,
  status: 7_000_000_001,
};

/** One `@login` (or `@org/team`) in a comment as it was created. */
export interface MentionRecord {
  readonly login: string;
  readonly commentId: number;
  readonly issueNumber: number;
}

export class RepoRecords {
  readonly issues = new Map<number, IssueRecord>();
  readonly comments = new Map<number, CommentRecord>();
  readonly reactions: ReactionRecord[] = [];
  /** Keyed by lower-cased name: GitHub label names are case-insensitive. */
  readonly labels = new Map<string, LabelRecord>();
  readonly statuses: StatusRecord[] = [];
  /** Who a new comment mentioned (GitHub notifies mentions when a comment is created, never on an edit). */
  readonly mentions: MentionRecord[] = [];
  private lastNumber = 0;
  private readonly nextIds = { ...FIRST_ID };

  nextNumber(): number {
    return ++this.lastNumber;
  }

  nextId(kind: keyof typeof FIRST_ID): number {
    return this.nextIds[kind]++;
  }

  issue(number: number): IssueRecord | undefined {
    return this.issues.get(number);
  }

  label(name: string): LabelRecord | undefined {
    return this.labels.get(name.toLowerCase());
  }

  commentsOn(issueNumber: number): CommentRecord[] {
    return [...this.comments.values()].filter((c) => c.issueNumber === issueNumber).sort((a, b) => a.id - b.id);
  }

  reactionsTo(subject: string): ReactionRecord[] {
    return this.reactions.filter((r) => r.subject === subject);
  }
}
