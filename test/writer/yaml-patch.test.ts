import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { MergePatch } from '../../src/model/merge-patch.js';
import { YamlEditError } from '../../src/writer/errors.js';
import { deepEqual, mergePatchBetween } from '../../src/writer/patch-data.js';
import {
  type DocumentEdit,
  documentSource,
  editYamlText,
  editYamlTextReporting,
  identifyDocuments,
  patchYamlMappingText,
} from '../../src/writer/yaml-patch.js';
import {
  applyRfcMergePatch,
  applyWriterPatch,
  changedLines,
  isLineSubsequence,
  parseStrict,
  resolveEmbedded,
} from '../helpers/yaml-patch-reference.js';

interface Target {
  readonly documentIndex?: number;
  readonly kind?: string | null;
  readonly name?: string | null;
}

function editOf(patch: MergePatch, target: Target = {}): DocumentEdit {
  return { documentIndex: target.documentIndex ?? 0, kind: target.kind ?? null, name: target.name ?? null, patch };
}

/** Edits with the default writer, and checks the full-CST path gives the very same bytes. */
function edit(source: string, patch: MergePatch, target: Target = {}): string {
  const out = editYamlText('test.yaml', source, [editOf(patch, target)]);
  expect(out).not.toBeNull();
  expect(editYamlText('test.yaml', source, [editOf(patch, target)], { fastPath: false })).toBe(out);
  return out!;
}

/**
 * Applies `patch`, then checks the contract that holds for every edit: the output parses, every
 * document parses to the reference merge of the original, and applying the patch again changes
 * nothing. Returns the output for byte-level assertions.
 */
function expectPatched(source: string, patch: MergePatch, target: Target = {}): string {
  const out = edit(source, patch, target);
  const before = parseStrict(source);
  const after = parseStrict(out);
  const index = target.documentIndex ?? 0;
  const expected = before.map((doc, i) => (i === index ? applyWriterPatch(doc, patch) : doc));
  expect(resolveEmbedded(after, expected)).toEqual(expected);
  const again = editYamlTextReporting('test.yaml', out, [editOf(patch, target)]);
  expect(again.text).toBe(out);
  expect([...again.changed]).toEqual([]);
  return out;
}

const NAMESPACE = `apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  labels:
    istio-injection: enabled # managed by platform team
    team: storefront
  annotations:
    owner: "storefront@example.com"
`;

describe('editYamlText: scalar values', () => {
  const source = `# header comment
metadata:
  annotations:
    plain: old # keep me
    single: 'old'
    double: "old"
    count: 1
spec: {}
`;

  it.each<[string, string | number | boolean, string]>([
    ['plain', 'asm-1140-0', 'plain: asm-1140-0 # keep me'],
    ['plain', 'true', 'plain: "true" # keep me'],
    ['plain', 'yes', 'plain: "yes" # keep me'],
    ['plain', '0123', 'plain: "0123" # keep me'],
    ['plain', '', 'plain: "" # keep me'],
    ['plain', 'a: b', 'plain: "a: b" # keep me'],
    ['plain', 'x #y', 'plain: "x #y" # keep me'],
    ['plain', 42, 'plain: 42 # keep me'],
    ['plain', false, 'plain: false # keep me'],
    ['single', 'new', "single: 'new'"],
    ['single', "it's", "single: 'it''s'"],
    ['single', 'true', "single: 'true'"],
    ['double', 'new', 'double: "new"'],
    ['double', 'say "hi"', 'double: "say \\"hi\\""'],
    ['double', 7, 'double: 7'],
    ['count', 2, 'count: 2'],
    ['count', 'two', 'count: two'],
    ['count', '2', 'count: "2"'],
  ])('replaces %s with %j keeping the quoting style where it can', (key, value, line) => {
    const out = expectPatched(source, { metadata: { annotations: { [key]: value } } });
    const changes = changedLines(source, out);
    expect(changes).toHaveLength(1);
    expect(changes[0]![1]).toBe(`    ${line}`);
  });

  it.each<[string, string | number | boolean]>([
    ['plain', 'old'],
    ['single', 'old'],
    ['double', 'old'],
    ['count', 1],
  ])('setting %s to its current value %j is a no-op and is not reported', (key, value) => {
    const result = editYamlTextReporting('test.yaml', source, [editOf({ metadata: { annotations: { [key]: value } } })]);
    expect(result.text).toBe(source);
    expect([...result.changed]).toEqual([]);
  });

  it('finds quoted keys and keeps their quotes', () => {
    const src = 'metadata:\n  labels:\n    "istio.io/rev": asm-1130-0\n    \'app\': web\n';
    const out = expectPatched(src, { metadata: { labels: { 'istio.io/rev': 'asm-1140-0', app: 'api' } } });
    expect(out).toBe('metadata:\n  labels:\n    "istio.io/rev": asm-1140-0\n    \'app\': api\n');
  });

  it('replaces a plain scalar that continues on the next line', () => {
    const src = 'a: foo\n  bar\nb: 1\n';
    expect(expectPatched(src, { a: 'z' })).toBe('a: z\nb: 1\n');
  });

  it('keeps a file without a final newline that way when the edit is elsewhere', () => {
    const src = 'metadata:\n  name: x\n  namespace: a # n\nspec:\n  replicas: 1';
    expect(expectPatched(src, { metadata: { namespace: 'b' } }, { name: 'x' })).toBe(
      'metadata:\n  name: x\n  namespace: b # n\nspec:\n  replicas: 1',
    );
  });

  it('replaces a map or a list by a scalar, and a map by a list', () => {
    const src = 'a:\n  b: 1\nc:\n- 1\nd:\n  e: 2\nz: 0\n';
    expect(expectPatched(src, { a: 'x', c: 'w', d: [1, 2] })).toBe('a: x\nc: w\nd: [1, 2]\nz: 0\n');
  });

  it('replaces a flow list by a map in flow style, keeping the comment', () => {
    expect(expectPatched('a: [1, 2] # c\nb: 1\n', { a: { x: 1 } })).toBe('a: {x: 1} # c\nb: 1\n');
  });

  it('replaces an empty string by a block map', () => {
    expect(expectPatched('a: ""\nb: 1\n', { a: { x: 1 } })).toBe('a:\n  x: 1\nb: 1\n');
  });
});

describe('editYamlText: namespace relabel', () => {
  it('turns istio-injection into istio.io/rev in place, keeping the end-of-line comment', () => {
    const out = expectPatched(
      NAMESPACE,
      { metadata: { labels: { 'istio-injection': null, 'istio.io/rev': 'asm-1140-0' } } },
      { kind: 'Namespace', name: 'bookinfo' },
    );
    expect(out).toBe(NAMESPACE.replace('istio-injection: enabled #', 'istio.io/rev: asm-1140-0 #'));
  });

  it.each([
    ['2-space', '  ', "'enabled'", "'asm-1140-0'"],
    ['4-space', '    ', 'enabled', 'asm-1140-0'],
    ['4-space, double-quoted', '    ', '"enabled"', '"asm-1140-0"'],
    ['2-space, quoted key', '  ', '"enabled"', '"asm-1140-0"'],
  ])('is a one-line diff (%s)', (_name, indent, before, after) => {
    const i = indent;
    const src = `---\n# a namespace\napiVersion: v1\nkind: Namespace\nmetadata:\n${i}name: shop\n${i}labels:\n${i}${i}# mesh membership\n${i}${i}istio-injection: ${before} # old style\n${i}${i}team: shop\n`;
    const out = expectPatched(
      src,
      { metadata: { labels: { 'istio-injection': null, 'istio.io/rev': 'asm-1140-0' } } },
      { kind: 'Namespace', name: 'shop' },
    );
    expect(changedLines(src, out)).toEqual([
      [`${i}${i}istio-injection: ${before} # old style`, `${i}${i}istio.io/rev: ${after} # old style`],
    ]);
  });

  it('bumps istio.io/rev in place', () => {
    const src = NAMESPACE.replace('istio-injection: enabled', 'istio.io/rev: asm-1130-0');
    const out = expectPatched(src, { metadata: { labels: { 'istio.io/rev': 'asm-1140-0' } } }, { kind: 'Namespace', name: 'bookinfo' });
    expect(out).toBe(NAMESPACE.replace('istio-injection: enabled', 'istio.io/rev: asm-1140-0'));
  });

  it('replaces the first removed key in place and deletes the lines of the others', () => {
    const src = 'metadata:\n  labels:\n    # legacy\n    istio-injection: enabled # a\n    app: web\n    istio.io/rev: asm-1130-0 # b\n';
    const out = expectPatched(src, { metadata: { labels: { 'istio-injection': null, 'istio.io/rev': null, 'istio.io/tag': 'prod' } } });
    expect(out).toBe('metadata:\n  labels:\n    # legacy\n    istio.io/tag: prod # a\n    app: web\n');
  });

  it('removes a label without a replacement, keeping the comment lines around it', () => {
    const src = 'metadata:\n  labels:\n    app: web\n    # mesh\n    istio-injection: enabled # x\n    # team below\n    team: a\n';
    expect(expectPatched(src, { metadata: { labels: { 'istio-injection': null } } })).toBe(
      'metadata:\n  labels:\n    app: web\n    # mesh\n    # team below\n    team: a\n',
    );
  });

  it('quotes a new key that YAML would read as something else', () => {
    const src = 'metadata:\n  labels:\n    app: web\n';
    expect(expectPatched(src, { metadata: { labels: { yes: 'v', '1.5': 'on', 'a b': 'c' } } })).toBe(
      'metadata:\n  labels:\n    app: web\n    "yes": v\n    "1.5": "on"\n    a b: c\n',
    );
  });
});

describe('editYamlText: adding keys', () => {
  const RESTART = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } } } } };

  it('adds a restart annotation to an existing annotations block', () => {
    const src = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: productpage-v1
spec:
  template:
    metadata:
      annotations:
        prometheus.io/scrape: "true" # scrape me
      labels:
        app: productpage
    spec:
      containers:
      - name: productpage
        image: docker.io/istio/examples-bookinfo-productpage-v1:1.16.4
`;
    const out = expectPatched(src, RESTART, { kind: 'Deployment', name: 'productpage-v1' });
    expect(out).toBe(
      src.replace(
        '        prometheus.io/scrape: "true" # scrape me\n',
        '        prometheus.io/scrape: "true" # scrape me\n        kubectl.kubernetes.io/restartedAt: "2024-05-01T10:00:00Z"\n',
      ),
    );
  });

  it('creates the annotations block next to the pod template labels', () => {
    const src = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: details-v1
spec:
  # no replicas: defaults to 1
  template:
    metadata:
      labels:
        app: details # the app
        version: v1
    spec:
      containers:
      - name: details
`;
    const out = expectPatched(src, RESTART, { kind: 'Deployment', name: 'details-v1' });
    expect(out).toBe(
      src.replace(
        '        version: v1\n',
        '        version: v1\n      annotations:\n        kubectl.kubernetes.io/restartedAt: "2024-05-01T10:00:00Z"\n',
      ),
    );
  });

  it('creates the whole pod template metadata when it is missing', () => {
    const src = 'spec:\n  template:\n    spec:\n      containers: []\n';
    expect(expectPatched(src, RESTART)).toBe(
      'spec:\n  template:\n    spec:\n      containers: []\n    metadata:\n      annotations:\n        kubectl.kubernetes.io/restartedAt: "2024-05-01T10:00:00Z"\n',
    );
  });

  it('creates a missing nested map at its siblings column in a 4-space file', () => {
    const src =
      'spec:\n    template:\n        metadata:\n            labels:\n                app: x\n        spec:\n            containers: []\n';
    const out = expectPatched(src, RESTART);
    const lines = out.split('\n');
    const at = lines.findIndex((l) => l.trimStart().startsWith('annotations:'));
    expect(lines[at]).toBe('            annotations:');
    expect(lines[at + 1]!.trimStart()).toBe('kubectl.kubernetes.io/restartedAt: "2024-05-01T10:00:00Z"');
    expect(lines[at + 1]!.length - lines[at + 1]!.trimStart().length).toBeGreaterThan(12);
    expect(isLineSubsequence(src, out)).toBe(true);
  });

  it.each([
    ['literal', 'data:\n  mesh: |\n    a: 1\n    b: 2\nnext: 1\n', 'data:\n  mesh: |\n    a: 1\n    b: 2\n  added: x\nnext: 1\n'],
    ['strip', 'data:\n  mesh: |-\n    a: 1\nnext: 1\n', 'data:\n  mesh: |-\n    a: 1\n  added: x\nnext: 1\n'],
    ['folded', 'data:\n  mesh: >\n    a b\n    c d\nnext: 1\n', 'data:\n  mesh: >\n    a b\n    c d\n  added: x\nnext: 1\n'],
    ['followed by a blank line', 'data:\n  mesh: |\n    a: 1\n\nnext: 1\n', 'data:\n  mesh: |\n    a: 1\n  added: x\n\nnext: 1\n'],
    ['keep, with trailing blank lines', 'data:\n  mesh: |+\n    a: 1\n\nnext: 1\n', 'data:\n  mesh: |+\n    a: 1\n\n  added: x\nnext: 1\n'],
    ['at end of file', 'data:\n  mesh: |\n    a: 1\n', 'data:\n  mesh: |\n    a: 1\n  added: x\n'],
    ['before the next document', 'data:\n  mesh: |\n    a: 1\n---\nb: 1\n', 'data:\n  mesh: |\n    a: 1\n  added: x\n---\nb: 1\n'],
  ])('adds a key after a map whose last value is a block scalar (%s)', (_name, src, expected) => {
    expect(expectPatched(src, { data: { added: 'x' } })).toBe(expected);
  });

  it('adds after a block scalar at end of file without a final newline (valid and complete)', () => {
    const src = 'data:\n  mesh: |\n    a: 1';
    const out = expectPatched(src, { data: { added: 'x' } });
    expect(out.startsWith(`${src}\n  added: x`)).toBe(true);
  });

  it('fills a key that has no value', () => {
    const src = 'metadata:\n  name: x\n  annotations:\n  labels:\n    a: b\n';
    expect(expectPatched(src, { metadata: { annotations: { k: 'v' } } }, { name: 'x' })).toBe(
      'metadata:\n  name: x\n  annotations:\n    k: v\n  labels:\n    a: b\n',
    );
  });

  it('adds to an empty flow map in flow style', () => {
    const src = 'metadata:\n  annotations: {} # none yet\n  name: x\n';
    expect(expectPatched(src, { metadata: { annotations: { 'sidecar.istio.io/inject': 'true' } } }, { name: 'x' })).toBe(
      'metadata:\n  annotations: {sidecar.istio.io/inject: "true"} # none yet\n  name: x\n',
    );
  });

  it('adds to a map that starts on a "- " line at the column of its keys', () => {
    const src = 'spec:\n  containers:\n  - name: app\n    image: app:1\n  - name: istio-proxy\n    image: proxyv2:1.13 # old\nstatus: {}\n';
    expect(expectPatched(src, { spec: { containers: [{ name: 'istio-proxy', imagePullPolicy: 'Always' }] } })).toBe(
      'spec:\n  containers:\n  - name: app\n    image: app:1\n  - name: istio-proxy\n    image: proxyv2:1.13 # old\n    imagePullPolicy: Always\nstatus: {}\n',
    );
  });

  it('renders new nested maps as blocks and lists in flow style, dropping nulls', () => {
    const src = 'kind: X\n';
    expect(expectPatched(src, { spec: { a: { b: 1, gone: null }, list: ['x', 2, true], empty: {} } }, { kind: 'X' })).toBe(
      'kind: X\nspec:\n  a:\n    b: 1\n  list: [x, 2, true]\n  empty: {}\n',
    );
  });

  it('adds to a nested map and to its parent in one patch, in order', () => {
    const src = 'a:\n  b:\n    c:\n      d: 1\nz: 0\n';
    expect(expectPatched(src, { a: { x: 1, b: { c: { e: 2 }, w: 3 } } })).toBe(
      'a:\n  b:\n    c:\n      d: 1\n      e: 2\n    w: 3\n  x: 1\nz: 0\n',
    );
  });

  it('adds after a last item whose value is a block list at the key column', () => {
    const src = 'spec:\n  finalizers:\n  - kubernetes\nstatus: {}\n';
    expect(expectPatched(src, { spec: { x: 1 } })).toBe('spec:\n  finalizers:\n  - kubernetes\n  x: 1\nstatus: {}\n');
  });
});

describe('editYamlText: removing keys', () => {
  it('removes a key with its nested block', () => {
    const src = 'metadata:\n  annotations:\n    a: 1\n    b:\n      c: 1 # deep\n  labels: {}\nz: 1\n';
    expect(expectPatched(src, { metadata: { annotations: null } })).toBe('metadata:\n  labels: {}\nz: 1\n');
  });

  it('removes a key whose value is a block scalar', () => {
    const src = 'data:\n  a: |\n    line\n  b: 1\n';
    expect(expectPatched(src, { data: { a: null } })).toBe('data:\n  b: 1\n');
  });

  it.each([
    [
      '2-space',
      'metadata:\n  name: legacy\n  labels:\n    istio-injection: enabled # old\n  annotations: {}\n',
      'metadata:\n  name: legacy\n  labels: {}\n  annotations: {}\n',
    ],
    [
      '4-space, last in file',
      'metadata:\n    name: legacy\n    labels:\n        a: b\n        c: d',
      'metadata:\n    name: legacy\n    labels: {}\n',
    ],
    ['flow', 'metadata:\n  name: legacy\n  labels: {a: b, c: d} # x\n', 'metadata:\n  name: legacy\n  labels: {} # x\n'],
  ])('leaves {} when every key of a map goes (%s)', (_name, src, expected) => {
    const labels = (parse(src) as { metadata: { labels: Record<string, unknown> } }).metadata.labels;
    const patch = { metadata: { labels: Object.fromEntries(Object.keys(labels).map((k) => [k, null])) } };
    expect(expectPatched(src, patch, { name: 'legacy' })).toBe(expected);
  });

  it('ignores removal of an absent key', () => {
    const result = editYamlTextReporting('t.yaml', NAMESPACE, [
      editOf({ metadata: { labels: { nope: null }, nothing: null } }, { kind: 'Namespace', name: 'bookinfo' }),
    ]);
    expect(result.text).toBe(NAMESPACE);
    expect(result.changed.size).toBe(0);
  });

  it('refuses to remove a key that shares its line with a "- " indicator', () => {
    const src = 'containers:\n- image: x\n  name: app\n';
    expect(() => edit(src, { containers: [{ name: 'app', image: null }] })).toThrow(YamlEditError);
  });

  it('refuses to empty a whole document', () => {
    expect(() => edit('a: 1\n', { a: null })).toThrow(YamlEditError);
  });
});

const WEBHOOKS = `# Output of istioctl tag generate; caBundle stripped.
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-revision-tag-default
  labels:
    istio.io/tag: default
    istio.io/rev: asm-1130-0 # managed by platform team
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig:
    service:
      name: istiod-asm-1130-0
      namespace: istio-system
      path: "/inject"
      port: 443
  rules:
  - operations: [ "CREATE" ]
    apiGroups: [""]
- name: rev.object.sidecar-injector.istio.io
  clientConfig:
    service: {name: istiod-asm-1130-0, namespace: istio-system, path: "/inject"}
  admissionReviewVersions: ["v1beta1", "v1"]
- name: "namespace.sidecar-injector.istio.io"
  clientConfig:
    service:
      namespace: istio-system
      name: 'istiod-asm-1130-0' # quoted
  failurePolicy: Fail
-   name: object.sidecar-injector.istio.io
    clientConfig:
        service:
            name: istiod-asm-1130-0
            namespace: istio-system
`;

describe('editYamlText: named lists', () => {
  const names = ['rev.namespace', 'rev.object', 'namespace', 'object'].map((n) => `${n}.sidecar-injector.istio.io`);

  it('changes clientConfig.service.name in all four webhooks, one line each', () => {
    const patch: MergePatch = {
      metadata: { labels: { 'istio.io/rev': 'asm-1140-0' } },
      webhooks: names.map((name) => ({ name, clientConfig: { service: { name: 'istiod-asm-1140-0' } } })),
    };
    const out = expectPatched(WEBHOOKS, patch, { kind: 'MutatingWebhookConfiguration', name: 'istio-revision-tag-default' });
    expect(changedLines(WEBHOOKS, out)).toEqual([
      ['    istio.io/rev: asm-1130-0 # managed by platform team', '    istio.io/rev: asm-1140-0 # managed by platform team'],
      ['      name: istiod-asm-1130-0', '      name: istiod-asm-1140-0'],
      [
        '    service: {name: istiod-asm-1130-0, namespace: istio-system, path: "/inject"}',
        '    service: {name: istiod-asm-1140-0, namespace: istio-system, path: "/inject"}',
      ],
      ["      name: 'istiod-asm-1130-0' # quoted", "      name: 'istiod-asm-1140-0' # quoted"],
      ['            name: istiod-asm-1130-0', '            name: istiod-asm-1140-0'],
    ]);
  });

  it('edits only the named element and leaves the others alone', () => {
    const patch: MergePatch = { webhooks: [{ name: names[2]!, failurePolicy: 'Ignore' }] };
    const out = expectPatched(WEBHOOKS, patch, { kind: 'MutatingWebhookConfiguration', name: 'istio-revision-tag-default' });
    expect(changedLines(WEBHOOKS, out)).toEqual([['  failurePolicy: Fail', '  failurePolicy: Ignore']]);
  });

  it('edits named elements of a flow list', () => {
    const src = 'containers: [{name: a, image: "a:1"}, {name: b, image: "b:1"}]\n';
    expect(expectPatched(src, { containers: [{ name: 'b', image: 'b:2' }] })).toBe(
      'containers: [{name: a, image: "a:1"}, {name: b, image: "b:2"}]\n',
    );
  });

  it('throws when a named element does not exist', () => {
    expect(() =>
      edit(
        WEBHOOKS,
        { webhooks: [{ name: 'nope', failurePolicy: 'Ignore' }] },
        { kind: 'MutatingWebhookConfiguration', name: 'istio-revision-tag-default' },
      ),
    ).toThrow(YamlEditError);
  });

  it('throws when the value to merge by name is not a list', () => {
    expect(() => edit('webhooks: {a: 1}\n', { webhooks: [{ name: 'a' }] })).toThrow(YamlEditError);
  });
});

describe('editYamlText: lists of maps written as blocks', () => {
  it('writes a new list of maps as a block sequence, nested maps indented under each item', () => {
    const src = 'validate:\n  message: need it # why\n  pattern:\n    a: 1\n';
    const out = expectPatched(src, {
      validate: { pattern: null, anyPattern: [{ metadata: { labels: { x: 'on-call' } } }, { b: 2, c: [1, 2] }] },
    });
    expect(out).toBe(
      'validate:\n  message: need it # why\n  anyPattern:\n    - metadata:\n        labels:\n          x: on-call\n    - b: 2\n      c: [1, 2]\n',
    );
  });

  it('replaces a block list of maps with one of the same indentation, zero-indented or not', () => {
    const indented = 'parameters:\n  labels:\n    - key: a # first\n      allowedRegex: "^x$"\n  message: m\n';
    expect(expectPatched(indented, { parameters: { labels: [{ key: 'b' }, { key: 'c', allowedRegex: 'z' }] } })).toBe(
      'parameters:\n  labels:\n    - key: b\n    - key: c\n      allowedRegex: z\n  message: m\n',
    );
    const flush = 'labels:\n- key: a\nmessage: m\n';
    expect(expectPatched(flush, { labels: [{ key: 'b' }] })).toBe('labels:\n- key: b\nmessage: m\n');
  });

  it('keeps a flow list flow', () => {
    expect(expectPatched('labels: [{key: a}]\n', { labels: [{ key: 'b' }] })).toBe('labels: [{key: b}]\n');
  });
});

describe('editYamlText: lists of scalars (kustomization resources)', () => {
  const KUSTOMIZATION = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# Environment-agnostic base.
resources:
- namespaces.yaml # first
- apps/
- "istiod-asm-1130-0.yaml"
patches:
- path: namespace-labels.yaml
`;

  const K = { kind: 'Kustomization' };

  it('appends a new entry after the last one', () => {
    const out = expectPatched(
      KUSTOMIZATION,
      { resources: ['namespaces.yaml', 'apps/', 'istiod-asm-1130-0.yaml', 'istiod-asm-1140-0.yaml'] },
      K,
    );
    expect(out).toBe(KUSTOMIZATION.replace('- "istiod-asm-1130-0.yaml"\n', '- "istiod-asm-1130-0.yaml"\n- istiod-asm-1140-0.yaml\n'));
  });

  it('removes an entry line and keeps the others byte for byte', () => {
    const out = expectPatched(KUSTOMIZATION, { resources: ['namespaces.yaml', 'istiod-asm-1130-0.yaml'] }, K);
    expect(out).toBe(KUSTOMIZATION.replace('- apps/\n', ''));
  });

  it('adds and removes at once', () => {
    const out = expectPatched(KUSTOMIZATION, { resources: ['namespaces.yaml', 'apps/', 'istiod-asm-1140-0.yaml'] }, K);
    expect(out).toBe(KUSTOMIZATION.replace('- "istiod-asm-1130-0.yaml"\n', '- istiod-asm-1140-0.yaml\n'));
  });

  it('replaces every entry', () => {
    expect(expectPatched(KUSTOMIZATION, { resources: ['x.yaml'] }, K)).toBe(
      KUSTOMIZATION.replace('- namespaces.yaml # first\n- apps/\n- "istiod-asm-1130-0.yaml"\n', '- x.yaml\n'),
    );
  });

  it('leaves [] when the list is emptied', () => {
    expect(expectPatched(KUSTOMIZATION, { resources: [] }, K)).toBe(
      KUSTOMIZATION.replace('resources:\n- namespaces.yaml # first\n- apps/\n- "istiod-asm-1130-0.yaml"\n', 'resources: []\n'),
    );
  });

  it('indents new entries like the existing ones', () => {
    const src = 'resources:\n  - ../../base\n  - istio-system/\npatches:\n  - path: x.yaml\n';
    expect(expectPatched(src, { resources: ['../../base', 'istio-system/', 'istio-ingress/'] })).toBe(
      'resources:\n  - ../../base\n  - istio-system/\n  - istio-ingress/\npatches:\n  - path: x.yaml\n',
    );
  });

  it('appends at the end of a file without a final newline (valid and complete)', () => {
    const src = 'resources:\n- a.yaml\n- b.yaml';
    const out = expectPatched(src, { resources: ['a.yaml', 'b.yaml', 'c.yaml'] });
    expect(out.startsWith(`${src}\n- c.yaml`)).toBe(true);
  });

  it('quotes new entries that would not read back as strings', () => {
    const src = 'args:\n- --log\n';
    expect(expectPatched(src, { args: ['--log', 'true', '- x'] })).toBe('args:\n- --log\n- "true"\n- "- x"\n');
  });

  it.each([
    ['add', 'resources: [a.yaml, b.yaml] # flow\n', ['a.yaml', 'b.yaml', 'c.yaml']],
    ['remove', 'resources: [a.yaml, b.yaml] # flow\n', ['b.yaml']],
    ['empty', 'resources: [a.yaml, b.yaml] # flow\n', []],
    ['from empty', 'resources: [] # flow\n', ['a.yaml']],
  ])('edits a flow list (%s), staying in flow style and keeping the comment', (_name, src, list) => {
    const out = expectPatched(src, { resources: list });
    expect(out).toBe(`resources: [${list.join(', ')}] # flow\n`);
  });

  it('is a no-op for the same list', () => {
    const result = editYamlTextReporting('k.yaml', KUSTOMIZATION, [
      editOf({ resources: ['namespaces.yaml', 'apps/', 'istiod-asm-1130-0.yaml'] }, K),
    ]);
    expect(result.text).toBe(KUSTOMIZATION);
    expect(result.changed.size).toBe(0);
  });

  it('keeps the existing order of a block list (reordering alone is not applied, by design)', () => {
    const result = editYamlTextReporting('k.yaml', KUSTOMIZATION, [
      editOf({ resources: ['istiod-asm-1130-0.yaml', 'apps/', 'namespaces.yaml'] }, K),
    ]);
    expect(result.text).toBe(KUSTOMIZATION);
  });

  it('turns a scalar into a list', () => {
    expect(expectPatched('resources: a.yaml\nx: 1\n', { resources: ['a.yaml', 'b.yaml'] })).toBe('resources: [a.yaml, b.yaml]\nx: 1\n');
  });
});

describe('editYamlText: YAML inside strings (Helm values)', () => {
  const RELEASE = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: istiod-1-21-2
spec:
  chart:
    spec: {chart: istiod, version: 1.21.2}
  values: |
    # values for the canary
    revision: "1-21-2" # the revision
    pilot:
      autoscaleMin: 2

      env:
        PILOT_ENABLE_STATUS: true
    revisionTags:
      - default
  install: {}
`;

  it('edits a value inside a literal block, keeping comments, blank lines and quoting', () => {
    const out = expectPatched(
      RELEASE,
      { spec: { values: { revision: '1-22-1', pilot: { autoscaleMin: 3 } } } },
      { kind: 'HelmRelease', name: 'istiod-1-21-2' },
    );
    expect(out).toBe(RELEASE.replace('revision: "1-21-2"', 'revision: "1-22-1"').replace('autoscaleMin: 2', 'autoscaleMin: 3'));
  });

  it('adds and removes keys inside a literal block at its indentation', () => {
    const out = expectPatched(
      RELEASE,
      { spec: { values: { revisionTags: null, pilot: { env: { NEW: 'x' } } } } },
      { kind: 'HelmRelease', name: 'istiod-1-21-2' },
    );
    expect(out).toBe(
      RELEASE.replace('        PILOT_ENABLE_STATUS: true\n', '        PILOT_ENABLE_STATUS: true\n        NEW: x\n').replace(
        '    revisionTags:\n      - default\n',
        '',
      ),
    );
  });

  it('is a no-op when the embedded values already match', () => {
    const result = editYamlTextReporting('r.yaml', RELEASE, [
      editOf({ spec: { values: { revision: '1-21-2', pilot: { autoscaleMin: 2 } } } }, { kind: 'HelmRelease', name: 'istiod-1-21-2' }),
    ]);
    expect(result.text).toBe(RELEASE);
    expect(result.changed.size).toBe(0);
  });

  it('edits YAML held in a quoted string', () => {
    const src = "values: 'revision: 1-21-2'\nother: 1\n";
    const out = expectPatched(src, { values: { revision: '1-22-1' } });
    expect((parse(out) as { values: string }).values).toBe('revision: 1-22-1');
    expect(out.endsWith('\nother: 1\n')).toBe(true);
  });

  it('patchYamlMappingText edits a bare mapping text', () => {
    const text = '# top\nrevision: 1-21-2 # rev\nglobal:\n  hub: gcr.io/istio\n';
    expect(patchYamlMappingText('v', text, { revision: '1-22-1', global: { tag: '1.22.1' } })).toBe(
      '# top\nrevision: 1-22-1 # rev\nglobal:\n  hub: gcr.io/istio\n  tag: 1.22.1\n',
    );
  });

  it('patchYamlMappingText refuses text that is not a mapping', () => {
    expect(() => patchYamlMappingText('v', '- a\n', { a: 1 })).toThrow(YamlEditError);
    expect(() => patchYamlMappingText('v', '', { a: 1 })).toThrow(YamlEditError);
  });
});

describe('editYamlText: flow maps', () => {
  const src = 'metadata:\n  name: web\n  labels: {app: web, istio-injection: enabled} # flow\nspec: {}\n';

  it('edits a value in a flow map in place', () => {
    expect(expectPatched(src, { metadata: { labels: { 'istio-injection': 'disabled' } } }, { name: 'web' })).toBe(
      src.replace('enabled', 'disabled'),
    );
  });

  it('adds and removes keys of a flow map', () => {
    expect(expectPatched(src, { metadata: { labels: { 'istio-injection': null, 'istio.io/rev': 'asm-1140-0' } } }, { name: 'web' })).toBe(
      src.replace('{app: web, istio-injection: enabled}', '{app: web, istio.io/rev: asm-1140-0}'),
    );
  });

  it('edits nested flow maps and flow metadata', () => {
    const flow = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/rev: "asm-1130-0"}}\n';
    expect(expectPatched(flow, { metadata: { labels: { 'istio.io/rev': 'asm-1140-0' } } }, { kind: 'Namespace', name: 'shop' })).toBe(
      flow.replace('1130', '1140'),
    );
  });

  it('adds a nested map to a flow map in flow style', () => {
    expect(expectPatched('m: {a: 1}\n', { m: { b: { c: [1, 'x'] } } })).toBe('m: {a: 1, b: {c: [1, x]}}\n');
  });
});

describe('editYamlText: documents', () => {
  const THREE = `---
# first
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
# second
apiVersion: v1
kind: Namespace
metadata:
  name: b
---
apiVersion: v1
kind: Namespace
metadata:
  name: c
  labels:
    team: c # end`;

  const remove = (documentIndex: number, name: string): DocumentEdit => ({ documentIndex, kind: 'Namespace', name, remove: true });

  it('removes the middle document of three, keeping the others byte for byte', () => {
    expect(editYamlText('ns.yaml', THREE, [remove(1, 'b')])).toBe(
      THREE.replace('---\n# second\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n', ''),
    );
  });

  it('removes the first document', () => {
    const out = editYamlText('ns.yaml', THREE, [remove(0, 'a')])!;
    expect(out).toBe(THREE.slice(THREE.indexOf('---\n# second')));
    expect(parseStrict(out)).toHaveLength(2);
  });

  it('removes the last document (and its separator)', () => {
    const out = editYamlText('ns.yaml', THREE, [remove(2, 'c')])!;
    expect(out).toBe(THREE.slice(0, THREE.lastIndexOf('---\napiVersion')));
    expect(parseStrict(out).map((d) => (d as { metadata: { name: string } }).metadata.name)).toEqual(['a', 'b']);
  });

  it('returns null when every document goes', () => {
    const result = editYamlTextReporting('ns.yaml', THREE, [remove(0, 'a'), remove(1, 'b'), remove(2, 'c')]);
    expect(result.text).toBeNull();
    expect([...result.changed].sort()).toEqual([0, 1, 2]);
  });

  it('removes a document that ends with "..."', () => {
    const src = 'a: 1\n...\n---\nb: 2\n...\n';
    expect(editYamlText('x.yaml', src, [{ documentIndex: 0, kind: null, name: null, remove: true }])).toBe('---\nb: 2\n...\n');
  });

  it('edits one document and leaves the others byte for byte', () => {
    const out = expectPatched(THREE, { metadata: { labels: { team: 'bee' } } }, { documentIndex: 1, kind: 'Namespace', name: 'b' });
    expect(out).toBe(THREE.replace('  name: b\n', '  name: b\n  labels:\n    team: bee\n'));
  });

  it('edits and removes in one call', () => {
    const out = editYamlText('ns.yaml', THREE, [
      remove(0, 'a'),
      editOf({ metadata: { labels: { team: null, x: 'z' } } }, { documentIndex: 2, kind: 'Namespace', name: 'c' }),
    ]);
    expect(out).toBe(THREE.slice(THREE.indexOf('---\n# second')).replace('team: c # end', 'x: z # end'));
  });

  it('finds a document by kind and name when its index is stale', () => {
    const result = editYamlTextReporting('ns.yaml', THREE, [
      editOf({ metadata: { labels: { team: 'z' } } }, { documentIndex: 0, kind: 'Namespace', name: 'c' }),
    ]);
    expect(result.text).toBe(THREE.replace('team: c', 'team: z'));
    expect([...result.changed]).toEqual([0]);
  });

  it('throws a YamlEditError naming the file when no document matches', () => {
    expect(() => editYamlText('ns.yaml', THREE, [editOf({ a: 1 }, { documentIndex: 1, kind: 'Namespace', name: 'zzz' })])).toThrow(
      /^ns\.yaml: cannot find Namespace zzz/,
    );
    expect(() => editYamlText('ns.yaml', THREE, [editOf({ a: 1 }, { documentIndex: 1, kind: 'Service', name: 'b' })])).toThrow(
      YamlEditError,
    );
  });

  it('throws when the document is not a mapping', () => {
    expect(() => editYamlText('l.yaml', '- a\n- b\n', [editOf({ a: 1 })])).toThrow(YamlEditError);
  });

  it('returns the source unchanged for no edits', () => {
    const result = editYamlTextReporting('ns.yaml', THREE, []);
    expect(result.text).toBe(THREE);
    expect(result.changed.size).toBe(0);
  });

  it('reports only the edits that changed something', () => {
    const result = editYamlTextReporting('ns.yaml', THREE, [
      editOf({ metadata: { labels: { team: 'c' } } }, { documentIndex: 2, kind: 'Namespace', name: 'c' }),
      editOf({ metadata: { labels: { team: 'd' } } }, { documentIndex: 2, kind: 'Namespace', name: 'c' }),
      editOf({ metadata: { nothing: null } }, { documentIndex: 0, kind: 'Namespace', name: 'a' }),
    ]);
    expect([...result.changed]).toEqual([1]);
    expect(result.text).toBe(THREE.replace('team: c', 'team: d'));
  });
});

describe('identifyDocuments', () => {
  it('reads apiVersion, kind and metadata.name of every document, including empty ones', () => {
    const src =
      '# c\napiVersion: v1\nkind: Namespace # ns\nmetadata: {name: "shop"}\n---\n---\nkind: Kustomization\nresources: []\n---\n- a\n---\nmetadata:\n  name: \'x\'\n';
    expect(identifyDocuments(src)).toEqual([
      { documentIndex: 0, apiVersion: 'v1', kind: 'Namespace', name: 'shop' },
      { documentIndex: 1, apiVersion: null, kind: null, name: null },
      { documentIndex: 2, apiVersion: null, kind: 'Kustomization', name: null },
      { documentIndex: 3, apiVersion: null, kind: null, name: null },
      { documentIndex: 4, apiVersion: null, kind: null, name: 'x' },
    ]);
  });
});

describe('documentSource', () => {
  const src =
    '# header\napiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n# about b\nkind: B\nmetadata: {name: b} # b\n---\nkind: C\nmetadata: {name: c}';

  it('returns the whole text of a single-document file, comments included', () => {
    const single = '# header\nkind: A\nmetadata: {name: a}\n# trailer\n';
    expect(documentSource(single, { documentIndex: 0, kind: 'A', name: 'a' })).toBe(single);
  });

  it('returns one document of several without its separator', () => {
    expect(documentSource(src, { documentIndex: 1, kind: 'B', name: 'b' })).toBe('# about b\nkind: B\nmetadata: {name: b} # b\n');
    expect(documentSource(src, { documentIndex: 2, kind: 'C', name: 'c' })).toBe('kind: C\nmetadata: {name: c}');
    expect(documentSource(src, { documentIndex: 9, kind: 'C', name: 'c' })).toBe('kind: C\nmetadata: {name: c}');
  });

  it('returns null when nothing matches', () => {
    expect(documentSource(src, { documentIndex: 1, kind: 'B', name: 'x' })).toBeNull();
  });
});

describe('deepEqual', () => {
  it.each<[unknown, unknown, boolean]>([
    [{ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }, true],
    [[1, 2], [2, 1], false],
    [{ a: 1 }, { a: 1, b: undefined }, false],
    [{ a: '1' }, { a: 1 }, false],
    [null, undefined, false],
    [null, null, true],
    [[], {}, false],
    [{}, [], false],
    [{ a: [{ x: 1 }] }, { a: [{ x: 1 }] }, true],
    [{ a: [{ x: 1 }] }, { a: [{ x: 2 }] }, false],
    [{ a: 1 }, { b: 1 }, false],
    ['x', 'x', true],
  ])('deepEqual(%j, %j) is %s', (a, b, expected) => {
    expect(deepEqual(a, b)).toBe(expected);
    expect(deepEqual(b, a)).toBe(expected);
  });
});

describe('mergePatchBetween', () => {
  it('removes, adds and changes keys recursively', () => {
    const a = {
      kind: 'X',
      metadata: { name: 'n', labels: { 'istio-injection': 'enabled', team: 't' } },
      spec: { replicas: 1, gone: { x: 1 } },
    };
    const b = { kind: 'X', metadata: { name: 'n', labels: { 'istio.io/rev': 'r', team: 't' } }, spec: { replicas: 2 } };
    const patch = mergePatchBetween(a, b);
    expect(patch).toEqual({ metadata: { labels: { 'istio-injection': null, 'istio.io/rev': 'r' } }, spec: { replicas: 2, gone: null } });
    expect(applyRfcMergePatch(a, patch)).toEqual(b);
  });

  it('is empty for equal objects, whatever their key order', () => {
    expect(mergePatchBetween({ a: 1, b: { c: [1] } }, { b: { c: [1] }, a: 1 })).toEqual({});
    expect(mergePatchBetween(undefined, undefined)).toEqual({});
  });

  it('diffs named lists element by element when the names match', () => {
    const a = {
      webhooks: [
        { name: 'w1', clientConfig: { service: { name: 'old' } } },
        { name: 'w2', x: 1 },
      ],
    };
    const b = {
      webhooks: [
        { name: 'w1', clientConfig: { service: { name: 'new' } } },
        { name: 'w2', x: 1 },
      ],
    };
    expect(mergePatchBetween(a, b)).toEqual({ webhooks: [{ name: 'w1', clientConfig: { service: { name: 'new' } } }, { name: 'w2' }] });
    expect(applyWriterPatch(a, mergePatchBetween(a, b))).toEqual(b);
  });

  it('replaces lists of scalars and lists whose names differ wholesale', () => {
    expect(mergePatchBetween({ l: [1, 2] }, { l: [2] })).toEqual({ l: [2] });
    expect(mergePatchBetween({ l: [{ name: 'a' }] }, { l: [{ name: 'b' }] })).toEqual({ l: [{ name: 'b' }] });
  });

  it('drives editYamlText from a template document to the desired one', () => {
    const before = parse(WEBHOOKS) as Record<string, unknown>;
    const after = structuredClone(before) as {
      webhooks: Array<{ clientConfig: { service: { name: string } } }>;
      metadata: { labels: Record<string, string> };
    };
    for (const w of after.webhooks) w.clientConfig.service.name = 'istiod-asm-1140-0';
    after.metadata.labels['istio.io/rev'] = 'asm-1140-0';
    const out = editYamlText('w.yaml', WEBHOOKS, [
      editOf(mergePatchBetween(before, after), { kind: 'MutatingWebhookConfiguration', name: 'istio-revision-tag-default' }),
    ])!;
    expect(parse(out)).toEqual(after);
    expect(changedLines(WEBHOOKS, out)).toHaveLength(5);
  });
});

/**
 * Edge cases found while writing these tests (most were bugs, now fixed). Each remaining
 * `it.fails` states the correct behaviour of a known limitation; it starts failing (so the marker
 * must go) once the limitation is lifted.
 */
describe('writer edge cases', () => {
  // Fixed: a comment line at the end of a block map becomes a key-less CST item whose end offset is 0, so new keys are inserted after the first line of the file.
  it('adds a label to a map whose last line is a comment', () => {
    const src =
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    app: shop\n    # istio-injection: enabled\nspec: {}\n';
    const out = expectPatched(src, { metadata: { labels: { 'istio.io/rev': 'asm-1140-0' } } }, { kind: 'Namespace', name: 'shop' });
    expect(isLineSubsequence(src, out)).toBe(true);
  });

  // Fixed: same trailing-comment item breaks restart annotations: the new annotations block lands under the first key of the document.
  it('adds a restart annotation when the pod template labels end with a comment', () => {
    const src = 'spec:\n  template:\n    metadata:\n      labels:\n        app: x\n        # tier: web\n    spec: {}\n';
    expectPatched(src, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } } });
  });

  // Fixed: a comment line at the end of a block list is treated as an entry to remove; its removal splice starts at offset 0 and deletes the line holding the list's key.
  it('edits a resources list whose last line is a commented-out entry', () => {
    const src = 'resources:\n  - a.yaml\n  # - b.yaml\npatches: []\n';
    const out = expectPatched(src, { resources: ['a.yaml', 'c.yaml'] });
    expect(isLineSubsequence(src, out)).toBe(true);
  });

  // Fixed: with a trailing comment line the "every key removed" check miscounts items, so the map is left with no entries (null) instead of {}.
  it('leaves {} when the last label goes and a comment line follows it', () => {
    const src = 'metadata:\n  name: legacy\n  labels:\n    istio-injection: enabled\n    # istio.io/rev: asm-1130-0\n';
    const out = edit(src, { metadata: { labels: { 'istio-injection': null } } }, { name: 'legacy' });
    expect((parseStrict(out)[0] as { metadata: { labels: unknown } }).metadata.labels).toEqual({});
  });

  // Fixed: editing a value and adding a key in the same flow map produces overlapping splices and throws "internal error: overlapping YAML edits".
  it('edits a value and adds a key in the same flow map', () => {
    const src = 'metadata:\n  name: web\n  labels: {app: web, team: a}\n';
    expect(expectPatched(src, { metadata: { labels: { team: 'b', 'istio.io/rev': 'asm-1140-0' } } }, { name: 'web' })).toBe(
      'metadata:\n  name: web\n  labels: {app: web, team: b, istio.io/rev: asm-1140-0}\n',
    );
  });

  // Fixed: replacing a block scalar by a string drops the block's final newline, gluing the next key onto the value ("data: barnext: 1").
  it('replaces a block scalar by a one-line string', () => {
    expectPatched('data: |\n  foo\nnext: 1\n', { data: 'bar' });
  });

  // Fixed: setting a block scalar to the string it already holds rewrites it (as a broken double-quoted scalar) and reports a change instead of being a no-op.
  it('leaves a block scalar alone when the patch holds the same string', () => {
    const src = 'data:\n  mesh: |\n    a: 1\nnext: 1\n';
    const result = editYamlTextReporting('t.yaml', src, [editOf({ data: { mesh: 'a: 1\n' } })]);
    expect(result.text).toBe(src);
  });

  // Fixed: editing YAML embedded in a "|-" block scalar loses the newline at its end, so the next key joins the last embedded line.
  it('edits Helm values held in a |- block scalar', () => {
    const src = 'spec:\n  values: |-\n    revision: 1-21-2\n  other: x\n';
    expect(expectPatched(src, { spec: { values: { revision: '1-22-1' } } })).toBe(
      'spec:\n  values: |-\n    revision: 1-22-1\n  other: x\n',
    );
  });

  // Fixed: an object patch onto a null (~ / null), number or boolean scalar is treated as embedded YAML and throws "embedded YAML is not a mapping" instead of replacing the value.
  it.each([['metadata:\n  name: x\n  annotations: ~\n'], ['metadata:\n  name: x\n  annotations: null\n']])(
    'adds annotations where the value is null: %j',
    (src) => {
      expectPatched(src, { metadata: { annotations: { a: 'b' } } }, { name: 'x' });
    },
  );

  // Fixed: an object patch onto an empty string inside a flow map renders a block map inside the flow map and swallows the rest of the line.
  it('replaces an empty string inside a flow map by a map', () => {
    expectPatched('m: {a: "", b: c}\n', { m: { a: { x: 'y' } } });
  });

  // Fixed: a scalar whose text equals the new value's text but whose type differs ("true" vs true, "3" vs 3, null vs "null") is left unchanged.
  it.each<[string, string | number | boolean]>([
    ['a: "true"\n', true],
    ['a: "3"\n', 3],
    ['a: null\n', 'null'],
    ['a: true\n', 'true'],
  ])('changes the type of %j to %j', (src, value) => {
    expectPatched(src, { a: value });
  });

  // Fixed: entries appended to a block list of scalars are always formatted as strings, so numbers and booleans become quoted strings.
  it('appends numbers to a block list as numbers', () => {
    expect(expectPatched('ports:\n- 80\n- 443\n', { ports: [80, 443, 8080] })).toBe('ports:\n- 80\n- 443\n- 8080\n');
  });

  // Fixed: editing a flow list of scalars converts every entry to a string, turning existing numbers into quoted strings.
  it('keeps numbers numbers when editing a flow list', () => {
    expectPatched('ports: [80, 443]\n', { ports: [80, 443, 8080] });
  });

  // Fixed: editing a flow list of scalars re-renders every kept entry, losing their quoting and the comments of a multi-line flow list.
  it.each([
    ['resources: [\'a.yaml\', "b.yaml"]\n', ["'a.yaml'", '"b.yaml"']],
    ['resources: [\n  a.yaml, # base\n  b.yaml,\n]\n', ['# base']],
  ])('keeps kept flow-list entries byte for byte: %j', (src, kept) => {
    const out = expectPatched(src, { resources: ['a.yaml', 'b.yaml', 'c.yaml'] });
    for (const text of kept) expect(out).toContain(text);
  });

  // Fixed: adding or removing a key of a multi-line flow map re-renders the map on one line and drops the comments inside it.
  it('keeps comments inside a multi-line flow map', () => {
    const out = expectPatched('labels: {\n  app: web, # the app\n  team: a\n}\n', { labels: { env: 'prod' } });
    expect(out).toContain('# the app');
  });

  // Fixed: a new multi-line string written into a single-quoted slot keeps the raw newline (folded to a space, or invalid YAML at the key's column).
  it('writes a multi-line string into a single-quoted value', () => {
    expectPatched("metadata:\n  annotations:\n    a: 'x'\n", { metadata: { annotations: { a: 'line 1\nline 2' } } });
  });

  // Fixed: filling a key that had no value deletes the end-of-line comment on the key's line.
  it('keeps the comment of an empty key it fills', () => {
    const out = expectPatched(
      'metadata:\n  name: x\n  labels: # mesh labels go here\n',
      { metadata: { labels: { app: 'x' } } },
      { name: 'x' },
    );
    expect(out).toContain('# mesh labels go here');
  });

  // Fixed: the "all documents removed" check counts remove edits, not documents, so removing one of two documents twice returns null (deleting the other one too).
  it('does not delete a file when one of its two documents is removed twice', () => {
    const src = 'kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: b}\n';
    const rm: DocumentEdit = { documentIndex: 0, kind: 'A', name: 'a', remove: true };
    let out: string | null | undefined;
    try {
      out = editYamlText('t.yaml', src, [rm, rm]);
    } catch {
      return; // throwing on duplicate edits is also acceptable
    }
    expect(out).not.toBeNull();
  });

  // Fixed (issue 10, W3): a tagged scalar kept its tag when its value was replaced, so `!!str foo` set to 3 read back as the string "3".
  it('replaces a tagged scalar by a number', () => {
    expect(expectPatched('a: !!str foo\n', { a: 3 })).toBe('a: 3\n');
  });

  // Fixed: deletions of keys named like Object.prototype members.
  it.each([
    [{ toString: 'x', a: 1 }, { a: 1 }],
    [{ constructor: 'x' }, {}],
  ])('mergePatchBetween(%j, %j) turns the first into the second', (a, b) => {
    expect(applyRfcMergePatch(a, mergePatchBetween(a, b))).toEqual(b);
  });

  // BUG: `__proto__` keys are lost by mergePatchBetween (never used by Kubernetes objects).
  it.fails.each([
    [JSON.parse('{"__proto__": {"a": 1}, "b": 1}') as object, { b: 1 }],
    [{ b: 1 }, JSON.parse('{"__proto__": 1, "b": 1}') as object],
  ])('mergePatchBetween(%j, %j) turns the first into the second', (a, b) => {
    expect(applyRfcMergePatch(a, mergePatchBetween(a, b))).toEqual(b);
  });

  // BUG: for named lists whose names differ, mergePatchBetween returns the desired list, but the writer merges any named list by name: dropped elements stay and new ones throw.
  it.fails.each([
    [
      'an element is dropped',
      {
        webhooks: [
          { name: 'a', x: 1 },
          { name: 'b', x: 2 },
        ],
      },
      { webhooks: [{ name: 'a', x: 1 }] },
    ],
    [
      'an element is added',
      { webhooks: [{ name: 'a', x: 1 }] },
      {
        webhooks: [
          { name: 'a', x: 1 },
          { name: 'b', x: 2 },
        ],
      },
    ],
  ])('turns a template into the desired object when %s', (_name, a, b) => {
    const out = editYamlText('t.yaml', stringify(a), [editOf(mergePatchBetween(a, b))]);
    expect(parse(out!)).toEqual(b);
  });

  // BUG (cosmetic): appending at the end of a file that has no final newline adds one, a diff line outside the edited nodes.
  it.fails('keeps a missing final newline missing when appending at the end of the file', () => {
    expect(edit('metadata:\n  labels:\n    a: b', { metadata: { labels: { c: 'd' } } })).toBe('metadata:\n  labels:\n    a: b\n    c: d');
  });
});

/**
 * Issue 10 ("Writer: never invalid YAML, never wrong data"): every edit either gives valid YAML
 * that reads as the patched data, with the bytes outside the edited nodes as they were, or is
 * refused with a YamlEditError. Both writer paths give the same bytes or both refuse.
 */
describe('issue 10: never invalid YAML, never wrong data', () => {
  /** Both paths leave the text as it is and report no change. */
  function expectUnchanged(source: string, patch: MergePatch, target: Target = {}): void {
    for (const fastPath of [true, false]) {
      const result = editYamlTextReporting('test.yaml', source, [editOf(patch, target)], { fastPath });
      expect(result.text, `fastPath: ${fastPath}`).toBe(source);
      expect([...result.changed], `fastPath: ${fastPath}`).toEqual([]);
    }
  }

  /** Both paths refuse with the writer's typed error. */
  function expectRefused(source: string, patch: MergePatch, message?: RegExp): void {
    for (const fastPath of [true, false]) {
      expect(() => editYamlText('test.yaml', source, [editOf(patch)], { fastPath }), `fastPath: ${fastPath}`).toThrow(YamlEditError);
      if (message) expect(() => editYamlText('test.yaml', source, [editOf(patch)], { fastPath })).toThrow(message);
    }
  }

  describe('W1: a patch that only removes keys creates no map', () => {
    it.each<[string, string, MergePatch]>([
      ['block', 'metadata:\n  name: x\n', { metadata: { labels: { a: null } } }],
      [
        'nested',
        'metadata:\n  name: x\nspec:\n  replicas: 1\n',
        { spec: { template: { metadata: { labels: { a: null, b: { c: null } } } } } },
      ],
      ['flow', 'metadata: {name: x}\n', { metadata: { labels: { a: null } } }],
      ['after other changes elsewhere', 'metadata:\n  name: x\n', { metadata: { name: 'x', annotations: { gone: null } } }],
    ])('%s: no change, no bytes', (_name, src, patch) => {
      expectUnchanged(src, patch, { name: 'x' });
    });

    it('creates the map for the entries it sets, without the removals', () => {
      const src = 'metadata:\n  name: x\n';
      expect(expectPatched(src, { metadata: { labels: { a: null, b: 'c', d: { e: null } } } }, { name: 'x' })).toBe(
        'metadata:\n  name: x\n  labels:\n    b: c\n',
      );
    });

    it('writes an explicitly empty map as `key: {}` on both paths', () => {
      expect(expectPatched('metadata:\n  name: x\n', { metadata: { labels: {} } }, { name: 'x' })).toBe(
        'metadata:\n  name: x\n  labels: {}\n',
      );
    });
  });

  describe('W2: new keys go at the column of the map entries', () => {
    it('after a byte order mark', () => {
      const src = '\uFEFFnamespace: shop\nresources:\n- a.yaml\n';
      expect(expectPatched(src, { namePrefix: 'shop-' })).toBe(`${src}namePrefix: shop-\n`);
    });

    it('after an anchored first key', () => {
      expect(expectPatched('&a a: b\n', { c: 'd' })).toBe('&a a: b\nc: d\n');
      expect(expectPatched('m:\n  !!str k: v\n', { m: { c: 'd' } })).toBe('m:\n  !!str k: v\n  c: d\n');
    });

    it('after explicit keys, not under the last key', () => {
      expect(expectPatched('? a\n? b\nc:\n', { e: 'f' })).toBe('? a\n? b\nc:\ne: f\n');
    });

    it('a new nested map under an anchored key', () => {
      expect(expectPatched('&k a: 1\nb: 2\n', { a: { x: 1 } })).toBe('&k a:\n  x: 1\nb: 2\n');
    });
  });

  describe('W3: an empty value with a tag or an anchor', () => {
    it('replaces the tag with the value', () => {
      expect(expectPatched('a: !!str\nb: 1\n', { a: 'x' })).toBe('a: x\nb: 1\n');
      expect(expectPatched('a: !!str # why\nb: 1\n', { a: 3 })).toBe('a: 3 # why\nb: 1\n');
      expect(expectPatched('a: &anchor\nb: 1\n', { a: 'x' })).toBe('a: x\nb: 1\n');
    });

    it('writes a new map below, without the tag', () => {
      expect(expectPatched('a: !!null\nb: 1\n', { a: { x: 1 } })).toBe('a:\n  x: 1\nb: 1\n');
    });

    it('fills an empty flow value after its colon', () => {
      expect(expectPatched('m: {app:, team: a}\n', { m: { app: 'web' } })).toBe('m: {app: web, team: a}\n');
    });

    it('keeps a tagged value that already reads as the patch value', () => {
      expectUnchanged('a: !!str 3\nb: !!str\n', { a: '3', b: '' });
    });
  });

  describe('W4: anchors and aliases', () => {
    const src = 'a: &x v\nb: *x\n';

    it('refuses to delete or change a node an alias refers to', () => {
      expectRefused(src, { a: null }, /alias/);
      expectRefused(src, { a: 'w' }, /alias/);
      expectRefused('base: &b\n  x: 1\nother: *b\n', { base: null }, /alias/);
    });

    it('leaves an alias that already reads as the patch value alone', () => {
      expectUnchanged(src, { b: 'v' });
      expectUnchanged('base: &b\n  x: 1\nother: *b\n', { other: { x: 1 } });
    });

    it('replaces an alias by a new value', () => {
      expect(expectPatched(src, { b: 'w' })).toBe('a: &x v\nb: w\n');
    });

    it('refuses edits that an alias would see too', () => {
      expectRefused('base: &b\n  x: 1\nother: *b\n', { other: { y: 2 } });
      expectRefused('base: &b\n  x: 1\nother: *b\n', { base: { y: 2 } });
    });
  });

  describe('W5: key-less entries', () => {
    it('removes an entry before a key-less one in a flow map', () => {
      expect(expectPatched('m: { foo: 1, : bar }\n', { m: { foo: null } })).toBe('m: { : bar }\n');
      expect(expectPatched('m: { a: 1, : bar, c: 2 }\n', { m: { c: null } })).toBe('m: { a: 1, : bar }\n');
    });

    it('adds after a bare `:` entry of a block map, on both paths alike', () => {
      expect(expectPatched('a: 1\n:\n', { b: 2 })).toBe('a: 1\n:\nb: 2\n');
    });

    it('refuses to edit a null or collection key, which a patch can name only as its string form', () => {
      expectRefused('a: 1\n: empty key\n', { '': 'x' }, /key is written in a form/);
      expectRefused('{ first: Sammy }:\n  hr: 65\n', { '{ first: Sammy }': 'x' }, /key is written in a form/);
    });
  });

  describe('W6: replacing a block scalar keeps the comment on its header line', () => {
    it('by a string', () => {
      expect(expectPatched('key: |  # why\n  text\nb: 1\n', { key: 'x' })).toBe('key: x  # why\nb: 1\n');
    });

    it('by a map', () => {
      expect(expectPatched('key: >- # why\n  text\nb: 1\n', { key: { a: 1 } })).toBe('key: # why\n  a: 1\nb: 1\n');
    });
  });

  describe('W7: line ends and byte order marks', () => {
    it('writes new lines with the CRLF line ends of the file', () => {
      const src = 'a: 1\r\nb:\r\n  c: 1\r\nl:\r\n- x\r\n';
      expect(expectPatched(src, { b: { d: 2 }, e: { f: 3 }, l: ['x', 'z'] })).toBe(
        'a: 1\r\nb:\r\n  c: 1\r\n  d: 2\r\nl:\r\n- x\r\n- z\r\ne:\r\n  f: 3\r\n',
      );
    });

    it('edits Helm values in a CRLF file', () => {
      const src = 'spec:\r\n  values: |\r\n    a: 1\r\n\r\n  next: x\r\n';
      expect(expectPatched(src, { spec: { values: { b: 2 } } })).toBe('spec:\r\n  values: |\r\n    a: 1\r\n    b: 2\r\n\r\n  next: x\r\n');
    });

    it('refuses an edit whose result would read as other data than the patch (read back after every CST edit)', () => {
      // After a byte order mark, the \`yaml\` parser reads this compact explicit key one level out,
      // so an appended key would land inside it: only reading the result back shows it.
      expectRefused('\uFEFF? []: x\n', { added: 'y' }, /would not read as the patched data/);
    });

    it('edits the first key of a file with a byte order mark in place, on both paths', () => {
      const src = '\uFEFFapiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n';
      expect(expectPatched(src, { apiVersion: 'v2' }, { kind: 'Namespace', name: 'shop' })).toBe(src.replace('v1', 'v2'));
      expect(expectPatched(src, { apiVersion: null, z: 1 }, { kind: 'Namespace', name: 'shop' })).toBe(
        '\uFEFFz: 1\nkind: Namespace\nmetadata:\n  name: shop\n',
      );
    });
  });

  describe('W8: whitespace-only lines that are block scalar content', () => {
    it.each([
      ['more indented than the text', 'run.sh: |\n    echo hi\n      \n'],
      ['a comment-like last line', 'run.sh: |\n    echo hi\n    # done\n'],
      ['in a nested map', 'data:\n  run.sh: |\n    echo hi\n      \n'],
      ['in a quoted scalar', 'data:\n  run.sh: "echo hi\n    # not a comment"\n'],
      ['with a tab elsewhere in the file', 'run.sh: |\n    echo hi\n      \nx: "\t"\n'],
    ])('keeps the scalar as it reads when a key is added after it (%s)', (_name, src) => {
      expectPatched(src, { data: { added: 'x' } });
      expectPatched(src, { added: 'x' });
    });
  });
});
