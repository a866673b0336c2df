import { describe, expect, it } from 'vitest';
import { GitGeneratorError, gitParamSets, globToRegExp, matchesGlobs, pathParams } from '../../../src/core/sources/applicationset-git.js';

describe('Argo CD git generator', () => {
  it('globs: * stays within a segment, ** crosses them, exclude entries take files out', () => {
    expect(globToRegExp('mesh/*/config.yaml').test('mesh/1-21-2/config.yaml')).toBe(true);
    expect(globToRegExp('mesh/*/config.yaml').test('mesh/a/b/config.yaml')).toBe(false);
    expect(globToRegExp('mesh/**/config.yaml').test('mesh/a/b/config.yaml')).toBe(true);
    expect(globToRegExp('mesh/**/config.yaml').test('mesh/config.yaml')).toBe(true);
    expect(globToRegExp('mesh/config.y?ml').test('mesh/config.yaml')).toBe(true);
    expect(matchesGlobs('mesh/_t/config.yaml', { include: ['mesh/*/config.yaml'], exclude: ['mesh/_t/*'] })).toBe(false);
  });

  it('path parameters as Argo CD names them, flat for fasttemplate and nested for Go templates', () => {
    expect(pathParams('clusters/Edge EU/config.yaml', true, false)).toEqual({
      path: 'clusters/Edge EU',
      'path.basename': 'Edge EU',
      'path.basenameNormalized': 'edge-eu',
      'path.filename': 'config.yaml',
      'path.filenameNormalized': 'config.yaml',
    });
    expect(pathParams('tenants/orders', false, true)).toEqual({
      path: { path: 'tenants/orders', basename: 'orders', basenameNormalized: 'orders', segments: ['tenants', 'orders'] },
    });
  });

  it('a files generator: one parameter set per matched file; a list in a file, or no file at all, is not guessed', () => {
    const repo = new Map([
      ['mesh/a.yaml', 'revision: 1-21-2\n'],
      ['mesh/b.json', '{"revision": "1-22-1"}'],
      ['other/c.yaml', 'revision: x\n'],
    ]);
    const { sets } = gitParamSets({ files: [{ path: 'mesh/*' }] }, repo, true);
    expect(sets.map((s) => [s.file, s.params.revision])).toEqual([
      ['mesh/a.yaml', '1-21-2'],
      ['mesh/b.json', '1-22-1'],
    ]);
    expect(() => gitParamSets({ files: [{ path: 'none/*' }] }, repo, true)).toThrow(/no file of the repo matches/);
    expect(() => gitParamSets({ files: [{ path: 'l.yaml' }] }, new Map([['l.yaml', '- a: 1\n']]), true)).toThrow(/not one mapping/);
  });
});

describe('globs from the repo that make no regular expression', () => {
  it('are a GitGeneratorError (a clear template error), never a SyntaxError', () => {
    expect(() => globToRegExp('mesh/[z-a]/config.yaml')).toThrow(GitGeneratorError);
  });
});
