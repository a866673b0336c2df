import { randomUUID } from 'node:crypto';
import { API_ORIGIN, errorBody, HttpError, type SimResponse } from './http.js';
import { OpenApiValidator, type RouteMatch } from './openapi-validator.js';
import { APP_JWT_OPERATIONS, ROUTES } from './routes.js';
import type { World } from './world.js';

/**
 * Operations whose response schema no answer can meet: the description inlines `installation.account`
 * as `allOf: [simple-user, enterprise]` (the component says `anyOf`), an artefact of its generator.
 */
const UNSATISFIABLE_RESPONSE_SCHEMAS: ReadonlySet<string> = new Set(['apps/list-installations']);

export interface RecordedRequest {
  readonly method: string;
  /** Path without host and query, percent-decoded: `/repos/acme/config/git/ref/heads/main`. */
  readonly path: string;
  /** The query string without `?` ('' when none). */
  readonly query: string;
  readonly status: number;
  /** The OpenAPI operation it matched, when it matched one. */
  readonly operationId?: string;
}

export interface FaultMatch {
  readonly method?: string;
  /** Tested against the percent-decoded path, as the request log shows it. */
  readonly pathPattern?: RegExp;
}

export interface InjectedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** What the dispatcher needs of a request, read once. */
interface Incoming {
  readonly url: URL;
  /** Percent-decoded path, for the log, fault matching and messages. */
  readonly path: string;
  /** `METHOD path`, the prefix of every violation. */
  readonly label: string;
  readonly authorization: string | null;
  readonly bodyText: string;
}

interface PendingFault {
  readonly match: FaultMatch;
  readonly response: InjectedResponse;
  remaining: number;
}

let sharedValidator: OpenApiValidator | undefined;

/** One validator per process: compiling the OpenAPI schemas is the slow part of a simulator. */
function openApiValidator(): OpenApiValidator {
  sharedValidator ??= new OpenApiValidator();
  return sharedValidator;
}

/**
 * The HTTP face of the simulator: every request is matched against the OpenAPI description,
 * authenticated, validated, possibly failed on purpose, handled, and logged. Anything a real
 * GitHub would reject as malformed, or that the description does not know, becomes a violation.
 */
export class RequestDispatcher {
  readonly violations: string[] = [];
  readonly requests: RecordedRequest[] = [];
  private readonly faults: PendingFault[] = [];
  private readonly validator = openApiValidator();

  constructor(
    private readonly world: World,
    private readonly validateResponses: boolean,
  ) {}

  failNext(match: FaultMatch, response: InjectedResponse, times = 1): void {
    this.faults.push({ match, response, remaining: times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  async handle(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const incoming: Incoming = {
      url,
      path: decodedPath(url.pathname),
      label: `${method} ${decodedPath(url.pathname)}`,
      authorization: request.headers.get('authorization'),
      bodyText: method === 'GET' || method === 'HEAD' ? '' : await request.text(),
    };
    let match: RouteMatch | undefined;
    let response: SimResponse;
    try {
      match = url.origin === API_ORIGIN ? this.validator.match(method, url.pathname) : undefined;
      response = match ? await this.dispatch(match, incoming) : this.unknownRoute(incoming.label, url.origin);
    } catch (error) {
      response = this.failure(incoming.label, error);
    }
    this.requests.push({
      method,
      path: incoming.path,
      query: url.search.replace(/^\?/, ''),
      status: response.status,
      ...(match ? { operationId: match.operationId } : {}),
    });
    return toFetchResponse(response);
  }

  private async dispatch(match: RouteMatch, incoming: Incoming): Promise<SimResponse> {
    const { label, url } = incoming;
    const actor = this.authenticate(match, incoming.authorization);

    const { rawParams } = match;
    if (
      (rawParams.owner !== undefined && rawParams.owner !== this.world.owner) ||
      (rawParams.repo !== undefined && rawParams.repo !== this.world.repo)
    ) {
      throw new HttpError(404, errorBody('Not Found', 404)); // another repository: the App is not installed there
    }

    const parameters = this.validator.checkParameters(match, url.searchParams);
    if (parameters.pathErrors.length > 0) return this.violation(label, parameters.pathErrors, 404, 'Not Found');
    if (parameters.queryErrors.length > 0) return this.violation(label, parameters.queryErrors, 422, 'Invalid request.');

    let body: unknown;
    if (incoming.bodyText !== '') {
      try {
        body = JSON.parse(incoming.bodyText);
      } catch {
        return this.violation(label, ['body is not JSON'], 400, 'Problems parsing JSON');
      }
    }
    const bodyErrors = this.validator.checkRequestBody(match, body);
    if (bodyErrors.length > 0) return this.violation(label, bodyErrors, 422, `Invalid request.\n\n${bodyErrors.join('\n')}`);

    const fault = this.takeFault(match.method, incoming.path);
    if (fault) return fault;

    const handler = ROUTES[match.operationId];
    if (!handler) {
      this.violations.push(`${label}: ${match.operationId} is described by the OpenAPI document but not implemented by the simulator`);
      return { status: 501, body: errorBody(`${match.operationId} is not simulated`, 501) };
    }
    const response = await handler({
      world: this.world,
      actor,
      params: { ...parameters.query, ...parameters.path },
      query: parameters.query,
      body,
      path: url.pathname,
    });
    if (
      this.validateResponses &&
      response.status < 300 &&
      !Buffer.isBuffer(response.body) &&
      !UNSATISFIABLE_RESPONSE_SCHEMAS.has(match.operationId)
    ) {
      for (const error of this.validator.checkResponse(match, response.status, response.body)) this.violations.push(`${label}: ${error}`);
    }
    return response;
  }

  /** The login a request acts as; App JWTs for app-level operations, issued tokens for the rest. */
  private authenticate(match: RouteMatch, authorization: string | null): string {
    if (!authorization) throw new HttpError(401, errorBody('Requires authentication', 401));
    const [scheme = '', credential = ''] = authorization.split(/\s+/, 2);
    if (APP_JWT_OPERATIONS.has(match.operationId)) {
      // Any well-formed JWT is accepted: the simulator does not know the App's private key.
      if (scheme.toLowerCase() === 'bearer' && credential.split('.').length === 3) return '';
      throw new HttpError(401, errorBody('A JSON web token could not be decoded', 401));
    }
    const login = /^(token|bearer)$/i.test(scheme) ? this.world.tokens.get(credential) : undefined;
    if (login === undefined) throw new HttpError(401, errorBody('Bad credentials', 401));
    return login;
  }

  private takeFault(method: string, path: string): SimResponse | undefined {
    const index = this.faults.findIndex(
      ({ match }) =>
        (match.method === undefined || match.method.toLowerCase() === method) &&
        (match.pathPattern === undefined || match.pathPattern.test(path)),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    if (--fault.remaining <= 0) this.faults.splice(index, 1);
    return { status: fault.response.status, headers: fault.response.headers, body: fault.response.body };
  }

  private unknownRoute(label: string, origin: string): SimResponse {
    const reason = origin === API_ORIGIN ? 'no such route in the OpenAPI description' : `unexpected origin ${origin}`;
    this.violations.push(`${label}: ${reason}`);
    return { status: 404, body: errorBody('Not Found', 404) };
  }

  private violation(label: string, errors: readonly string[], status: number, message: string): SimResponse {
    this.violations.push(`${label}: ${errors.join('; ')}`);
    return { status, body: errorBody(message, status) };
  }

  private failure(label: string, error: unknown): SimResponse {
    if (error instanceof HttpError) return { status: error.status, body: error.body };
    // A bug in the simulator itself: fail the test rather than guess.
    this.violations.push(`${label}: simulator error: ${(error as Error).stack ?? String(error)}`);
    return { status: 500, body: errorBody('Internal simulator error', 500) };
  }
}

function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

function toFetchResponse(response: SimResponse): Response {
  const headers = new Headers({
    'x-github-request-id': randomUUID(),
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-used': '1',
    'x-ratelimit-resource': 'core',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    ...response.headers,
  });
  if (response.body === undefined || response.status === 204) return new Response(null, { status: response.status, headers });
  if (Buffer.isBuffer(response.body)) return new Response(new Uint8Array(response.body), { status: response.status, headers });
  const isText = typeof response.body === 'string'; // only injected faults answer plain text
  if (!headers.has('content-type')) headers.set('content-type', isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
  return new Response(isText ? (response.body as string) : JSON.stringify(response.body), { status: response.status, headers });
}
