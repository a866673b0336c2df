import { it } from 'vitest';
import { planUpgrade } from '../src/core/plan.js';
import { toPlanJson } from '../src/cli/plan-json.js';
import { loadFixture } from './helpers/fixtures.js';
it('repro', async () => {
  const s = await loadFixture('kustomize-images-selectors');
  for (const strategy of ['auto'] as const) {
  try { const p = planUpgrade(s, { to: '1-21-2' }); const j = toPlanJson(p); console.log(JSON.stringify({from: j.from, install: j.install, strategy: p.strategy, phases: p.phases.map(x=>[x.id, x.status, x.files.map(f=>f.path)]), warnings: p.warnings}, null, 1));
  const wl = p.phases.find(x=>x.id==='workloads')!; for (const f of wl.files) console.log(f.path, '\n', f.content);
  } catch (e) { console.log(e); }
  }
});
