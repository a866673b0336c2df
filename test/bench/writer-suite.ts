/**
 * Prints the figures of the writer's run over the official YAML test suite (the property of
 * test/writer/yaml-patch.suite.test.ts): cases, edits, refused (and why), failed.
 *
 *   npx vite-node test/bench/writer-suite.ts
 *
 * Exits non-zero when an edit failed, listing the first few.
 */
import { performance } from 'node:perf_hooks';
import { runWriterSuite, type Variant } from '../writer/yaml-suite-harness.js';

const started = performance.now();
let failed = 0;
for (const variant of ['plain', 'bom', 'crlf'] as const satisfies readonly Variant[]) {
  const f = runWriterSuite([variant]);
  failed += f.failures.length;
  console.log(
    `${variant.padEnd(5)}: ${f.cases} cases, ${f.validCases} valid for yaml, ${f.mappingCases} with a mapping document (${f.documents} documents); ` +
      `${f.edits} edits: ${f.changed} changed, ${f.unchanged} no-op, ${f.refused} refused, ${f.failures.length} failed`,
  );
  for (const [reason, count] of f.refusals) console.log(`         refused ${String(count).padStart(3)}× ${reason}`);
  for (const failure of f.failures.slice(0, 5)) console.log(`         FAILED ${failure}`);
}
console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failed > 0 ? 1 : 0;
