import { closePullsOnDeletedBranch } from '../domain/pulls.js';
import { enforceRulesets } from '../domain/rulesets.js';
import { FILE_MODE, type FileEntry, type ObjectType, TREE_MODE } from '../git-store.js';
import { noContent, notFound, ok, unprocessable } from '../http.js';
import { type Json, nodeId } from '../representations/common.js';
import { gitCommitJson, refJson } from '../representations/git.js';
import type { World } from '../world.js';
import { bodyOf, type RouteTable, requirePermission, stringParam } from './context.js';

interface TreeEntryInput {
  path?: string;
  mode?: string;
  type?: ObjectType;
  sha?: string | null;
  content?: string;
}

interface PersonInput {
  name: string;
  email: string;
  date?: string;
}

export const gitRoutes: RouteTable = {
  'git/create-blob': (context) => {
    requirePermission(context, 'write');
    const { content, encoding } = bodyOf<{ content: string; encoding?: string }>(context);
    const sha = context.world.git.writeBlob(encoding === 'base64' ? Buffer.from(content, 'base64') : content);
    return ok({ url: context.world.apiUrl(`/git/blobs/${sha}`), sha }, 201);
  },

  'git/get-blob': ({ world, params }) => {
    const sha = String(params.file_sha);
    const content = world.git.blob(sha);
    if (!content) throw notFound();
    return ok({
      sha,
      node_id: nodeId('B', sha),
      size: content.length,
      url: world.apiUrl(`/git/blobs/${sha}`),
      content: base64Lines(content),
      encoding: 'base64',
    });
  },

  'git/create-tree': (context) => {
    requirePermission(context, 'write');
    const { world } = context;
    const { tree, base_tree } = bodyOf<{ tree: TreeEntryInput[]; base_tree?: string }>(context);
    if (base_tree !== undefined && !world.git.tree(base_tree)) throw unprocessable(`base_tree ${base_tree} is not a valid tree`);
    const files = new Map<string, FileEntry>(base_tree ? world.git.listFiles(base_tree) : []);
    for (const entry of tree) applyTreeEntry(world, files, entry);
    const sha = world.git.writeFiles(files);
    return ok(treeJson(world, sha, false), 201);
  },

  'git/get-tree': ({ world, params }) => {
    const requested = String(params.tree_sha);
    const sha = world.git.tree(requested) ? requested : treeOfCommitish(world, requested);
    if (!sha) throw notFound();
    // GitHub recurses for any value of `recursive`, even "0" or "false".
    return ok(treeJson(world, sha, params.recursive !== undefined));
  },

  'git/create-commit': (context) => {
    requirePermission(context, 'write');
    const { world, actor } = context;
    const {
      message,
      tree,
      parents = [],
      author,
      committer,
    } = bodyOf<{ message: string; tree: string; parents?: string[]; author?: PersonInput; committer?: PersonInput }>(context);
    if (!world.git.tree(tree)) throw unprocessable('Tree SHA does not exist');
    if (parents.some((parent) => !world.git.commit(parent))) throw unprocessable('Parent SHA does not exist or is not a commit object');
    const date = world.clock.stamp();
    const own = world.person(actor, date);
    const authorPerson = author ? { name: author.name, email: author.email, date: author.date ?? date } : own;
    const committerPerson = committer
      ? { name: committer.name, email: committer.email, date: committer.date ?? date }
      : author
        ? authorPerson
        : own;
    const sha = world.git.writeCommit({ tree, parents, author: authorPerson, committer: committerPerson, message });
    // GitHub signs commits an App makes through the API when it chooses the identities itself.
    if (!author && !committer && actor === world.users.bot.login) world.signedCommits.add(sha);
    return ok(gitCommitJson(world, world.git.commit(sha)!), 201);
  },

  'git/get-commit': ({ world, params }) => {
    const commit = world.git.commit(String(params.commit_sha));
    if (!commit) throw notFound();
    return ok(gitCommitJson(world, commit));
  },

  'git/get-ref': (context) => {
    const name = `refs/${stringParam(context, 'ref')}`;
    const sha = context.world.git.ref(name);
    if (!sha) throw notFound();
    return ok(refJson(context.world, name, sha));
  },

  'git/list-matching-refs': (context) => {
    const prefix = `refs/${stringParam(context, 'ref')}`;
    return ok(
      context.world.git
        .allRefs()
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, sha]) => refJson(context.world, name, sha)),
    );
  },

  'git/create-ref': (context) => {
    requirePermission(context, 'write');
    const { world } = context;
    const { ref, sha } = bodyOf<{ ref: string; sha: string }>(context);
    if (!ref.startsWith('refs/') || ref.split('/').length < 3)
      throw unprocessable('Reference name must start with "refs/" and have at least two slashes.');
    if (world.git.ref(ref)) throw unprocessable('Reference already exists');
    if (!world.git.commit(sha)) throw unprocessable('Object does not exist');
    enforceRulesets(world, ref, 'creation');
    world.git.setRef(ref, sha);
    world.pushedAt = world.clock.stamp();
    return ok(refJson(world, ref, sha), 201);
  },

  'git/update-ref': (context) => {
    requirePermission(context, 'write');
    const { world } = context;
    const name = `refs/${stringParam(context, 'ref')}`;
    const { sha, force } = bodyOf<{ sha: string; force?: boolean }>(context);
    const current = world.git.ref(name);
    if (!current) throw unprocessable('Reference does not exist');
    if (!world.git.commit(sha)) throw unprocessable('Object does not exist');
    if (!force && !world.git.isAncestor(current, sha)) throw unprocessable('Update is not a fast forward');
    enforceRulesets(world, name, 'update');
    world.git.setRef(name, sha);
    world.pushedAt = world.clock.stamp();
    return ok(refJson(world, name, sha));
  },

  'git/delete-ref': (context) => {
    requirePermission(context, 'write');
    const { world } = context;
    const name = `refs/${stringParam(context, 'ref')}`;
    const sha = world.git.ref(name);
    if (!sha) throw unprocessable('Reference does not exist');
    enforceRulesets(world, name, 'deletion');
    world.git.deleteRef(name);
    world.clock.stamp();
    if (name.startsWith('refs/heads/')) closePullsOnDeletedBranch(world, name.slice('refs/heads/'.length), sha);
    return noContent();
  },
};

/** Applies one `POST /git/trees` entry to a flat file map: inline content, an existing object, or a deletion. */
function applyTreeEntry(world: World, files: Map<string, FileEntry>, entry: TreeEntryInput): void {
  const path = entry.path?.replace(/^\/+|\/+$/g, '');
  if (!path) throw unprocessable('tree.path is required');
  if (entry.content !== undefined && entry.sha !== undefined) throw unprocessable('Must supply either tree.sha or tree.content, not both');
  const removeBelow = (prefix: string) => {
    for (const key of [...files.keys()]) if (key === prefix || key.startsWith(`${prefix}/`)) files.delete(key);
  };
  if (entry.content !== undefined) {
    removeBelow(path);
    files.set(path, { mode: entry.mode ?? FILE_MODE, type: 'blob', sha: world.git.writeBlob(entry.content) });
    return;
  }
  if (entry.sha === null) {
    removeBelow(path); // deleting a path that does not exist is not an error
    return;
  }
  if (entry.sha === undefined) throw unprocessable('Must supply either tree.sha or tree.content');
  const type = entry.type ?? (entry.mode === TREE_MODE ? 'tree' : 'blob');
  if (world.git.typeOf(entry.sha) !== type && type !== 'commit') throw unprocessable(`tree.sha ${entry.sha} is not a valid ${type}`);
  removeBelow(path);
  if (type === 'tree') for (const [sub, file] of world.git.listFiles(entry.sha)) files.set(`${path}/${sub}`, file);
  else files.set(path, { mode: entry.mode ?? FILE_MODE, type, sha: entry.sha });
}

function treeOfCommitish(world: World, refish: string): string | undefined {
  const sha = world.git.resolveCommit(refish);
  return sha ? world.git.commit(sha)?.tree : undefined;
}

function treeJson(world: World, sha: string, recursive: boolean): Json {
  const entries: Json[] = [];
  const walk = (treeSha: string, prefix: string) => {
    for (const entry of world.git.tree(treeSha) ?? []) {
      const path = prefix + entry.name;
      const kind = entry.type === 'tree' ? 'trees' : 'blobs';
      entries.push({
        path,
        mode: entry.mode,
        type: entry.type,
        sha: entry.sha,
        ...(entry.type === 'blob' ? { size: world.git.blob(entry.sha)?.length ?? 0 } : {}),
        ...(entry.type === 'commit' ? {} : { url: world.apiUrl(`/git/${kind}/${entry.sha}`) }),
      });
      if (recursive && entry.type === 'tree') walk(entry.sha, `${path}/`);
    }
  };
  walk(sha, '');
  return { sha, url: world.apiUrl(`/git/trees/${sha}`), tree: entries, truncated: false };
}

/** Base64 wrapped at 60 characters with a trailing newline, as GitHub sends blob and file contents. */
export function base64Lines(content: Buffer): string {
  const text = content.toString('base64');
  return text.length === 0 ? '' : `${text.match(/.{1,60}/g)!.join('\n')}\n`;
}
