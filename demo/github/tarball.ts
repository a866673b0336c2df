import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { GitStore } from './git-store.js';

/**
 * The repository archive GitHub serves for `/tarball/{ref}`: a gzipped tar whose entries sit under
 * `<owner>-<repo>-<7-char sha>/`. GitHub's archive also starts with a pax global header holding the
 * commit sha; tar-stream cannot write one, and readers skip it anyway, so it is left out.
 */
export async function buildTarball(git: GitStore, commitSha: string, owner: string, repo: string): Promise<Buffer> {
  const commit = git.commit(commitSha);
  if (!commit) throw new Error(`no commit ${commitSha}`);
  const top = `${owner}-${repo}-${commitSha.slice(0, 7)}/`;
  const mtime = new Date(commit.committer.date);
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const finished = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });

  archive.entry({ name: top, type: 'directory', mode: 0o775, mtime });
  const directories = new Set<string>();
  for (const [path, file] of [...git.listFiles(commit.tree)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const parts = path.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const directory = parts.slice(0, depth).join('/');
      if (directories.has(directory)) continue;
      directories.add(directory);
      archive.entry({ name: `${top}${directory}/`, type: 'directory', mode: 0o775, mtime });
    }
    const content = git.blob(file.sha);
    if (!content) continue; // submodules have no blob
    archive.entry({ name: top + path, type: 'file', mode: file.mode === '100755' ? 0o775 : 0o664, mtime }, content);
  }
  archive.finalize();
  await finished;
  return gzipSync(Buffer.concat(chunks));
}
