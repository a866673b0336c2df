import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argoCdFetch } from '../../../src/adapters/argocd/tls.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('Argo CD TLS options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'argocd-tls-'));
  let url = '';
  let server: ReturnType<typeof createServer>;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) =>
      res.end('{"ok":true}'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => server.close());

  it('keeps the default fetch when nothing is configured', () => {
    expect(argoCdFetch({})).toBeUndefined();
  });

  it('trusts a private CA given as a file, and only skips verification when asked', async () => {
    await expect(fetch(url)).rejects.toThrow();
    const withCa = argoCdFetch({ caFile: join(dir, 'cert.pem') })!;
    expect(await (await withCa(url)).json()).toEqual({ ok: true });
    const insecure = argoCdFetch({ insecure: true })!;
    expect(await (await insecure(url)).json()).toEqual({ ok: true });
  });
});
