import { describe, expect, it } from 'vitest';
import { ArgoCdApiError, ArgoCdClient } from '../../../src/adapters/argocd/client.js';

const TOKEN = 'argocd-secret-token-value';

function client(respond: (url: string, init?: RequestInit) => Response | Promise<Response>, timeoutMs?: number) {
  const seen: string[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    seen.push(url);
    return respond(url, init);
  }) as typeof globalThis.fetch;
  return { seen, client: new ArgoCdClient({ server: 'argocd.example.com/', token: TOKEN, fetch, ...(timeoutMs ? { timeoutMs } : {}) }) };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('ArgoCdClient', () => {
  it('reads an application (with refresh) and its resource tree, sending the token as a bearer', async () => {
    let auth: string | null = null;
    const { client: c, seen } = client((url, init) => {
      auth = new Headers(init?.headers).get('authorization');
      return url.endsWith('/resource-tree')
        ? json(200, { nodes: [{ kind: 'Pod', name: 'p', namespace: 'n', images: ['proxyv2:1.14.0'] }], orphanedNodes: [] })
        : json(200, {
            metadata: { name: 'prod-mesh', extra: 1 },
            spec: {},
            status: { sync: { status: 'Synced', revision: 'abc' }, health: { status: 'Healthy' }, unknownField: true },
          });
    });
    const app = await c.getApplication('prod-mesh', 'normal');
    const tree = await c.getResourceTree('prod-mesh');
    expect(app.status.sync?.status).toBe('Synced');
    expect(tree.nodes[0]?.images).toEqual(['proxyv2:1.14.0']);
    expect(seen).toEqual([
      'https://argocd.example.com/api/v1/applications/prod-mesh?refresh=normal',
      'https://argocd.example.com/api/v1/applications/prod-mesh/resource-tree',
    ]);
    expect(auth).toBe(`Bearer ${TOKEN}`);
  });

  it.each([
    [401, /check ARGOCD_AUTH_TOKEN and that its RBAC allows "get"/],
    [403, /check ARGOCD_AUTH_TOKEN/],
    [404, /no application prod-mesh \(404\): check the application names/],
    [500, /answered 500/],
  ])('explains a %i without leaking the token', async (status, message) => {
    const { client: c } = client(() => json(status, { error: 'x' }));
    const error = await c.getApplication('prod-mesh').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgoCdApiError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('says both causes of a 403, naming the application: Argo CD answers an unknown name as it answers missing RBAC (issue 11 item 7)', async () => {
    const { client: c } = client(() => json(403, { error: 'permission denied', code: 7, message: 'permission denied' }));
    for (const read of [() => c.getApplication('prod-mesh-canary'), () => c.getResourceTree('prod-mesh-canary')]) {
      const error = (await read().catch((e: unknown) => e)) as ArgoCdApiError;
      expect(error.status).toBe(403);
      expect(error.message).toMatch(
        /^Argo CD answered 403 permission denied reading (application|resource tree of) prod-mesh-canary: either no application is named "prod-mesh-canary" \(check the names under clusters\[\]\.argocd\.applications in \.github\/mesh-upgrade\.yml\), or its RBAC does not let the token "get" it \(check ARGOCD_AUTH_TOKEN and its role\)/,
      );
    }
  });

  it('quotes Argo CD’s own message of an error answer, never the token', async () => {
    const deadline = await client(() =>
      json(500, { error: 'application refresh deadline exceeded', code: 2, message: 'application refresh deadline exceeded' }),
    )
      .client.getApplication('prod-mesh', 'normal')
      .catch((e: Error) => e);
    expect((deadline as Error).message).toBe('Argo CD answered 500 reading application prod-mesh: application refresh deadline exceeded');
    const echo = await client(() => json(500, { error: `bad token ${TOKEN}`, code: 2, message: `bad token ${TOKEN}` }))
      .client.getApplication('prod-mesh')
      .catch((e: Error) => e);
    expect((echo as Error).message).toBe('Argo CD answered 500 reading application prod-mesh: bad token ***');
  });

  it('calls garbage and unreachable servers what they are', async () => {
    const garbage = await client(() => new Response('<html>proxy error</html>', { status: 200 }))
      .client.getApplication('a')
      .catch((e: Error) => e);
    expect((garbage as Error).message).toContain('not JSON');
    const wrongShape = await client(() => json(200, { hello: 'world' }))
      .client.getApplication('a')
      .catch((e: Error) => e);
    expect((wrongShape as Error).message).toContain('is not an Argo CD object');
    const down = await client(() => Promise.reject(new TypeError('fetch failed')))
      .client.getApplication('a')
      .catch((e: ArgoCdApiError) => e);
    expect(down).toMatchObject({ status: null });
    expect((down as Error).message).toBe('Argo CD at https://argocd.example.com is unreachable (reading application a)');
    const slow = await client(
      (_url, init) =>
        new Promise((_, reject) =>
          init?.signal?.addEventListener('abort', () => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' }))),
        ),
      20,
    )
      .client.getApplication('a')
      .catch((e: Error) => e);
    expect((slow as Error).message).toContain('no answer within 20 ms');
  });
});
