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

export interface ApiRoute {
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
  readonly handler: (service: GalleryService, req: ApiRequest) => Promise<ApiResult>;
}

export const ok = (body: unknown): ApiResult => ({ status: 200, body });
