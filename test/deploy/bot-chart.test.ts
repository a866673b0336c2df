import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthesizeDeploy } from '../../src/deploy/bot-chart.js';
import { validateYamlFiles } from '../helpers/kube-schemas.js';

describe('deploy/', () => {
  const files = synthesizeDeploy();

  it('is what the constructs synthesize (run npm run deploy:synth after changing them)', () => {
    for (const [file, text] of files) expect(readFileSync(new URL(`../../deploy/${file}`, import.meta.url), 'utf8'), file).toBe(text);
  });

  it('holds schema-valid objects: a non-root, probed Deployment reading its secrets by reference, and optional Redis', async () => {
    const report = await validateYamlFiles([...files].map(([path, content]) => ({ path, content })));
    expect(report.errors).toEqual([]);
    const objects = parseAllDocuments(files.get('mesh-upgrade-bot-with-redis.yaml')!).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Deployment/mesh-upgrade-bot',
      'Service/mesh-upgrade-bot',
      'PodDisruptionBudget/mesh-upgrade-bot',
      'Deployment/mesh-upgrade-bot-redis',
      'Service/mesh-upgrade-bot-redis',
    ]);
    const text = files.get('mesh-upgrade-bot.yaml')!;
    expect(text).toContain('runAsNonRoot: true');
    expect(text).toContain('path: /ping');
    expect(text).toContain('secretKeyRef');
    expect(text).not.toContain('REDIS_URL');
    expect(files.get('mesh-upgrade-bot-with-redis.yaml')).toContain('redis://mesh-upgrade-bot-redis:6379');
  });
});
