import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

/**
 * Route matching and request/response validation against GitHub's OpenAPI description (the
 * subset in github-rest-openapi.subset.json). OpenAPI 3.0 schemas are JSON Schema plus
 * `nullable`, which Ajv understands; `$ref`s point at `#/components/...`, so the whole document
 * is registered under DOCUMENT_ID and every compiled schema refers into it.
 */

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ajvFormats.default;

const DOCUMENT_ID = 'https://simulator.invalid/github-rest-openapi.json';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'] as const;
/** Path parameters that may hold slashes when a client leaves them unencoded (`heads/main`, `a/b.yml`). */
const MULTI_SEGMENT_PARAMS = new Set(['ref', 'path', 'branch', 'basehead', 'head']);

type JsonObject = Record<string, unknown>;

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema?: JsonObject;
}

type ParameterList = ReadonlyArray<Parameter | { readonly $ref: string }>;

interface Operation {
  readonly operationId: string;
  readonly parameters?: ParameterList;
  readonly requestBody?: { readonly required?: boolean; readonly content?: Record<string, { schema?: JsonObject }> };
  readonly responses: Record<string, JsonObject>;
}

export interface RouteMatch {
  readonly operationId: string;
  readonly method: string;
  /** The OpenAPI path, e.g. `/repos/{owner}/{repo}/git/ref/{ref}`. */
  readonly template: string;
  /** Path parameters, percent-decoded, still strings. */
  readonly rawParams: Readonly<Record<string, string>>;
}

export interface CheckedParameters {
  /** Parameters coerced to their declared types (`"2"` → 2 for an integer). */
  readonly path: Record<string, unknown>;
  readonly query: Record<string, unknown>;
  readonly pathErrors: readonly string[];
  readonly queryErrors: readonly string[];
}

interface Route {
  readonly template: string;
  readonly method: string;
  readonly operation: Operation;
  readonly segments: readonly Segment[];
  /** The last parameter may span several path segments (refs, file paths, branch names). */
  readonly greedyTail: boolean;
  /** Literal characters in the template: the more, the more specific. */
  readonly specificity: number;
  readonly checkPath: ValidateFunction;
  readonly checkQuery: ValidateFunction;
}

type Segment = { readonly literal: string } | { readonly pattern: RegExp; readonly names: readonly string[] };

export function loadOpenApiDocument(): JsonObject {
  return JSON.parse(readFileSync(new URL('./github-rest-openapi.subset.json', import.meta.url), 'utf8')) as JsonObject;
}

export class OpenApiValidator {
  /** The description, with `nullable` rewritten for Ajv. */
  private readonly document: JsonObject;
  private readonly routes: Route[] = [];
  /** Validates bodies as they are (no coercion, no defaults). */
  private readonly strict: Ajv;
  /** Coerces parameter strings to their declared types. */
  private readonly coercing: Ajv;
  private readonly compiled = new Map<string, ValidateFunction | null>();

  constructor(document: JsonObject = loadOpenApiDocument()) {
    this.document = withNullableAsAnyOf(document) as JsonObject;
    this.strict = newAjv(false);
    this.coercing = newAjv(true);
    for (const ajv of [this.strict, this.coercing]) ajv.addSchema({ ...this.document, $id: DOCUMENT_ID });
    const paths = this.document.paths as Record<string, JsonObject>;
    for (const [template, item] of Object.entries(paths)) {
      for (const method of HTTP_METHODS) {
        const operation = item[method] as Operation | undefined;
        if (operation) this.routes.push(this.compileRoute(template, method, operation, (item.parameters ?? []) as ParameterList));
      }
    }
  }

  /** The operation a request addresses, or undefined when the description has no such route. */
  match(method: string, pathname: string): RouteMatch | undefined {
    const wanted = method.toLowerCase();
    const parts = pathname.split('/').slice(1);
    let best: { route: Route; params: Record<string, string> } | undefined;
    for (const route of this.routes) {
      if (route.method !== wanted) continue;
      const params = matchSegments(route, parts);
      if (params && (!best || route.specificity > best.route.specificity)) best = { route, params };
    }
    return best && { operationId: best.route.operation.operationId, method: wanted, template: best.route.template, rawParams: best.params };
  }

  checkParameters(match: RouteMatch, query: URLSearchParams): CheckedParameters {
    const route = this.route(match);
    const pathValues: JsonObject = { ...match.rawParams };
    const queryValues: JsonObject = {};
    for (const [key, value] of query) queryValues[key] = value;
    const pathErrors = route.checkPath(pathValues) ? [] : describe(route.checkPath.errors, 'path');
    const queryErrors = route.checkQuery(queryValues) ? [] : describe(route.checkQuery.errors, 'query');
    return { path: pathValues, query: queryValues, pathErrors, queryErrors };
  }

  /** Errors of a JSON body (undefined when none was sent) against the operation's requestBody schema. */
  checkRequestBody(match: RouteMatch, body: unknown): string[] {
    const operation = this.route(match).operation;
    const validate = this.compileOnce(
      `request ${operation.operationId}`,
      () => operation.requestBody?.content?.['application/json']?.schema,
    );
    if (!validate) return [];
    if (body === undefined) return operation.requestBody?.required ? ['body: required'] : [];
    return validate(body) ? [] : describe(validate.errors, 'body');
  }

  /** Checks a JSON answer against the declared response for its status (undeclared statuses are errors). */
  checkResponse(match: RouteMatch, status: number, body: unknown): string[] {
    const operation = this.route(match).operation;
    const declared = operation.responses[String(status)];
    if (!declared) return [`status ${status} is not a declared response of ${operation.operationId}`];
    const validate = this.compileOnce(`response ${operation.operationId} ${status}`, () => {
      const response = this.resolve(declared) as { content?: Record<string, { schema?: JsonObject }> };
      return response.content?.['application/json']?.schema;
    });
    if (!validate) return [];
    return validate(body) ? [] : describe(validate.errors, 'response');
  }

  private route(match: RouteMatch): Route {
    const route = this.routes.find((r) => r.template === match.template && r.method === match.method);
    if (!route) throw new Error(`no route ${match.method} ${match.template}`);
    return route;
  }

  private compileRoute(template: string, method: string, operation: Operation, shared: ParameterList): Route {
    const parameters = [...shared, ...(operation.parameters ?? [])].map((p) => this.resolve(p) as unknown as Parameter);
    const segments = template.split('/').slice(1).map(compileSegment);
    const tail = segments.at(-1);
    return {
      template,
      method,
      operation,
      segments,
      greedyTail: tail !== undefined && 'names' in tail && MULTI_SEGMENT_PARAMS.has(tail.names.at(-1)!),
      specificity: template.replace(/\{[^}]+\}/g, '').length,
      checkPath: this.coercing.compile(parametersSchema(parameters.filter((p) => p.in === 'path'))),
      checkQuery: this.coercing.compile(parametersSchema(parameters.filter((p) => p.in === 'query'))),
    };
  }

  private compileOnce(key: string, schemaOf: () => JsonObject | undefined): ValidateFunction | null {
    if (!this.compiled.has(key)) {
      const schema = schemaOf();
      this.compiled.set(key, schema ? this.strict.compile(pointIntoDocument(schema) as JsonObject) : null);
    }
    return this.compiled.get(key)!;
  }

  /** Follows a local `$ref` (`#/components/...`) inside the document. */
  private resolve(node: unknown): JsonObject {
    const ref = (node as { $ref?: string }).$ref;
    if (!ref) return node as JsonObject;
    let target: unknown = this.document;
    for (const key of ref.replace(/^#\//, '').split('/')) target = (target as JsonObject)[key.replace(/~1/g, '/').replace(/~0/g, '~')];
    return this.resolve(target);
  }
}

function newAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes, validateSchema: false });
  addFormats(ajv);
  ajv.addFormat('repo.nwo', /^[^/]+\/[^/]+$/); // GitHub's own "owner/name" format
  return ajv;
}

function parametersSchema(parameters: readonly Parameter[]): JsonObject {
  return pointIntoDocument({
    type: 'object',
    properties: Object.fromEntries(parameters.map((p) => [p.name, p.schema ?? {}])),
    required: parameters.filter((p) => p.required).map((p) => p.name),
  }) as JsonObject;
}

/**
 * Ajv reads OpenAPI's `nullable` only next to a `type`, and still applies `enum` to null; GitHub's
 * description also puts `nullable` beside `$ref`/`allOf`/`anyOf`. Every nullable schema becomes
 * `anyOf: [schema, {type: 'null'}]`.
 */
function withNullableAsAnyOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withNullableAsAnyOf);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as JsonObject;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, withNullableAsAnyOf(value)]));
  if (nullable !== true) return nullable === undefined ? converted : { ...converted, nullable };
  return { anyOf: [converted, { type: 'null' }] };
}

/** A copy of a schema taken out of the document whose local `$ref`s point back into it. */
function pointIntoDocument(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(pointIntoDocument);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? DOCUMENT_ID + value : pointIntoDocument(value),
    ]),
  );
}

function compileSegment(segment: string): Segment {
  if (!segment.includes('{')) return { literal: segment };
  const names: string[] = [];
  const parts = segment.split(/(\{[^}]+\})/).filter(Boolean);
  const source = parts
    .map((part, index) => {
      const name = /^\{(.+)\}$/.exec(part)?.[1];
      if (!name) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(name);
      return index === parts.length - 1 ? '(.+)' : '(.+?)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}$`), names };
}

function matchSegments(route: Route, parts: readonly string[]): Record<string, string> | undefined {
  const count = route.segments.length;
  if (parts.length < count || (parts.length > count && !route.greedyTail)) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < count; index++) {
    const segment = route.segments[index]!;
    const isTail = index === count - 1;
    const raw = isTail ? parts.slice(index).join('/') : parts[index]!;
    const text = safeDecode(raw);
    if (text === undefined || text === '') return undefined;
    if ('literal' in segment) {
      if (text !== segment.literal) return undefined;
      continue;
    }
    const found = segment.pattern.exec(text);
    if (!found) return undefined;
    segment.names.forEach((name, i) => {
      params[name] = found[i + 1]!;
    });
  }
  return params;
}

function safeDecode(raw: string): string | undefined {
  try {
    return raw.split('/').map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
}

function describe(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? [])
    .slice(0, 8)
    .map(
      (e) =>
        `${where}${e.instancePath || ''} ${e.message ?? 'is invalid'}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`,
    );
}
