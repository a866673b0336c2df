import { errorBody, HttpError, type SimResponse } from '../http.js';
import type { Permission } from '../users.js';
import type { World } from '../world.js';

/** What a handler gets: the world, who is calling, and the request already checked against the OpenAPI description. */
export interface RouteContext {
  readonly world: World;
  /** The login the token acts as (the App's bot for installation tokens); empty for App JWTs. */
  readonly actor: string;
  /** Path and query parameters, coerced to their declared types. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The query parameters alone (what Link headers repeat). */
  readonly query: Readonly<Record<string, unknown>>;
  /** The JSON body (already valid against the operation's schema), or undefined. */
  readonly body: unknown;
  /** Request path without the query, for Link headers. */
  readonly path: string;
}

export type RouteHandler = (context: RouteContext) => SimResponse | Promise<SimResponse>;

/** Handlers keyed by OpenAPI operationId. */
export type RouteTable = Readonly<Record<string, RouteHandler>>;

export function stringParam(context: RouteContext, name: string): string {
  return String(context.params[name]);
}

export function numberParam(context: RouteContext, name: string): number {
  return Number(context.params[name]);
}

export function optionalString(context: RouteContext, name: string): string | undefined {
  const value = context.params[name];
  return value === undefined ? undefined : String(value);
}

/** The request body typed as the handler expects it (its shape was validated against the schema). */
export function bodyOf<T>(context: RouteContext): T {
  return (context.body ?? {}) as T;
}

/** 403 unless the caller's role allows the action (the App's installation may do everything). */
export function requirePermission(context: RouteContext, needed: Permission): void {
  if (!context.world.users.can(context.actor, needed))
    throw new HttpError(403, errorBody('Resource not accessible by personal access token', 403));
}
