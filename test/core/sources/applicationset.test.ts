import { describe, expect, it } from 'vitest';
import { applicationSetWarnings, generatedApplications } from '../../../src/core/sources/applicationset.js';
import { buildYamlIndex } from '../../../src/core/yaml-index.js';

const appSet = (spec: string) =>
  `apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: mesh\n  namespace: argocd\nspec:\n${spec}`;

describe('ApplicationSet expansion', () => {
  it('expands a matrix of two lists with fasttemplate placeholders (spaces allowed) into every combination', () => {
    const index = buildYamlIndex(
      new Map([
        [
          'mesh.yaml',
          appSet(`  generators:
    - matrix:
        generators:
          - list:
              elements: [{cluster: eu}, {cluster: us}]
          - list:
              elements: [{chart: base, v: 1.21.2}, {chart: istiod, v: 1.21.2}]
  template:
    metadata:
      name: '{{cluster}}-{{ chart }}'
    spec:
      source: {chart: '{{chart}}', targetRevision: '{{v}}', repoURL: r}
      destination: {namespace: istio-system}
`),
        ],
      ]),
    );
    const apps = generatedApplications(index);
    expect(
      apps.map((a) => `${a.namespace}/${a.name} ${String((a.body.spec as { source: { targetRevision: string } }).source.targetRevision)}`),
    ).toEqual(['argocd/eu-base 1.21.2', 'argocd/eu-istiod 1.21.2', 'argocd/us-base 1.21.2', 'argocd/us-istiod 1.21.2']);
    expect(index.skipped).toEqual([]);
  });

  it('renders Go template field references with a default, and names an element it cannot render', () => {
    const good = buildYamlIndex(
      new Map([
        [
          'a.yaml',
          appSet(
            `  goTemplate: true\n  generators:\n    - list:\n        elements: [{revision: 1-21-2}]\n  template:\n    metadata:\n      name: 'istiod-{{ .revision }}'\n    spec:\n      project: '{{ .project | default "platform" }}'\n`,
          ),
        ],
      ]),
    );
    expect(generatedApplications(good).map((a) => [a.name, (a.body.spec as { project: string }).project])).toEqual([
      ['istiod-1-21-2', 'platform'],
    ]);
    const missing = buildYamlIndex(
      new Map([
        [
          'b.yaml',
          appSet(
            `  goTemplate: true\n  generators:\n    - list:\n        elements: [{other: x}]\n  template:\n    metadata:\n      name: 'app-{{.revision}}'\n    spec: {project: default}\n`,
          ),
        ],
      ]),
    );
    expect(generatedApplications(missing)).toEqual([]);
    expect(applicationSetWarnings(missing)).toEqual([
      {
        code: 'applicationset-unreadable',
        message: 'ApplicationSet mesh (b.yaml): the parameter revision is missing from a generator element; its Applications are not read.',
        file: 'b.yaml',
      },
    ]);
  });
});
