import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';

/** Files of a repository tarball (GitHub's `<owner>-<repo>-<sha>/` top folder stripped) that `keep` accepts. */
export async function readTarball(gzipped: Uint8Array, keep: (path: string) => boolean): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extractor = extract();
  const done = new Promise<void>((resolve, reject) => {
    extractor.on('entry', (header, stream, next) => {
      const path = header.name.split('/').slice(1).join('/');
      if (header.type !== 'file' || !path || !keep(path)) {
        stream.resume();
        stream.on('end', next);
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        files.set(path, Buffer.concat(chunks).toString('utf8'));
        next();
      });
      stream.on('error', reject);
    });
    extractor.on('finish', resolve);
    extractor.on('error', reject);
  });
  extractor.end(gunzipSync(gzipped));
  await done;
  return files;
}
