/**
 * A parsed YAML or JSON document as a test reads it: the test walks a fixture it knows field by field,
 * and a wrong path fails the assertion, so a schema per fixture would only repeat the fixture.
 */
// biome-ignore lint/suspicious/noExplicitAny: tests walk parsed fixtures they know field by field; a wrong path fails the assertion
export type Doc = Record<string, any>;
