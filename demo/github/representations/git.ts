import type { FileChange } from '../git-merge.js';
import { type CommitObject, commitText } from '../git-store.js';
import type { World } from '../world.js';
import { type Json, nodeId, userJson } from './common.js';

export function gitCommitJson(world: World, commit: CommitObject): Json {
  return {
    sha: commit.sha,
    node_id: nodeId('C', commit.sha),
    url: world.apiUrl(`/git/commits/${commit.sha}`),
    html_url: world.webUrl(`/commit/${commit.sha}`),
    author: { ...commit.author },
    committer: { ...commit.committer },
    tree: { sha: commit.tree, url: world.apiUrl(`/git/trees/${commit.tree}`) },
    message: commit.message,
    parents: parentsJson(world, commit),
    verification: verificationJson(world, commit),
  };
}

/** The `commit` shape of compare, pulls/commits and branches: git data plus the linked GitHub users. */
export function commitJson(world: World, commit: CommitObject): Json {
  const { sha, node_id, html_url, parents, verification, author, committer, message, tree } = gitCommitJson(world, commit);
  return {
    url: world.apiUrl(`/commits/${commit.sha}`),
    sha,
    node_id,
    html_url,
    comments_url: world.apiUrl(`/commits/${commit.sha}/comments`),
    commit: { url: world.apiUrl(`/git/commits/${commit.sha}`), author, committer, message, tree, comment_count: 0, verification },
    author: linkedUser(world, commit.author.email),
    committer: linkedUser(world, commit.committer.email),
    parents,
  };
}

export function refJson(world: World, name: string, sha: string): Json {
  return {
    ref: name,
    node_id: nodeId('REF', name),
    url: world.apiUrl(`/git/${name}`),
    object: { type: 'commit', sha, url: world.apiUrl(`/git/commits/${sha}`) },
  };
}

export function diffEntryJson(world: World, change: FileChange, headSha: string): Json {
  const path = change.filename.split('/').map(encodeURIComponent).join('/');
  return {
    sha: change.sha,
    filename: change.filename,
    status: change.status,
    additions: change.additions,
    deletions: change.deletions,
    changes: change.additions + change.deletions,
    blob_url: world.webUrl(`/blob/${headSha}/${path}`),
    raw_url: world.webUrl(`/raw/${headSha}/${path}`),
    contents_url: world.apiUrl(`/contents/${path}?ref=${headSha}`),
    ...(change.patch ? { patch: change.patch } : {}),
  };
}

export function branchJson(world: World, name: string, sha: string): Json {
  const commit = world.git.commit(sha)!;
  const encoded = encodeURIComponent(name);
  return {
    name,
    commit: commitJson(world, commit),
    _links: { self: world.apiUrl(`/branches/${encoded}`), html: world.webUrl(`/tree/${name}`) },
    protected: false,
    protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
    protection_url: world.apiUrl(`/branches/${encoded}/protection`),
  };
}

function parentsJson(world: World, commit: CommitObject): Json[] {
  return commit.parents.map((sha) => ({ sha, url: world.apiUrl(`/git/commits/${sha}`), html_url: world.webUrl(`/commit/${sha}`) }));
}

/** App-made API commits and web-UI merges are signed by GitHub; pushed commits are not. */
function verificationJson(world: World, commit: CommitObject): Json {
  if (!world.signedCommits.has(commit.sha))
    return { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null };
  return {
    verified: true,
    reason: 'valid',
    signature: '-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQBQJsimulated\n-----END PGP SIGNATURE-----\n',
    payload: commitText(commit),
    verified_at: commit.committer.date,
  };
}

function linkedUser(world: World, email: string): Json | null {
  const login = world.users.loginByEmail(email);
  return login ? userJson(world, login) : null;
}
