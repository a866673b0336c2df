import { describe, expect, it } from 'vitest';
import { runWriterSuite } from './yaml-suite-harness.js';

/**
 * Property over the official YAML test suite (issue 10): every valid case with a mapping
 * document, as given, after a byte order mark and with CRLF line ends; set, add, delete, nested
 * and no-op edits on both writer paths. See yaml-suite-harness.ts for what each edit must do;
 * `npx vite-node test/bench/writer-suite.ts` prints the figures.
 */
describe('property: the writer on the YAML test suite', () => {
  it('gives the same bytes on both paths, valid YAML that reads as the patch, no bytes outside the edit, or a typed refusal', () => {
    const figures = runWriterSuite(['plain', 'bom', 'crlf']);
    expect(figures.failures.slice(0, 10)).toEqual([]);
    expect(figures.failures).toHaveLength(0);
    // The suite really was exercised, and refusals stay the exception.
    expect(figures.mappingCases).toBeGreaterThan(400);
    expect(figures.edits).toBeGreaterThan(5000);
    expect(figures.changed + figures.unchanged).toBeGreaterThan(figures.edits * 0.85);
  });
});
