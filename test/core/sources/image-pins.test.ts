import { load, loadAll } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade } from '../../../src/core/plan.js';
import { imagePinOverrides } from '../../../src/core/sources/image-pins.js';
import { UpgradeRefusedError } from '../../../src/model/errors.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import type { Doc } from '../../helpers/doc.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { hasKubectl, kustomizeBuild, runUpgrade } from '../../helpers/upgrade-run.js';

const refusal = (f: () => unknown): UpgradeRefusedError => {
  try {
    f();
  } catch (e) {
    if (e instanceof UpgradeRefusedError) return e;
    throw e;
  }
  throw new Error('not refused');
};
const doc = (text: string | undefined): Doc => load(text!) as Doc;

describe('image pins of an Argo CD istiod Application move to the target in the copy (fixture helm-argocd)', () => {
  const OLD = 'argocd/istiod-1-21-2.yaml';
  const NEW = 'argocd/istiod-1-22-1.yaml';
  let fixture: RepoSnapshot;
  const pinned = (pin: string): RepoSnapshot =>
    new Map(fixture).set(OLD, fixture.get(OLD)!.replace('        global:\n', `        global:\n${pin}`));
  beforeAll(async () => {
    fixture = await loadFixture('helm-argocd');
  });

  it('global.tag of the running release, with its variant, becomes the target tag with the same variant; the old release keeps its pin', () => {
    const repo = pinned('          hub: mirror.example.com/istio\n          tag: 1.21.2-distroless\n');
    const steps = runUpgrade(repo, { to: '1-22-1' });
    const cp = steps.find((s) => s.phase === 'control-plane')!;
    const values = doc(cp.after.get(NEW)).spec.source.helm.valuesObject;
    expect(values.global).toMatchObject({ hub: 'mirror.example.com/istio', tag: '1.22.1-distroless' });
    expect(values.revision).toBe('1-22-1');
    expect(cp.after.get(OLD)).toBe(repo.get(OLD));
    // Idempotent: the copy already says the target.
    const final = steps.at(-1)!.after;
    expect(planUpgrade(final, { to: '1-22-1', from: '1-21-2' }).phases.every((p) => p.files.length === 0)).toBe(true);
  });

  it('pilot.image with a tag of the running release is retagged; a bare repository is left alone', () => {
    const repo = new Map(fixture).set(
      OLD,
      fixture
        .get(OLD)!
        .replace('          autoscaleMin: 2\n', '          autoscaleMin: 2\n          image: registry:5000/istio/pilot:1.21.2\n'),
    );
    const plan = planUpgrade(repo, { to: '1-22-1' });
    const copy = plan.phases[0]!.files.find((f) => f.path === NEW)!.content!;
    expect(doc(copy).spec.source.helm.valuesObject.pilot.image).toBe('registry:5000/istio/pilot:1.22.1');
  });

  it('refuses a digest or a tag naming another release, with the file, the key and what to change', () => {
    const digest = refusal(() =>
      planUpgrade(
        pinned(
          `          proxy:\n            image: docker.io/istio/proxyv2@sha256:${'a'.repeat(64)}\n`.replace(
            '          proxy:\n',
            '          proxy_init:\n',
          ),
        ),
        { to: '1-22-1' },
      ),
    );
    expect(digest.code).toBe('image-pinned');
    expect(digest.message).toContain(OLD);
    expect(digest.message).toContain('spec.source.helm.valuesObject.global.proxy_init.image');
    const other = refusal(() => planUpgrade(pinned('          tag: 1.20.0\n'), { to: '1-22-1' }));
    expect(other.code).toBe('image-pinned');
    expect(other.message).toMatch(/global\.tag pins the image tag 1\.20\.0/);
  });
});

describe('a gateway release with an explicit proxy tag (fixture helm-argocd)', () => {
  const GATEWAY = 'argocd/istio-ingress.yaml';
  it('moves the tag with the revision in the gateways phase, inside the values string, variant kept; idempotent', async () => {
    const fixture = await loadFixture('helm-argocd');
    const repo = new Map(fixture).set(
      GATEWAY,
      fixture
        .get(GATEWAY)!
        .replace('        replicaCount: 2\n', '        replicaCount: 2\n        global:\n          tag: 1.21.2-distroless\n'),
    );
    const steps = runUpgrade(repo, { to: '1-22-1' });
    const gateways = steps.find((s) => s.phase === 'gateways')!;
    const values = load(doc(gateways.after.get(GATEWAY)).spec.source.helm.values) as Doc;
    expect(values).toMatchObject({ revision: '1-22-1', global: { tag: '1.22.1-distroless' }, replicaCount: 2 });
    const final = steps.at(-1)!.after;
    expect(planUpgrade(final, { to: '1-22-1', from: '1-21-2' }).phases.every((p) => p.files.length === 0)).toBe(true);
  });
});

describe('an image pin inherited from a shared Flux valuesFrom ConfigMap (fixture flux-shared-values)', () => {
  const SHARED = 'infrastructure/istio/istiod-values.yaml';
  const NEW = 'infrastructure/istio/istiod-1-22-1.yaml';
  it('is overridden inline on the new release (inline values win), the ConfigMap untouched', async () => {
    const fixture = await loadFixture('flux-shared-values');
    const repo = new Map(fixture).set(
      SHARED,
      fixture.get(SHARED)!.replace('    meshConfig:\n', '    global:\n      tag: 1.21.2\n    meshConfig:\n'),
    );
    const steps = runUpgrade(repo, { to: '1-22-1' });
    const cp = steps.find((s) => s.phase === 'control-plane')!;
    expect(cp.after.get(SHARED)).toBe(repo.get(SHARED));
    expect(doc(cp.after.get(NEW)).spec.values.global).toEqual({ tag: '1.22.1' });
    if (hasKubectl) {
      const built = await kustomizeBuild(cp.after, 'infrastructure/istio');
      const release = built.find((o) => o.kind === 'HelmRelease' && o.metadata.name === 'istiod-1-22-1') as Doc;
      expect(release.spec.values.global.tag).toBe('1.22.1');
      expect(release.spec.valuesFrom.map((v: Doc) => v.name)).toContain('istiod-values');
    }
  });
});

describe('image pins of an IstioOperator (fixture istio-operator)', () => {
  const OLD = 'clusters/staging/istio-system/istiocontrolplane-1-21-2.yaml';
  const NEW = 'clusters/staging/istio-system/istiocontrolplane-1-22-1.yaml';
  it('spec.tag and spec.values.global.tag move to the target with their variant', async () => {
    const fixture = await loadFixture('istio-operator');
    const repo = new Map(fixture).set(
      OLD,
      fixture
        .get(OLD)!
        .replace('  tag: 1.21.2\n', '  tag: 1.21.2-distroless\n')
        .replace('    global:\n', '    global:\n      tag: 1.21.2\n'),
    );
    const plan = planUpgrade(repo, { to: '1-22-1' });
    const copy = plan.phases[0]!.files.find((f) => f.path === NEW)!.content!;
    const spec = (loadAll(copy) as Doc[])[0]!.spec;
    expect(spec.tag).toBe('1.22.1-distroless');
    expect(spec.values.global.tag).toBe('1.22.1');
    expect(spec.values.global.proxy.resources.requests.cpu).toBe('50m');
  });
  it('refuses spec.tag pinned by digest, or naming no release', async () => {
    const fixture = await loadFixture('istio-operator');
    for (const tag of [`1.21.2@sha256:${'c'.repeat(64)}`, 'latest']) {
      const repo = new Map(fixture).set(OLD, fixture.get(OLD)!.replace('  tag: 1.21.2\n', `  tag: ${tag}\n`));
      const e = refusal(() => planUpgrade(repo, { to: '1-22-1' }));
      expect(e.code).toBe('image-pinned');
      expect(e.message).toContain(`${OLD}: spec.tag`);
      expect(e.message).toContain(tag);
    }
  });
});

describe('the in-cluster operator copied for the new revision (fixture operator-argocd-apps, to 1.23.x)', () => {
  const OPERATOR = 'clusters/prod/istio-operator/operator-1-22-4.yaml';
  it('moves a tag with its variant, and refuses an image pinned by digest', async () => {
    const fixture = await loadFixture('operator-argocd-apps');
    const variant = new Map(fixture).set(OPERATOR, fixture.get(OPERATOR)!.replace('operator:1.22.4', 'operator:1.22.4-distroless'));
    const copy = planUpgrade(variant, { to: '1-23-5' }).phases[0]!.files.find(
      (f) => f.path === 'clusters/prod/istio-operator/operator-1-23-5.yaml',
    )!.content!;
    expect(copy).toContain('image: docker.io/istio/operator:1.23.5-distroless');
    const digest = new Map(fixture).set(
      OPERATOR,
      fixture.get(OPERATOR)!.replace('operator:1.22.4', `operator:1.22.4@sha256:${'e'.repeat(64)}`),
    );
    const e = refusal(() => planUpgrade(digest, { to: '1-23-5' }));
    expect(e.code).toBe('image-pinned');
    expect(e.message).toContain(OPERATOR);
  });
});

describe('pins in generated istiod Applications move in the generator, never in the shared template', () => {
  it('ApplicationSet list elements (fixture applicationset-revisions): the new element gets the target tag with its variant', async () => {
    const fixture = await loadFixture('applicationset-revisions');
    const SET = 'argocd/istiod.yaml';
    const text = fixture
      .get(SET)!
      .replace('            meshConfig:\n', '            global:\n              tag: "{{.tag}}"\n            meshConfig:\n')
      .replace('            revisionTags: "[legacy]"\n', '            revisionTags: "[legacy]"\n            tag: 1.20.8\n')
      .replace(
        '            revisionTags: "[prod-stable, default]"\n',
        '            revisionTags: "[prod-stable, default]"\n            tag: 1.21.2-distroless\n',
      );
    const plan = planUpgrade(new Map(fixture).set(SET, text), { to: '1-22-1' });
    const set = doc(plan.phases[0]!.files.find((f) => f.path === SET)!.content);
    const elements = set.spec.generators[0].list.elements as Doc[];
    expect(elements.map((e) => [e.revision, e.tag])).toEqual([
      ['1-20-8', '1.20.8'],
      ['1-21-2', '1.21.2-distroless'],
      ['1-22-1', '1.22.1-distroless'],
    ]);
  });

  it('Helm app-of-apps (fixture helm-app-of-apps): the new revision entry gets the target tag with its variant', async () => {
    const fixture = await loadFixture('helm-app-of-apps');
    const T = 'apps/platform/templates/istiod.yaml';
    const V = 'apps/platform/values-prod.yaml';
    const repo = new Map(fixture)
      .set(
        T,
        fixture
          .get(T)!
          .replace(
            '          autoscaleMin: {{ $.Values.istiod.replicas }}\n',
            '          autoscaleMin: {{ $.Values.istiod.replicas }}\n        global:\n          tag: {{ .tag | quote }}\n',
          ),
      )
      .set(V, fixture.get(V)!.replace('      tags: [default]\n', '      tags: [default]\n      tag: 1.21.2-distroless\n'));
    const plan = planUpgrade(repo, { to: '1-22-1' });
    const values = doc(plan.phases[0]!.files.find((f) => f.path === V)!.content);
    expect(values.istiod.revisions.map((r: Doc) => [r.name, r.tag])).toEqual([
      ['1-21-2', '1.21.2-distroless'],
      ['1-22-1', '1.22.1-distroless'],
    ]);
  });
});

describe('imagePinOverrides', () => {
  const from = { name: '1-21-2', version: '1.21.2', flavor: 'oss' as const };
  const to = { name: '1-22-1', version: '1.22.1', flavor: 'oss' as const };
  const source = { file: 'istiod.yaml', prefix: 'spec.values' };
  it('retags every pin of the running release, keeps hubs and bare repositories, leaves target tags', () => {
    expect(
      imagePinOverrides(
        {
          global: {
            hub: 'r:5000/istio',
            tag: '1.21.2',
            proxy: { image: 'proxyv2' },
            proxy_init: { image: 'r:5000/istio/proxyv2:1.21.2-distroless' },
          },
          pilot: { tag: '1.22.1' },
        },
        from,
        to,
        source,
      ),
    ).toEqual({ global: { tag: '1.22.1', proxy_init: { image: 'r:5000/istio/proxyv2:1.22.1-distroless' } } });
    const asm = { name: 'asm-1211-3', version: '1.21.1-asm.3', flavor: 'asm' as const };
    expect(
      imagePinOverrides(
        { global: { tag: '1.21.1-asm.3-distroless' } },
        asm,
        { name: 'asm-1221-1', version: '1.22.1-asm.1', flavor: 'asm' },
        source,
      ),
    ).toEqual({ global: { tag: '1.22.1-asm.1-distroless' } });
  });
  it('refuses a variable it cannot read', () => {
    const e = refusal(() => imagePinOverrides({ global: { tag: '${istio_tag}' } }, from, to, source));
    expect(e.code).toBe('image-pinned');
    expect(e.message).toContain('istiod.yaml: spec.values.global.tag pins the image tag with a variable');
  });
});
