import { describe, expect, it } from 'vitest';
import { editElements } from '../../../src/core/sources/applicationset-elements.js';
import { YamlEditError } from '../../../src/writer/errors.js';

const SOURCE = `# header
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: istiod
spec:
  generators:
    - list:
        elements:
          # old
          - revision: 1-20-8 # legacy
            version: "1.20.8"
            tags: '[legacy]'
          - {revision: 1-21-2, version: 1.21.2, tags: '[default]'}
  template: {}
---
kind: ConfigMap
`;
const LIST = ['spec', 'generators', 0, 'list', 'elements'];

describe('editElements: byte-exact edits of ApplicationSet generator elements', () => {
  it('patches one element in place, keeping quoting and comments', () => {
    const out = editElements('a.yaml', SOURCE, {
      op: 'patch',
      documentIndex: 0,
      path: [...LIST, 0],
      patch: { version: '1.20.9', tags: '[]' },
    });
    expect(out).toBe(SOURCE.replace('version: "1.20.8"', 'version: "1.20.9"').replace("tags: '[legacy]'", "tags: '[]'"));
  });

  it('patches a flow element and adds a key', () => {
    const out = editElements('a.yaml', SOURCE, { op: 'patch', documentIndex: 0, path: [...LIST, 1], patch: { tags: '[]', extra: 'x' } });
    expect(out).toBe(
      SOURCE.replace("{revision: 1-21-2, version: 1.21.2, tags: '[default]'}", "{revision: 1-21-2, version: 1.21.2, tags: '[]', extra: x}"),
    );
  });

  it('appends a patched copy of an element after the last one, renaming its comments', () => {
    const out = editElements('a.yaml', SOURCE, {
      op: 'append-copy',
      documentIndex: 0,
      path: [...LIST, 0],
      patch: { revision: '1-22-1', version: '1.22.1' },
    });
    expect(out).toBe(
      SOURCE.replace(
        "          - {revision: 1-21-2, version: 1.21.2, tags: '[default]'}\n",
        "          - {revision: 1-21-2, version: 1.21.2, tags: '[default]'}\n          - revision: 1-22-1 # legacy\n            version: \"1.22.1\"\n            tags: '[legacy]'\n",
      ),
    );
  });

  it('removes an element with the comment lines above it', () => {
    const out = editElements('a.yaml', SOURCE, { op: 'remove', documentIndex: 0, path: [...LIST, 0] });
    expect(out).toBe(
      SOURCE.replace(
        '          # old\n          - revision: 1-20-8 # legacy\n            version: "1.20.8"\n            tags: \'[legacy]\'\n',
        '',
      ),
    );
  });

  it('refuses to remove the only element or to append to a flow list', () => {
    const one = SOURCE.replace(/ {10}# old[\s\S]*?'\[legacy\]'\n/, '');
    expect(() => editElements('a.yaml', one, { op: 'remove', documentIndex: 0, path: [...LIST, 0] })).toThrow(YamlEditError);
    const flow = 'kind: ApplicationSet\nspec:\n  generators:\n    - list:\n        elements: [{revision: a}]\n';
    expect(() =>
      editElements('a.yaml', flow, { op: 'append-copy', documentIndex: 0, path: [...LIST, 0], patch: { revision: 'b' } }),
    ).toThrow(/flow list/);
  });
});
