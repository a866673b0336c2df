import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { FileChange, RepoSnapshot } from '../../model/snapshot.js';

const SKIPPED_DIRS = new Set(['.git', 'node_modules']);
const WANTED = /(\.ya?ml|(^|\/)(Kustomization|Kptfile))$/;

/** Reads the YAML files of a checkout into a snapshot (paths relative to `root`, POSIX style). */
export async function readLocalRepo(root: string): Promise<RepoSnapshot> {
  const snapshot = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) await walk(path);
        } else if (entry.isFile() && WANTED.test(entry.name)) {
          snapshot.set(relative(root, path).split(sep).join('/'), await readFile(path, 'utf8'));
        }
      }),
    );
  }
  await walk(root);
  return new Map([...snapshot].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Writes file changes into a checkout. Call it only once every change has been computed. */
export async function writeLocalChanges(root: string, changes: readonly FileChange[]): Promise<void> {
  for (const change of changes) {
    const path = join(root, ...change.path.split('/'));
    if (change.action === 'delete') {
      await rm(path, { force: true });
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, change.content ?? '', 'utf8');
    }
  }
}
