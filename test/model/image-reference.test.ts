import { describe, expect, it } from 'vitest';
import { parseImageReference, parseImageTag, retagImage } from '../../src/model/image-reference.js';

describe('parseImageReference', () => {
  it('splits registry, repository, tag', () => {
    expect(parseImageReference('docker.io/istio/proxyv2:1.20.3')).toMatchObject({
      name: 'docker.io/istio/proxyv2',
      repository: 'proxyv2',
      tag: '1.20.3',
      digest: null,
      version: '1.20.3',
      variant: '',
    });
  });
  it('reads a registry port as part of the name, not a tag', () => {
    expect(parseImageReference('registry:5000/istio/proxyv2:1.20.3')).toMatchObject({
      name: 'registry:5000/istio/proxyv2',
      tag: '1.20.3',
      version: '1.20.3',
    });
    expect(parseImageReference('registry:5000/istio/proxyv2')).toMatchObject({
      name: 'registry:5000/istio/proxyv2',
      tag: null,
      version: null,
    });
  });
  it('never reads a version from a digest', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`gcr.io/istio/proxyv2@${d}`)).toMatchObject({ tag: null, digest: d, version: null });
    expect(parseImageReference(`gcr.io/istio/proxyv2:1.20.3@${d}`)).toMatchObject({ tag: '1.20.3', digest: d, version: '1.20.3' });
  });
  it('keeps variants and ASM builds apart', () => {
    expect(parseImageReference('istio/proxyv2:1.20.3-distroless')).toMatchObject({ version: '1.20.3', variant: '-distroless' });
    expect(parseImageTag('1.20.3-asm.1-distroless')).toEqual({ version: '1.20.3-asm.1', variant: '-distroless' });
    expect(parseImageTag('1.20.3-asm.1')).toEqual({ version: '1.20.3-asm.1', variant: '' });
    expect(parseImageTag('latest')).toEqual({ version: null, variant: '' });
  });
  it('retags keeping the variant, and refuses a digest', () => {
    expect(retagImage('registry:5000/istio/proxyv2:1.20.3-distroless', '1.21.2')).toBe('registry:5000/istio/proxyv2:1.21.2-distroless');
    expect(retagImage(`istio/proxyv2:1.20.3@sha256:${'b'.repeat(64)}`, '1.21.2')).toBeNull();
  });
});
