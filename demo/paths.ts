import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, from src/ (vitest) or dist/ (npm run demo) alike. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'mesh-upgrade-bot') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the mesh-upgrade-bot project root');
    dir = parent;
  }
}
