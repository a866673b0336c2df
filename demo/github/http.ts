/** What a route handler answers; the simulator turns it into a fetch `Response`. */
export interface SimResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON-serialised unless it is a Buffer (sent as is) or undefined (no body). */
  readonly body?: unknown;
}

export const API_ORIGIN = 'https://api.github.com';
export const WEB_ORIGIN = 'https://github.com';
const DOCS = 'https://docs.github.com/rest';

/** A GitHub error answer, thrown from anywhere below a route handler. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? status));
  }
}

export function ok(body: unknown, status = 200, headers?: Record<string, string>): SimResponse {
  return { status, body, ...(headers ? { headers } : {}) };
}

export function noContent(): SimResponse {
  return { status: 204 };
}

export function errorBody(message: string, status: number, documentationUrl = DOCS): Record<string, unknown> {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

export function notFound(): HttpError {
  return new HttpError(404, errorBody('Not Found', 404));
}

/** 422 with a plain message, as the git data endpoints answer ("Reference already exists"). */
export function unprocessable(message: string): HttpError {
  return new HttpError(422, errorBody(message, 422));
}

/** 422 "Validation Failed" with GitHub's `errors` array. */
export function validationFailed(...errors: Array<Record<string, unknown>>): HttpError {
  return new HttpError(422, { ...errorBody('Validation Failed', 422), errors });
}

/**
 * One page of a list plus GitHub's Link header (first/prev/next/last). Links use the
 * `/repos/{owner}/{repo}/...` form; GitHub uses `/repositories/{id}/...`, which this OpenAPI subset
 * does not describe.
 */
export function paginate<T>(items: readonly T[], query: Readonly<Record<string, unknown>>, path: string): SimResponse {
  const perPage = Math.min(Math.max(Number(query.per_page ?? 30), 1), 100);
  const page = Math.max(Number(query.page ?? 1), 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (target: number): string => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (key !== 'page' && value !== undefined) params.set(key, String(value));
    params.set('page', String(target));
    return `<${API_ORIGIN}${path}?${params.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${link(page - 1)}; rel="prev"`);
  if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
  if (page > 1) links.push(`${link(1)}; rel="first"`);
  return ok(slice, 200, links.length > 0 ? { link: links.join(', ') } : undefined);
}
