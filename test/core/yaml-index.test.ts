import { describe, expect, it } from 'vitest';
import { buildYamlIndex } from '../../src/core/yaml-index.js';
import { MalformedYamlError } from '../../src/model/errors.js';

describe('buildYamlIndex', () => {
  it('indexes multi-document files by apiVersion group, kind, namespace and name', () => {
    const index = buildYamlIndex(
      new Map([
        [
          'a.yaml',
          '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: istiod\n  namespace: istio-system\n',
        ],
      ]),
    );
    expect(index.objects.map((o) => [o.kind, o.documentIndex])).toEqual([
      ['Namespace', 0],
      ['HorizontalPodAutoscaler', 2],
    ]);
    expect(
      index.find({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', namespace: 'istio-system', name: 'istiod' }),
    ).toHaveLength(1);
  });

  it('skips Helm templates and non-Kubernetes YAML with a note, and ignores other files', () => {
    const index = buildYamlIndex(
      new Map([
        ['chart/templates/d.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n'],
        ['chart/values.yaml', 'replicas: 2\n'],
        ['Kptfile', 'apiVersion: kpt.dev/v1\nkind: Kptfile\n'],
        ['README.md', '# hello: [\n'],
      ]),
    );
    expect(index.objects).toEqual([]);
    expect(index.skipped.map((s) => s.file).sort()).toEqual(['chart/templates/d.yaml', 'chart/values.yaml']);
  });

  it('names the file and line of malformed YAML', () => {
    const snapshot = new Map([['clusters/prod/ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n labels: [\n']]);
    expect(() => buildYamlIndex(snapshot)).toThrow(MalformedYamlError);
    expect(() => buildYamlIndex(snapshot)).toThrow(/^clusters\/prod\/ns\.yaml:5: malformed YAML/);
  });

  it('marks kustomize patch files and applies a kustomization namespace', () => {
    const index = buildYamlIndex(
      new Map([
        ['o/kustomization.yaml', 'resources:\n- ../base\npatches:\n- path: labels.yaml\n'],
        ['o/labels.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {istio.io/rev: x}\n'],
        ['b/kustomization.yaml', 'namespace: shop\nresources:\n- app.yaml\n'],
        ['b/app.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n'],
      ]),
    );
    expect(index.ofKind('Namespace')[0]!.isPatch).toBe(true);
    expect(index.ofKind('Deployment')[0]!.namespace).toBe('shop');
  });
});
