import { createHash } from 'node:crypto';

/**
 * A content-addressed git object store with real SHA-1 ids (the same ids `git hash-object` would
 * give), plus refs and the history queries the REST routes need. Files are the unit everything else
 * works with: `listFiles` flattens a tree, `writeFiles` builds the nested trees back.
 */

export type ObjectType = 'blob' | 'tree' | 'commit';

export interface TreeEntry {
  readonly name: string;
  /** As the REST API spells it: '100644', '100755', '040000', '120000', '160000'. */
  readonly mode: string;
  readonly type: ObjectType;
  readonly sha: string;
}

/** A file in a flattened tree (`type` is 'commit' only for submodules). */
export interface FileEntry {
  readonly mode: string;
  readonly type: ObjectType;
  readonly sha: string;
}

export interface GitPerson {
  readonly name: string;
  readonly email: string;
  /** ISO 8601, second precision. */
  readonly date: string;
}

export interface CommitObject {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: GitPerson;
  readonly committer: GitPerson;
  readonly message: string;
}

type StoredObject =
  | { readonly type: 'blob'; readonly content: Buffer }
  | { readonly type: 'tree'; readonly entries: readonly TreeEntry[] }
  | { readonly type: 'commit'; readonly commit: CommitObject };

export const TREE_MODE = '040000';
export const FILE_MODE = '100644';

const SHA = /^[0-9a-f]{40}$/;

export class GitStore {
  private readonly objects = new Map<string, StoredObject>();
  private readonly refs = new Map<string, string>();

  // ---- objects ----------------------------------------------------------------------------

  writeBlob(content: Buffer | string): string {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const sha = hashObject('blob', bytes);
    if (!this.objects.has(sha)) this.objects.set(sha, { type: 'blob', content: bytes });
    return sha;
  }

  writeTree(entries: readonly TreeEntry[]): string {
    const sorted = [...entries].sort(compareTreeEntries);
    const body = Buffer.concat(
      sorted.map((e) => Buffer.concat([Buffer.from(`${rawMode(e.mode)} ${e.name}\0`, 'utf8'), Buffer.from(e.sha, 'hex')])),
    );
    const sha = hashObject('tree', body);
    if (!this.objects.has(sha)) this.objects.set(sha, { type: 'tree', entries: sorted });
    return sha;
  }

  writeCommit(commit: Omit<CommitObject, 'sha'>): string {
    const sha = hashObject('commit', Buffer.from(commitText(commit), 'utf8'));
    if (!this.objects.has(sha)) this.objects.set(sha, { type: 'commit', commit: { ...commit, sha } });
    return sha;
  }

  typeOf(sha: string): ObjectType | undefined {
    return this.objects.get(sha)?.type;
  }

  blob(sha: string): Buffer | undefined {
    const object = this.objects.get(sha);
    return object?.type === 'blob' ? object.content : undefined;
  }

  tree(sha: string): readonly TreeEntry[] | undefined {
    const object = this.objects.get(sha);
    return object?.type === 'tree' ? object.entries : undefined;
  }

  commit(sha: string): CommitObject | undefined {
    const object = this.objects.get(sha);
    return object?.type === 'commit' ? object.commit : undefined;
  }

  // ---- files ------------------------------------------------------------------------------

  /** Every non-tree entry below a tree, keyed by its full path. */
  listFiles(treeSha: string, prefix = ''): Map<string, FileEntry> {
    const files = new Map<string, FileEntry>();
    for (const entry of this.tree(treeSha) ?? []) {
      const path = prefix + entry.name;
      if (entry.type === 'tree') for (const [sub, file] of this.listFiles(entry.sha, `${path}/`)) files.set(sub, file);
      else files.set(path, { mode: entry.mode, type: entry.type, sha: entry.sha });
    }
    return files;
  }

  /** Builds the nested trees for a flat file map and returns the root tree sha. */
  writeFiles(files: ReadonlyMap<string, FileEntry>): string {
    const direct: TreeEntry[] = [];
    const subdirectories = new Map<string, Map<string, FileEntry>>();
    for (const [path, file] of files) {
      const slash = path.indexOf('/');
      if (slash < 0) {
        direct.push({ name: path, ...file });
        continue;
      }
      const directory = path.slice(0, slash);
      const children = subdirectories.get(directory) ?? new Map<string, FileEntry>();
      children.set(path.slice(slash + 1), file);
      subdirectories.set(directory, children);
    }
    for (const [name, children] of subdirectories) direct.push({ name, mode: TREE_MODE, type: 'tree', sha: this.writeFiles(children) });
    return this.writeTree(direct);
  }

  /** Text of every blob below a tree (submodules skipped). */
  readTextFiles(treeSha: string): Map<string, string> {
    const texts = new Map<string, string>();
    for (const [path, file] of this.listFiles(treeSha)) {
      const content = file.type === 'blob' ? this.blob(file.sha) : undefined;
      if (content) texts.set(path, content.toString('utf8'));
    }
    return texts;
  }

  /** Writes text files as blobs and returns the tree holding exactly them. */
  writeTextFiles(files: ReadonlyMap<string, string>): string {
    const entries = new Map<string, FileEntry>();
    for (const [path, text] of files) entries.set(path, { mode: FILE_MODE, type: 'blob', sha: this.writeBlob(text) });
    return this.writeFiles(entries);
  }

  // ---- refs -------------------------------------------------------------------------------

  /** `name` is the full ref name, e.g. `refs/heads/main`. */
  ref(name: string): string | undefined {
    return this.refs.get(name);
  }

  setRef(name: string, sha: string): void {
    this.refs.set(name, sha);
  }

  deleteRef(name: string): boolean {
    return this.refs.delete(name);
  }

  /** All refs sorted by name, like `git for-each-ref`. */
  allRefs(): Array<[name: string, sha: string]> {
    return [...this.refs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * A commit sha from what the REST API accepts as a ref: a full or abbreviated sha, a branch or
   * tag name, `heads/x`, `tags/x` or `refs/...`.
   */
  resolveCommit(refish: string): string | undefined {
    for (const name of [refish, `refs/${refish}`, `refs/heads/${refish}`, `refs/tags/${refish}`]) {
      const sha = this.refs.get(name);
      if (sha) return sha;
    }
    if (SHA.test(refish)) return this.commit(refish) ? refish : undefined;
    if (/^[0-9a-f]{7,39}$/.test(refish)) {
      const matches = [...this.objects.keys()].filter((sha) => sha.startsWith(refish) && this.commit(sha));
      return matches.length === 1 ? matches[0] : undefined;
    }
    return undefined;
  }

  // ---- history ----------------------------------------------------------------------------

  /** A commit and everything reachable from it. */
  ancestry(sha: string): Set<string> {
    const seen = new Set<string>();
    const pending = [sha];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      pending.push(...(this.commit(next)?.parents ?? []));
    }
    return seen;
  }

  /** True when `descendant` is `ancestor` or has it in its history. */
  isAncestor(ancestor: string, descendant: string): boolean {
    return this.ancestry(descendant).has(ancestor);
  }

  /** The best common ancestor (the newest one no other common ancestor descends from). */
  mergeBase(a: string, b: string): string | undefined {
    const ofA = this.ancestry(a);
    const common = [...this.ancestry(b)].filter((sha) => ofA.has(sha));
    const best = common.filter((candidate) => !common.some((other) => other !== candidate && this.isAncestor(candidate, other)));
    return best.sort((x, y) => (this.commit(y)?.committer.date ?? '').localeCompare(this.commit(x)?.committer.date ?? ''))[0];
  }

  /** Commits reachable from `head` but not from `base`, parents before children (like `git log --reverse --topo-order`). */
  commitsBetween(base: string, head: string): CommitObject[] {
    const excluded = this.ancestry(base);
    const ordered: CommitObject[] = [];
    const visited = new Set<string>();
    const visit = (sha: string): void => {
      if (visited.has(sha) || excluded.has(sha)) return;
      visited.add(sha);
      const commit = this.commit(sha);
      if (!commit) return;
      for (const parent of commit.parents) visit(parent);
      ordered.push(commit);
    };
    visit(head);
    return ordered;
  }
}

/** The raw commit object, as git hashes it (and as GitHub shows it in `verification.payload`). */
export function commitText(commit: Omit<CommitObject, 'sha'>): string {
  const lines = [
    `tree ${commit.tree}`,
    ...commit.parents.map((p) => `parent ${p}`),
    `author ${signature(commit.author)}`,
    `committer ${signature(commit.committer)}`,
  ];
  return `${lines.join('\n')}\n\n${commit.message}`;
}

function hashObject(type: ObjectType, body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

/** Git writes tree modes without the leading zero. */
function rawMode(mode: string): string {
  return mode.replace(/^0+/, '');
}

/** Git orders tree entries by name, comparing a subtree's name as if it ended in '/'. */
function compareTreeEntries(a: TreeEntry, b: TreeEntry): number {
  const keyA = Buffer.from(a.type === 'tree' ? `${a.name}/` : a.name);
  const keyB = Buffer.from(b.type === 'tree' ? `${b.name}/` : b.name);
  return Buffer.compare(keyA, keyB);
}

function signature(person: GitPerson): string {
  const seconds = Math.floor(Date.parse(person.date) / 1000);
  return `${person.name} <${person.email}> ${seconds} +0000`;
}
