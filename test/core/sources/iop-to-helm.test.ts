import { describe, expect, it } from 'vitest';
import { translateIstioOperator } from '../../../src/core/sources/iop-to-helm.js';
import type { IndexedObject } from '../../../src/model/objects.js';

const iop = (spec: Record<string, unknown>): IndexedObject => ({
  apiVersion: 'install.istio.io/v1alpha1',
  kind: 'IstioOperator',
  name: 'control-plane',
  namespace: 'istio-system',
  file: 'istio/iop.yaml',
  documentIndex: 0,
  isPatch: false,
  body: {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'control-plane' },
    spec,
  } as IndexedObject['body'],
});
const to = { name: '1-24-2', version: '1.24.2' };

describe('translateIstioOperator merges in istioctl order, field by field', () => {
  it('spec.meshConfig wins over spec.values.meshConfig, and both keep their other fields', () => {
    const { istiod } = translateIstioOperator(
      iop({
        meshConfig: { accessLogFile: '/dev/stdout', defaultConfig: { holdApplicationUntilProxyStarts: true } },
        values: { meshConfig: { accessLogFile: '/var/log/x', enableTracing: true, defaultConfig: { concurrency: 2 } } },
      }),
      to,
    );
    expect(istiod.meshConfig).toEqual({
      accessLogFile: '/dev/stdout',
      enableTracing: true,
      defaultConfig: { concurrency: 2, holdApplicationUntilProxyStarts: true },
    });
  });

  it('components.pilot.k8s maps merge over values.pilot (k8s wins per field); lists replace', () => {
    const { istiod } = translateIstioOperator(
      iop({
        values: {
          pilot: {
            resources: { requests: { cpu: '500m' }, limits: { memory: '4Gi' } },
            nodeSelector: { pool: 'system' },
            tolerations: [{ key: 'a' }],
          },
        },
        components: { pilot: { k8s: { resources: { requests: { cpu: '1' } }, nodeSelector: { zone: 'a' }, tolerations: [{ key: 'b' }] } } },
      }),
      to,
    );
    expect(istiod.resources).toEqual({ requests: { cpu: '1' }, limits: { memory: '4Gi' } });
    expect(istiod.nodeSelector).toEqual({ pool: 'system', zone: 'a' });
    expect(istiod.tolerations).toEqual([{ key: 'b' }]);
  });

  it('values.pilot and the other values are merged deeply, not replaced', () => {
    const { istiod } = translateIstioOperator(
      iop({
        values: { pilot: { env: { A: '1' } }, global: { proxy: { resources: { requests: { cpu: '10m' } } } } },
        hub: 'mirror.example.com/istio',
      }),
      to,
    );
    expect(istiod.env).toEqual({ A: '1' });
    expect(istiod.global).toEqual({ proxy: { resources: { requests: { cpu: '10m' } } }, hub: 'mirror.example.com/istio' });
  });
});
