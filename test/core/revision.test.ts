import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRevision, type Revision, revisionNameFor, versionFromImage } from '../../src/core/revision.js';
import { RevisionError } from '../../src/model/errors.js';

describe('parseRevision', () => {
  it.each([
    ['asm-1140-0', '1.14.0-asm.0', 'asm'],
    ['asm-1130-0', '1.13.0-asm.0', 'asm'],
    ['asm-1146-11', '1.14.6-asm.11', 'asm'],
    ['asm-1614-2', '1.6.14-asm.2', 'asm'],
    ['asm-1100-3', '1.10.0-asm.3', 'asm'],
    ['asm-11910-3', '1.19.10-asm.3', 'asm'],
    ['1-22-1', '1.22.1', 'oss'],
    ['1-6-8', '1.6.8', 'oss'],
    ['default-v1-30-3', '1.30.3', 'oss'],
  ])('reads %s as %s', (name, version, flavor) => {
    expect(parseRevision(name)).toEqual({ name, version, flavor });
  });

  it('splits ASM digits by the real range of releases, never by fixed widths', () => {
    // 1140 could read as 1.1.40, but Istio 1.1 never had a patch 40 (and had no revisions).
    expect(parseRevision('asm-1140-0').version).toBe('1.14.0-asm.0');
    // 1614 could read as 1.61.4; there is no Istio 1.61.
    expect(parseRevision('asm-1614-2').version).toBe('1.6.14-asm.2');
  });

  it.each([
    ['Asm-1140-0', 'lowercase'],
    ['asm_1140_0', 'lowercase DNS-1123'],
    ['-canary', 'lowercase DNS-1123'],
    ['a'.repeat(57), '56 characters'],
    ['asm-1990-0', 'matches no Istio release'],
    ['canary', 'pass --version'],
  ])('refuses %s with a reason (%s)', (name, reason) => {
    expect(() => parseRevision(name)).toThrow(RevisionError);
    expect(() => parseRevision(name)).toThrow(reason);
  });

  it('reads the managed release channels as managed revisions without a release, and refuses a version for them', () => {
    expect(parseRevision('asm-managed')).toEqual({ name: 'asm-managed', flavor: 'managed', version: null });
    expect(parseRevision('asm-managed-rapid')).toEqual({ name: 'asm-managed-rapid', flavor: 'managed', version: null });
    expect(parseRevision('asm-managed-stable').flavor).toBe('managed');
    expect(() => parseRevision('asm-managed-rapid', '1.20.1')).toThrow(RevisionError);
    expect(() => parseRevision('asm-managed-rapid', '1.20.1')).toThrow('Drop --version');
    // Not a channel: a revision that merely starts like one.
    expect(() => parseRevision('asm-managed-beta')).toThrow(RevisionError);
  });

  it('accepts any valid name with an explicit version, and checks it against what the name says', () => {
    expect(parseRevision('canary', '1.22.1')).toEqual({ name: 'canary', version: '1.22.1', flavor: 'named' });
    expect(parseRevision('1-22-1', '1.22.1')).toMatchObject({ version: '1.22.1' });
    expect(() => parseRevision('1-22-1', '1.23.0')).toThrow('encodes 1.22.1 but --version says 1.23.0');
    expect(() => parseRevision('canary', 'latest')).toThrow('not a version');
  });

  it('round-trips every plausible ASM release through its revision name', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6, max: 28 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 30 }),
        (minor, patch, build) => {
          const version = `1.${minor}.${patch}-asm.${build}`;
          const name = revisionNameFor(version, 'asm');
          let parsed: Revision;
          try {
            parsed = parseRevision(name);
          } catch (error) {
            // Only patches above the highest real release of that minor may be refused.
            expect(error).toBeInstanceOf(RevisionError);
            return;
          }
          expect(parsed.version).toBe(version);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never accepts a name that is not a lowercase DNS-1123 label of at most 56 characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), (name) => {
        const valid = name.length <= 56 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
        if (valid) return;
        expect(() => parseRevision(name, '1.22.1')).toThrow(RevisionError);
      }),
      { numRuns: 500 },
    );
  });
});

describe('versionFromImage', () => {
  it.each([
    ['gcr.io/gke-release/asm/pilot:1.13.0-asm.0', '1.13.0-asm.0'],
    ['docker.io/istio/pilot:1.22.1-distroless', '1.22.1'],
    ['docker.io/istio/pilot:latest', null],
    ['docker.io/istio/pilot@sha256:abc', null],
    ['localhost:5000/pilot', null],
  ])('%s → %s', (image, version) => {
    expect(versionFromImage(image)).toBe(version);
  });
});
