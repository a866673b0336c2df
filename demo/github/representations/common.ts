import { API_ORIGIN, WEB_ORIGIN } from '../http.js';
import type { World } from '../world.js';

/**
 * JSON shapes shared by REST answers and webhook payloads. Webhook schemas forbid unknown fields
 * (`additionalProperties: false`) while REST schemas allow them, so these builders emit exactly
 * the webhook field set and REST-only fields are added by the REST-specific builders.
 */

export type Json = Record<string, unknown>;

export function userJson(world: World, login: string): Json {
  const user = world.users.user(login);
  const path = encodeURIComponent(login);
  const api = `${API_ORIGIN}/users/${path}`;
  const isBot = user.type === 'Bot';
  return {
    login,
    id: user.id,
    node_id: nodeId(isBot ? 'BOT' : user.type === 'Organization' ? 'O' : 'U', user.id),
    avatar_url:
      login === world.users.bot.login
        ? `https://avatars.githubusercontent.com/in/${world.appId}?v=4`
        : `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: '',
    url: api,
    // A bot user's page is its App's page.
    html_url: isBot ? `${WEB_ORIGIN}/apps/${login.replace(/\[bot\]$/, '')}` : `${WEB_ORIGIN}/${path}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    site_admin: false,
  };
}

/** The repository as webhook payloads and pull request `head.repo`/`base.repo` carry it. */
export function repositoryJson(world: World): Json {
  const api = world.apiUrl();
  const openIssues = [...world.records.issues.values()].filter((i) => i.state === 'open').length;
  return {
    id: world.repoId,
    node_id: nodeId('R', world.repoId),
    name: world.repo,
    full_name: world.fullName,
    private: true,
    owner: userJson(world, world.owner),
    html_url: world.webUrl(),
    description: null,
    fork: false,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: world.createdAt,
    updated_at: world.pushedAt,
    pushed_at: world.pushedAt,
    git_url: `git://github.com/${world.fullName}.git`,
    ssh_url: `git@github.com:${world.fullName}.git`,
    clone_url: `${world.webUrl()}.git`,
    svn_url: world.webUrl(),
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: true,
    has_projects: false,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: openIssues,
    license: null,
    allow_forking: false,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: 'private',
    forks: 0,
    open_issues: openIssues,
    watchers: 0,
    default_branch: world.defaultBranch,
    custom_properties: {},
  };
}

/** `GET /repos/{owner}/{repo}` (full-repository): the shared shape plus REST-only fields. */
export function fullRepositoryJson(world: World): Json {
  return {
    ...repositoryJson(world),
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    allow_merge_commit: true,
    allow_squash_merge: true,
    allow_rebase_merge: true,
    delete_branch_on_merge: false,
    network_count: 0,
    subscribers_count: 0,
  };
}

/** The App's permissions (as app.yml declares them). */
export const APP_PERMISSIONS = { contents: 'write', issues: 'write', pull_requests: 'write', statuses: 'read', metadata: 'read' } as const;
export const APP_EVENTS = ['issue_comment', 'pull_request', 'status'] as const;

/** The GitHub App (`integration`), as `performed_via_github_app` and `GET /app` show it. */
export function appJson(world: World): Json {
  return {
    id: world.appId,
    slug: world.appSlug,
    node_id: nodeId('A', world.appId),
    owner: userJson(world, world.owner),
    name: world.appSlug,
    description: 'Turns Istio/ASM canary upgrades into reviewed, staged pull requests.',
    external_url: `${WEB_ORIGIN}/${world.owner}/${world.appSlug}`,
    html_url: `${WEB_ORIGIN}/apps/${world.appSlug}`,
    created_at: world.createdAt,
    updated_at: world.createdAt,
    permissions: { ...APP_PERMISSIONS },
    events: [...APP_EVENTS],
  };
}

export function installationJson(world: World): Json {
  return {
    id: world.installationId,
    account: userJson(world, world.owner),
    repository_selection: 'selected',
    access_tokens_url: `${API_ORIGIN}/app/installations/${world.installationId}/access_tokens`,
    repositories_url: `${API_ORIGIN}/installation/repositories`,
    html_url: `${WEB_ORIGIN}/organizations/${world.owner}/settings/installations/${world.installationId}`,
    app_id: world.appId,
    app_slug: world.appSlug,
    target_id: world.users.owner.id,
    target_type: 'Organization',
    permissions: { ...APP_PERMISSIONS },
    events: [...APP_EVENTS],
    created_at: world.createdAt,
    updated_at: world.createdAt,
    single_file_name: null,
    suspended_by: null,
    suspended_at: null,
  };
}

/** Installation as webhook payloads carry it. */
export function installationLiteJson(world: World): Json {
  return { id: world.installationId, node_id: nodeId('IN', world.installationId) };
}

/** An opaque GraphQL-looking node id. */
export function nodeId(prefix: string, id: number | string): string {
  return `${prefix}_${Buffer.from(String(id)).toString('base64url')}`;
}
