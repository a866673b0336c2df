import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { planUpgrade, snapshotAfter } from '../../../src/core/plan.js';
import type { RepoSnapshot } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../helpers/fixtures.js';
import { validateYamlFiles } from '../../helpers/kube-schemas.js';

const ISTIOD_SERVICE_FILE = 'clusters/prod/istio-system/istiod-service.yaml';

function verifyOf(snapshot: RepoSnapshot): readonly string[] {
  return planUpgrade(snapshot, { to: 'asm-1140-0' }).phases.find((p) => p.id === 'default-revision')!.verify;
}

/**
 * A `kubectl` that reads the manifest of `apply -f -` and answers as an API server with Istio's
 * validating webhook would: `deny` for a VirtualService with host `*` bound to the mesh (no
 * gateways), else the dry-run succeeds. It records the manifest it was given.
 */
async function fakeKubectl(dir: string): Promise<void> {
  const script = `#!/usr/bin/env node
const input = require('fs').readFileSync(0, 'utf8');
require('fs').writeFileSync(${JSON.stringify(join(dir, 'applied.json'))}, input);
const o = JSON.parse(input);
if (o.kind === 'VirtualService' && (o.spec.hosts || []).includes('*') && !(o.spec.gateways || []).length) {
  process.stderr.write('Error from server: error when creating "STDIN": admission webhook "validation.istio.io" denied the request: configuration is invalid: wildcard host * is not allowed for virtual services bound to the mesh gateway\\n');
  process.exit(1);
}
process.stdout.write(o.kind.toLowerCase() + '.networking.istio.io/' + o.metadata.name + ' created (server dry run)\\n');
`;
  await writeFile(join(dir, 'kubectl'), script);
  await chmod(join(dir, 'kubectl'), 0o755);
}

describe('default-revision verify', () => {
  let snapshot: RepoSnapshot;
  beforeAll(async () => {
    snapshot = await loadFixture('asm-manifests');
  });

  it('probes validation with a schema-valid object that Istio’s webhook denies, and checks the denial names validation.istio.io', async () => {
    const probe = verifyOf(snapshot).find((c) => c.includes('--dry-run=server'))!;
    expect(probe).toContain(`grep 'admission webhook "validation.istio.io" denied'`);
    const dir = await mkdtemp(join(tmpdir(), 'probe-'));
    await fakeKubectl(dir);
    const run = spawnSync('bash', ['-c', probe], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('admission webhook "validation.istio.io" denied the request');
    // The object passes the CRD's schema, so only the webhook can reject it (a port of -1 never reached it).
    const applied = await readFile(join(dir, 'applied.json'), 'utf8');
    const report = await validateYamlFiles([{ path: 'probe.yaml', content: applied }]);
    expect(report).toMatchObject({ errors: [], unvalidated: [] });
    expect(JSON.parse(applied)).toMatchObject({ kind: 'VirtualService', metadata: { namespace: 'default' }, spec: { hosts: ['*'] } });
    expect(JSON.parse(applied).spec.gateways).toBeUndefined();
  });

  it('fails the probe when the object is admitted (validation not enforced)', async () => {
    const probe = verifyOf(snapshot).find((c) => c.includes('--dry-run=server'))!;
    const dir = await mkdtemp(join(tmpdir(), 'probe-'));
    await writeFile(
      join(dir, 'kubectl'),
      '#!/bin/sh\ncat >/dev/null\necho "virtualservice.networking.istio.io/x created (server dry run)"\n',
    );
    await chmod(join(dir, 'kubectl'), 0o755);
    const run = spawnSync('bash', ['-c', probe], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    expect(run.status).not.toBe(0);
  });

  it('prints the default validator’s Service and failurePolicy', () => {
    const check = verifyOf(snapshot).find((c) => c.includes('validatingwebhookconfiguration istiod-default-validator'))!;
    expect(check).toContain("-o jsonpath='{.webhooks[0].clientConfig.service.name} {.webhooks[0].failurePolicy}'");
    expect(check).toMatch(/# istiod-asm-1140-0 Fail\b/);
  });

  it('checks the istiod Service endpoints only when the repo has that Service', () => {
    expect(verifyOf(snapshot).some((c) => c.includes('get endpoints istiod'))).toBe(true);
    const service = snapshot.get(ISTIOD_SERVICE_FILE)!;
    const withoutService = new Map([...snapshot].filter(([path]) => path !== ISTIOD_SERVICE_FILE));
    expect(service).toContain('name: istiod\n');
    expect(verifyOf(withoutService).some((c) => c.includes('endpoints istiod'))).toBe(false);
  });
});

describe('default tag and validator that live only in the cluster', () => {
  it('moves them with istioctl tag set when git does not hold them, and says so', async () => {
    const snapshot = new Map(await loadFixture('istio-operator'));
    const path = 'clusters/staging/istio-system/revision-tags.yaml';
    // Keep the tag, drop the validator document (made by istioctl, never committed).
    snapshot.set(path, snapshot.get(path)!.split('\n---\n')[0]!);
    const plan = planUpgrade(snapshot, { to: '1-22-1' });
    const phase = plan.phases.find((p) => p.id === 'default-revision')!;
    expect(phase.manual).toContain(
      'istioctl tag set default --revision 1-22-1 --overwrite   # with istioctl 1.22.1; moves ValidatingWebhookConfiguration istiod-default-validator, which live outside git',
    );
    expect(plan.warnings.map((w) => w.code)).toContain('default-tag-outside-git');
    expect(phase.files.length).toBeGreaterThan(0);
  });

  it('needs nothing by hand when git holds both', async () => {
    const plan = planUpgrade(await loadFixture('istio-operator'), { to: '1-22-1' });
    expect(plan.phases.find((p) => p.id === 'default-revision')!.manual).toEqual([]);
    expect(plan.warnings.map((w) => w.code)).not.toContain('default-tag-outside-git');
  });
});

describe('Helm revision tags handed from the old istiod release to the new one', () => {
  it('moves them in one commit with the old Argo CD Application no longer pruning, so the tag is never gone and never rendered twice', async () => {
    const fixture = await loadFixture('helm-argocd');
    const plan = planUpgrade(fixture, { to: '1-22-1' });
    const phase = plan.phases.find((p) => p.id === 'default-revision')!;
    const after = snapshotAfter(plan, plan.phases.indexOf(phase) + 1);
    const old = load(after.get('argocd/istiod-1-21-2.yaml')!) as {
      metadata: { annotations: Record<string, string> };
      spec: { syncPolicy: { automated: { prune: boolean } }; source: { helm: { valuesObject: { revisionTags: string[] } } } };
    };
    const created = load(after.get('argocd/istiod-1-22-1.yaml')!) as typeof old;
    expect(old.spec.source.helm.valuesObject.revisionTags).toEqual([]);
    expect(old.spec.syncPolicy.automated.prune).toBe(false);
    expect(old.metadata.annotations['mesh-upgrade-bot.io/prune-paused-for-tag-handover']).toBe('true');
    expect(created.spec.source.helm.valuesObject.revisionTags).toEqual(['default']);
    expect(created.spec.syncPolicy.automated.prune).toBe(true);
    expect(phase.manual).toEqual([]);
    // Rolled back after that phase: the tags return to the old Application, and so does pruning.
    const back = planUpgrade(after, { to: '1-22-1', rollback: true });
    const restored = load(snapshotAfter(back, back.phases.length).get('argocd/istiod-1-21-2.yaml')!) as typeof old;
    expect(restored.spec.source.helm.valuesObject.revisionTags).toEqual(['default']);
    expect(restored.spec.syncPolicy.automated.prune).toBe(true);
    expect(restored.metadata.annotations['mesh-upgrade-bot.io/prune-paused-for-tag-handover']).toBeUndefined();
  });
});
