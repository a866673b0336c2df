import { existsSync, readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; optional?: boolean; engines?: { node?: string } | string[] }>;
};

describe('declared Node.js support', () => {
  it('is true of every package `npm ci` installs (runtime and development): each supports every Node version `engines` admits', () => {
    const declared = manifest.engines.node;
    // Optional platform builds that npm leaves out where they do not fit are not installed.
    const installed = (path: string) => existsSync(new URL(`../../${path}/package.json`, import.meta.url));
    const narrower = Object.entries(lock.packages)
      .filter(
        ([path, entry]) =>
          path !== '' && (!entry.optional || installed(path)) && entry.engines && !Array.isArray(entry.engines) && entry.engines.node,
      )
      .filter(([, entry]) => !semver.subset(declared, (entry.engines as { node: string }).node))
      .map(
        ([path, entry]) => `${path.replace(/^node_modules\//, '')}@${entry.version} needs node ${(entry.engines as { node: string }).node}`,
      );
    expect(narrower, `package.json says node ${declared}`).toEqual([]);
  });

  it('admits the Node.js this runs on', () => {
    expect(semver.satisfies(process.versions.node, manifest.engines.node)).toBe(true);
  });
});
