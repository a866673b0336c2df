import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLocalRepo } from '../../src/adapters/fs/local-repo.js';
import type { RepoSnapshot } from '../../src/model/snapshot.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface FixtureCase {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly install: 'manifests' | 'istio-operator' | 'helm' | 'external';
  readonly phases: readonly string[];
  /** Namespaces whose files only the workloads phase may change. */
  readonly appNamespaces: readonly string[];
}

export const FIXTURE_CASES: readonly FixtureCase[] = [
  {
    name: 'asm-manifests',
    from: 'asm-1130-0',
    to: 'asm-1140-0',
    install: 'manifests',
    phases: ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'],
    appNamespaces: ['bookinfo', 'payments', 'batch'],
  },
  {
    name: 'istio-operator',
    from: '1-21-2',
    to: '1-22-1',
    install: 'istio-operator',
    phases: ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'],
    appNamespaces: ['shop', 'search'],
  },
  {
    name: 'helm-argocd',
    from: '1-21-2',
    to: '1-22-1',
    install: 'helm',
    phases: ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'],
    appNamespaces: ['checkout', 'catalog'],
  },
  {
    name: 'kustomize-overlays',
    from: '1-20-3',
    to: '1-21-2',
    install: 'istio-operator',
    phases: ['control-plane', 'gateways', 'workloads', 'default-revision', 'cleanup'],
    appNamespaces: ['orders', 'billing'],
  },
];

export function loadFixture(name: string): Promise<RepoSnapshot> {
  return readLocalRepo(join(FIXTURES_DIR, name));
}

/** A throw-away copy of a fixture, for commands that write. */
export async function copyFixture(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `mesh-upgrade-${name}-`));
  await cp(join(FIXTURES_DIR, name), dir, { recursive: true });
  return dir;
}
