import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { synthesizeDeploy } from './bot-chart.js';

/** `npm run deploy:synth`: writes deploy/ from the constructs. */
const dir = process.argv[2] ?? 'deploy';
for (const [file, text] of synthesizeDeploy()) {
  writeFileSync(join(dir, file), text);
  process.stdout.write(`wrote ${join(dir, file)}\n`);
}
