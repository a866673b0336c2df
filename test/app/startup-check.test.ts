import { describe, expect, it } from 'vitest';
import { checkProductionEnvironment, StartupError } from '../../src/startup-check.js';

const complete = {
  NODE_ENV: 'production',
  APP_ID: '1',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----',
  WEBHOOK_SECRET: 's3cret',
  APP_SLUG: 'mesh-upgrade-bot',
};

describe('checkProductionEnvironment', () => {
  it('lets development run without credentials and production with them', () => {
    expect(() => checkProductionEnvironment({})).not.toThrow();
    expect(() => checkProductionEnvironment(complete)).not.toThrow();
  });

  it.each([
    [{ ...complete, WEBHOOK_SECRET: undefined }, /without WEBHOOK_SECRET/],
    [{ ...complete, PRIVATE_KEY: undefined }, /without PRIVATE_KEY \(or PRIVATE_KEY_PATH\)/],
    [{ NODE_ENV: 'production' }, /without APP_ID, PRIVATE_KEY \(or PRIVATE_KEY_PATH\), WEBHOOK_SECRET, APP_SLUG/],
    [{ ...complete, APP_SLUG: undefined }, /without APP_SLUG/],
    [{ ...complete, WEBHOOK_SECRET: 'development' }, /placeholder "development"/],
    [{ ...complete, ARGOCD_SERVER: 'argocd.example.com' }, /go together/],
  ])('refuses to start in production when %j', (env, message) => {
    expect(() => checkProductionEnvironment(env as NodeJS.ProcessEnv)).toThrow(StartupError);
    expect(() => checkProductionEnvironment(env as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('never puts a secret value into its message', () => {
    let message = '';
    try {
      checkProductionEnvironment({ ...complete, ARGOCD_AUTH_TOKEN: 'argo-token-value' } as NodeJS.ProcessEnv);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/go together/);
    expect(message).not.toContain('argo-token-value');
    expect(message).not.toContain('s3cret');
  });
});
