// The shape of one API route: declared as data (method, path, schemas, summary) with a handler
// that calls the service. The same table mounts the routes and writes the OpenAPI document.
import type { TSchema } from "@sinclair/typebox";
import type { Actor } from "../context.ts";
import type { GalleryService } from "../service.ts";

export interface ApiRequest {
  readonly actor: Actor;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** The Host the request was sent to (lowercase), e.g. `registry.example:5000`. */
  readonly host: string;
}

export interface ApiResult {
  readonly status: number;
  readonly body: unknown;
}

/** `S`: what the handler calls; the gallery's service for the gallery's own table. */
export interface ApiRoute<S = GalleryService> {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Fastify path relative to /api/v1, with :params. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly query?: TSchema;
  readonly body?: TSchema;
  /** The body of a successful answer. */
  readonly response: TSchema;
  /** Statuses this route answers with on success, with a description each. */
  readonly responses: Readonly<Record<number, string>>;
  /**
   * A read that callers without credentials may make when the server grants anonymous reads
   * (`auth.anonymous: read`); they are then readers of every gallery. Never set on a change.
   */
  readonly anonymous?: true;
  readonly handler: (service: S, req: ApiRequest) => Promise<ApiResult>;
}

/** A route as documents and method lists see it: everything but the handler. */
export type ApiRouteShape = Omit<ApiRoute<never>, "handler">;

/**
 * Routes of another domain (usage, replication) bound to that domain's service, so they mount
 * beside the gallery's own under /api/v1 with the same identification, checks and errors.
 */
export function bindRoutes<S>(routes: readonly ApiRoute<S>[], service: S): ApiRoute[] {
  return routes.map((route) => ({ ...route, handler: (_gallery, req) => route.handler(service, req) }));
}

export const ok = (body: unknown): ApiResult => ({ status: 200, body });
