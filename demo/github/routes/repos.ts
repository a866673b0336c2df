import { commitFileChanges, compareCommits, moveBranch } from '../domain/git.js';
import { errorBody, HttpError, notFound, ok, validationFailed } from '../http.js';
import { fullRepositoryJson, type Json, userJson } from '../representations/common.js';
import { branchJson, commitJson, diffEntryJson, gitCommitJson } from '../representations/git.js';
import { buildTarball } from '../tarball.js';
import type { Permission } from '../users.js';
import type { World } from '../world.js';
import { bodyOf, optionalString, type RouteContext, type RouteTable, requirePermission, stringParam } from './context.js';
import { base64Lines } from './git.js';

/** The `permission` field folds roles into the classic levels; `role_name` keeps the role. */
const CLASSIC_PERMISSION: Readonly<Record<Permission, 'admin' | 'write' | 'read' | 'none'>> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
  none: 'none',
};

const compare = (context: RouteContext) => {
  const { world, params } = context;
  const [base, head] = params.basehead !== undefined ? splitBasehead(String(params.basehead)) : [String(params.base), String(params.head)];
  const baseSha = resolveSide(world, base);
  const headSha = resolveSide(world, head);
  const comparison = compareCommits(world, baseSha, headSha);
  if (!comparison) throw new HttpError(404, errorBody(`No common ancestor between ${base} and ${head}.`, 404));
  const spec = `${base}...${head}`;
  return ok({
    url: world.apiUrl(`/compare/${spec}`),
    html_url: world.webUrl(`/compare/${spec}`),
    permalink_url: world.webUrl(`/compare/${world.owner}:${baseSha.slice(0, 7)}...${world.owner}:${headSha.slice(0, 7)}`),
    diff_url: world.webUrl(`/compare/${spec}.diff`),
    patch_url: world.webUrl(`/compare/${spec}.patch`),
    base_commit: commitJson(world, world.git.commit(baseSha)!),
    merge_base_commit: commitJson(world, comparison.mergeBase),
    status: comparison.status,
    ahead_by: comparison.aheadBy,
    behind_by: comparison.behindBy,
    total_commits: comparison.commits.length,
    commits: comparison.commits.map((c) => commitJson(world, c)),
    files: comparison.files.map((f) => diffEntryJson(world, f, headSha)),
  });
};

export const repoRoutes: RouteTable = {
  'repos/get': ({ world }) => ok(fullRepositoryJson(world)),

  'repos/get-branch': (context) => {
    const branch = stringParam(context, 'branch');
    const sha = context.world.branchSha(branch);
    if (!sha) throw new HttpError(404, errorBody('Branch not found', 404));
    return ok(branchJson(context.world, branch, sha));
  },

  'repos/get-collaborator-permission-level': (context) => {
    const { world } = context;
    const username = stringParam(context, 'username');
    const role = world.users.permission(username);
    const permission = CLASSIC_PERMISSION[role];
    const rank = ['none', 'read', 'triage', 'write', 'maintain', 'admin'].indexOf(role);
    return ok({
      permission,
      role_name: role,
      user: {
        ...userJson(world, username),
        permissions: { admin: rank >= 5, maintain: rank >= 4, push: rank >= 3, triage: rank >= 2, pull: rank >= 1 },
        role_name: role,
      },
    });
  },

  'repos/compare-commits': compare,
  'repos/compare-commits-with-basehead': compare,

  'repos/get-content': (context) => {
    const { world } = context;
    const path = stringParam(context, 'path').replace(/^\/+|\/+$/g, '');
    const ref = optionalString(context, 'ref') ?? world.defaultBranch;
    const commitSha = world.git.resolveCommit(ref);
    if (!commitSha) throw new HttpError(404, errorBody(`No commit found for the ref ${ref}`, 404));
    const files = world.git.listFiles(world.git.commit(commitSha)!.tree);
    const file = files.get(path);
    if (file)
      return ok({
        ...contentEntryJson(world, path, file.sha, ref),
        content: base64Lines(world.git.blob(file.sha) ?? Buffer.alloc(0)),
        encoding: 'base64',
      });
    const children = [...files.keys()].filter((p) => p.startsWith(`${path}/`));
    if (children.length === 0) throw notFound();
    return ok(directoryListing(world, path, commitSha, ref));
  },

  'repos/create-or-update-file-contents': (context) => {
    requirePermission(context, 'write');
    const { world, actor } = context;
    const path = stringParam(context, 'path');
    const {
      message,
      content,
      sha,
      branch = world.defaultBranch,
      author,
    } = bodyOf<{ message: string; content: string; sha?: string; branch?: string; author?: { name: string; email: string } }>(context);
    const head = requireBranch(world, branch);
    const existing = world.git.listFiles(world.git.commit(head)!.tree).get(path);
    if (existing && sha === undefined) throw new HttpError(422, errorBody('Invalid request.\n\n"sha" wasn\'t supplied.', 422));
    if (existing && sha !== existing.sha) throw new HttpError(409, errorBody(`${path} does not match ${sha}`, 409));
    const commit = commitFileChanges(
      world,
      head,
      new Map([[path, Buffer.from(content, 'base64').toString('utf8')]]),
      message,
      authorLogin(world, actor, author),
      { signed: !author && actor === world.users.bot.login },
    );
    moveBranch(world, branch, commit);
    return ok(fileCommitJson(world, path, commit, branch), existing ? 200 : 201);
  },

  'repos/delete-file': (context) => {
    requirePermission(context, 'write');
    const { world, actor } = context;
    const path = stringParam(context, 'path');
    const { message, sha, branch = world.defaultBranch } = bodyOf<{ message: string; sha: string; branch?: string }>(context);
    const head = requireBranch(world, branch);
    const existing = world.git.listFiles(world.git.commit(head)!.tree).get(path);
    if (!existing) throw notFound();
    if (sha !== existing.sha) throw new HttpError(409, errorBody(`${path} does not match ${sha}`, 409));
    const commit = commitFileChanges(world, head, new Map([[path, null]]), message, actor, { signed: actor === world.users.bot.login });
    moveBranch(world, branch, commit);
    return ok({ content: null, commit: fileCommitJson(world, path, commit, branch).commit });
  },

  // GitHub answers 302 to codeload.github.com; the simulator answers the archive itself (200).
  'repos/download-tarball-archive': async (context) => {
    const { world } = context;
    const ref = stringParam(context, 'ref');
    const sha = world.git.resolveCommit(ref);
    if (!sha) throw notFound();
    const archive = await buildTarball(world.git, sha, world.owner, world.repo);
    const filename = `${world.owner}-${world.repo}-${sha.slice(0, 7)}.tar.gz`;
    return {
      status: 200,
      headers: { 'content-type': 'application/x-gzip', 'content-disposition': `attachment; filename=${filename}` },
      body: archive,
    };
  },
};

function splitBasehead(basehead: string): [string, string] {
  const index = basehead.indexOf('...');
  if (index < 0) throw notFound();
  return [basehead.slice(0, index), basehead.slice(index + 3)];
}

/** A compare side: `ref`, `sha` or `owner:ref` of this repository. */
function resolveSide(world: World, side: string): string {
  const colon = side.indexOf(':');
  const ref = colon >= 0 && side.slice(0, colon) === world.owner ? side.slice(colon + 1) : side;
  const sha = world.git.resolveCommit(ref);
  if (!sha) throw notFound();
  return sha;
}

function requireBranch(world: World, branch: string): string {
  const sha = world.branchSha(branch);
  if (!sha) throw validationFailed({ resource: 'Commit', field: 'branch', code: 'invalid', message: `Branch ${branch} not found` });
  return sha;
}

/** Commits made with an explicit author are credited to whoever owns that email, else to the caller. */
function authorLogin(world: World, actor: string, author: { email: string } | undefined): string {
  return (author && world.users.loginByEmail(author.email)) ?? actor;
}

function contentEntryJson(world: World, path: string, sha: string, ref: string, type = 'file'): Json {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  const url = world.apiUrl(`/contents/${encoded}?ref=${encodeURIComponent(ref)}`);
  const html = world.webUrl(`/${type === 'dir' ? 'tree' : 'blob'}/${ref}/${encoded}`);
  const git = world.apiUrl(`/git/${type === 'dir' ? 'trees' : 'blobs'}/${sha}`);
  return {
    type,
    size: type === 'dir' ? 0 : (world.git.blob(sha)?.length ?? 0),
    name: path.split('/').at(-1),
    path,
    sha,
    url,
    git_url: git,
    html_url: html,
    download_url: type === 'dir' ? null : `https://raw.githubusercontent.com/${world.fullName}/${ref}/${encoded}`,
    _links: { self: url, git, html },
  };
}

function directoryListing(world: World, path: string, commitSha: string, ref: string): Json[] {
  let treeSha = world.git.commit(commitSha)!.tree;
  for (const part of path.split('/')) treeSha = world.git.tree(treeSha)!.find((e) => e.name === part)!.sha;
  return world.git
    .tree(treeSha)!
    .map((entry) => contentEntryJson(world, `${path}/${entry.name}`, entry.sha, ref, entry.type === 'tree' ? 'dir' : 'file'));
}

function fileCommitJson(world: World, path: string, commitSha: string, branch: string): { content: Json; commit: Json } {
  const commit = world.git.commit(commitSha)!;
  const file = world.git.listFiles(commit.tree).get(path);
  return { content: file ? contentEntryJson(world, path, file.sha, branch) : {}, commit: gitCommitJson(world, commit) };
}
