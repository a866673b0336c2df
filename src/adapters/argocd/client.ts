import type { z } from 'zod';
import { ArgoApplication, ResourceTree } from '../../core/argocd-status.js';
import { metrics } from '../../observability/metrics.js';

interface ArgoCdClientOptions {
  /** `https://argocd.example.com` (ARGOCD_SERVER; a bare host name gets https://). */
  readonly server: string;
  /** API token (ARGOCD_AUTH_TOKEN); never logged or echoed. */
  readonly token: string;
  readonly fetch?: typeof fetch;
  /** Per-request timeout. @default 15000 */
  readonly timeoutMs?: number;
}

/** An Argo CD API failure with a clear cause and no token in it. */
export class ArgoCdApiError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'ArgoCdApiError';
  }
}

/** The two reads the health gate needs from Argo CD's REST API. */
export class ArgoCdClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: ArgoCdClientOptions) {
    this.base = (/^https?:\/\//.test(options.server) ? options.server : `https://${options.server}`).replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** `GET /api/v1/applications/{name}`; with `refresh`, Argo CD reconciles first (answers once done). */
  getApplication(name: string, refresh?: 'normal' | 'hard'): Promise<ArgoApplication> {
    return this.get(
      `/api/v1/applications/${encodeURIComponent(name)}${refresh ? `?refresh=${refresh}` : ''}`,
      ArgoApplication,
      `application ${name}`,
      name,
    );
  }

  getResourceTree(name: string): Promise<ResourceTree> {
    return this.get(`/api/v1/applications/${encodeURIComponent(name)}/resource-tree`, ResourceTree, `resource tree of ${name}`, name);
  }

  private async get<T extends z.ZodType>(path: string, schema: T, what: string, app: string): Promise<z.infer<T>> {
    try {
      const result = await this.request(path, schema, what, app);
      metrics.argocdRequests.inc({ outcome: 'ok' });
      return result;
    } catch (error) {
      metrics.argocdRequests.inc({ outcome: error instanceof ArgoCdApiError ? String(error.status ?? 'unreachable') : 'error' });
      throw error;
    }
  }

  private async request<T extends z.ZodType>(path: string, schema: T, what: string, app: string): Promise<z.infer<T>> {
    let response: Response;
    try {
      response = await this.fetch(`${this.base}${path}`, {
        headers: { authorization: `Bearer ${this.options.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : 'unreachable';
      throw new ArgoCdApiError(null, `Argo CD at ${this.base} is ${reason} (reading ${what})`);
    }
    if (response.status === 401) {
      throw new ArgoCdApiError(
        401,
        `Argo CD refused to read ${what} (401${await said(response, this.options.token)}): check ARGOCD_AUTH_TOKEN and that its RBAC allows "get" on the application`,
      );
    }
    if (response.status === 403) {
      // Asked without `project`, Argo CD answers an application that does not exist exactly like
      // one the token may not read (server/application/application.go getAppEnforceRBAC).
      throw new ArgoCdApiError(
        403,
        `Argo CD answered 403${await said(response, this.options.token)} reading ${what}: either no application is named "${app}" (check the names under clusters[].argocd.applications in .github/mesh-upgrade.yml), or its RBAC does not let the token "get" it (check ARGOCD_AUTH_TOKEN and its role); Argo CD answers both alike`,
      );
    }
    if (response.status === 404)
      throw new ArgoCdApiError(404, `Argo CD has no ${what} (404): check the application names in .github/mesh-upgrade.yml`);
    if (!response.ok)
      throw new ArgoCdApiError(
        response.status,
        `Argo CD answered ${response.status} reading ${what}${(await said(response, this.options.token)).replace(/^ /, ': ')}`,
      );
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new ArgoCdApiError(response.status, `Argo CD answered with something that is not JSON reading ${what}`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new ArgoCdApiError(
        response.status,
        `Argo CD's answer for ${what} is not an Argo CD object: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
    return parsed.data;
  }
}

/** Argo CD's own words in an error answer (`{"error","code","message"}`), short, or nothing. */
async function said(response: Response, token: string): Promise<string> {
  try {
    const body = (await response.json()) as { message?: unknown; error?: unknown };
    const text = typeof body.message === 'string' && body.message ? body.message : typeof body.error === 'string' ? body.error : '';
    const clean = (token.length >= 8 ? text.split(token).join('***') : text).replace(/[\r\n]+/g, ' ').trim();
    return clean ? ` ${clean.length > 200 ? `${clean.slice(0, 199)}…` : clean}` : '';
  } catch {
    return '';
  }
}
