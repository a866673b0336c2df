import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { run } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webhookProxyStart } from '../../src/startup-check.js';

// `npm start` (src/start.ts) without the optional smee-client: the bot says how to get webhooks
// locally, and Probot, given what webhookProxyStart returns, warns about nothing.

describe('webhookProxyStart', () => {
  it('says how to get webhooks locally when smee-client is missing', () => {
    const start = webhookProxyStart({}, false);
    expect(start?.advice).toMatch(/npm install --no-save smee-client/);
    expect(start?.advice).toMatch(/WEBHOOK_PROXY_URL/);
    expect(start?.advice.split('\n').length).toBeLessThanOrEqual(3);
    expect(start?.env).toEqual({ NO_SMEE_SETUP: 'true' });
  });

  it('changes nothing in production or with smee-client installed', () => {
    expect(webhookProxyStart({ NODE_ENV: 'production' }, false)).toBeNull();
    expect(webhookProxyStart({}, true)).toBeNull();
  });
});

describe("Probot's run as npm start calls it without smee-client", () => {
  const saved = { ...process.env };
  let dir: string;
  let lines: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-upgrade-start-'));
    writeFileSync(join(dir, 'app.mjs'), 'export default () => {};\n');
    lines = [];
    for (const name of ['APP_ID', 'PRIVATE_KEY', 'PRIVATE_KEY_PATH', 'WEBHOOK_PROXY_URL', 'NO_SMEE_SETUP', 'NODE_ENV'])
      delete process.env[name];
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(extra: readonly string[]): Promise<string[]> {
    const proxy = webhookProxyStart(process.env, false)!;
    Object.assign(process.env, proxy.env);
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const server = await run(['node', 'probot-run', ...proxy.args, '--port', '0', '--host', '127.0.0.1', ...extra, join(dir, 'app.mjs')], {
      log,
    });
    await server.stop();
    return lines
      .map((l) => ((JSON.parse(l) as { level: number; msg: string }).level >= 40 ? (JSON.parse(l) as { msg: string }).msg : ''))
      .filter(Boolean);
  }

  it('in setup mode (no App yet): no "SmeeClient is not available"', async () => {
    expect(await start([])).toEqual([]);
    expect(lines.join('\n')).toMatch(/setup mode/);
  });

  it('with an App and WEBHOOK_PROXY_URL set: no "npm install --save-dev smee-client" warning', async () => {
    const key = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    writeFileSync(join(dir, 'key.pem'), key);
    process.env.WEBHOOK_PROXY_URL = 'https://smee.io/mesh-upgrade-test';
    expect(await start(['--app', '1', '--private-key', join(dir, 'key.pem'), '--secret', 'test-secret'])).toEqual([]);
  });
});
