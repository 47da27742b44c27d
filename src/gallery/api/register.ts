// Mounts the gallery API on Fastify under /api/v1: bodies are read as JSON (at most 1 MiB),
// query strings and bodies are checked against the route's schema (unknown fields refused),
// the caller is identified with the registry's credentials, and every error is answered as
// {"errors":[{code,message,detail}]}, the registry's error shape. Successful GETs carry an ETag
// and answer 304 to a matching If-None-Match (etag.ts); /events streams changes (events.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { TSchema } from "@sinclair/typebox";
// Check and Errors alone, not the Value namespace: the bundle then leaves out the rest of
// TypeBox's value module (cast, convert, diff, patch, …), which nothing here uses.
import { Errors } from "@sinclair/typebox/errors";
import { Check } from "@sinclair/typebox/value";
import type { Actor } from "../context.ts";
import { GalleryError, isGalleryError } from "../errors.ts";
import type { GalleryService } from "../service.ts";
import { pathMethods } from "./allowed-methods.ts";
import { sendConditionalJson } from "./etag.ts";
import { EVENTS_OPENAPI, EVENTS_PATH, registerEventStream } from "./events.ts";
import { buildOpenApi } from "./openapi.ts";
import type { ApiRoute } from "./route.ts";
import { API_ROUTES } from "./routes.ts";

export const API_PREFIX = "/api/v1";
export const API_BODY_LIMIT = 1024 * 1024;

/** Identifies the caller from request headers; throws GalleryError("UNAUTHORIZED") on bad credentials. */
export type Identify = (req: { headers: FastifyRequest["headers"]; baseUrl: string }) => Promise<Actor>;

/** `more`: routes of other domains, bound to their services (see bindRoutes). */
export function registerGalleryApi(
  app: FastifyInstance,
  service: GalleryService,
  identify: Identify,
  more: readonly ApiRoute[] = [],
): void {
  const routes = [...API_ROUTES, ...more];
  // Built on first request: a server that is never asked for it does not pay for it at start.
  let openapi: Record<string, unknown> | undefined;
  const methodsOf = pathMethods(routes, [
    { method: "GET", path: "/openapi.json" },
    { method: "GET", path: EVENTS_PATH },
  ]);
  // Answers depend on the caller's roles when there are users: no shared cache may keep them.
  const cacheControl = service.authEnabled ? "private, no-cache" : "no-cache";
  app.register(
    async (api) => {
      api.removeAllContentTypeParsers();
      api.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: API_BODY_LIMIT }, (_req, body, done) => {
        done(null, body);
      });
      api.setErrorHandler((error, _req, reply) => sendApiError(reply, error));
      api.setNotFoundHandler((req, reply) => {
        const path = req.url.split("?")[0] ?? "";
        const allowed = methodsOf(path.slice(API_PREFIX.length));
        const shown = JSON.stringify(path.slice(0, 200));
        if (allowed === undefined) {
          return sendApiError(
            reply,
            new GalleryError("NOT_FOUND", `No API endpoint ${req.method} ${path.slice(0, 200)}`),
          );
        }
        reply.header("Allow", allowed.join(", "));
        return sendApiError(
          reply,
          new GalleryError("METHOD_NOT_ALLOWED", `Method ${req.method} is not supported on ${shown}`, {
            detail: { allow: allowed },
          }),
        );
      });
      api.get("/openapi.json", async (req, reply) =>
        sendConditionalJson(
          req,
          reply,
          (openapi ??= buildOpenApi(routes, { [EVENTS_PATH]: EVENTS_OPENAPI })),
          "no-cache",
        ),
      );
      registerEventStream(app, api, { service, identify });
      for (const route of routes) {
        api.route({
          method: route.method,
          url: route.path,
          handler: async (req, reply) => {
            const baseUrl = `${req.protocol}://${req.headers.host ?? req.hostname}`;
            const identified = await identify({ headers: req.headers, baseUrl });
            // A read anonymous callers may make, where the server grants them: the caller (and
            // so any user, who may do what anonymous callers may) reads every gallery.
            const actor: Actor =
              route.anonymous === true &&
              route.method === "GET" &&
              service.authEnabled &&
              service.anonymousRead
                ? { ...identified, anonymousReader: true }
                : identified;
            const query = check("query string", route.query, req.query ?? {});
            const body =
              route.body === undefined ? undefined : check("body", route.body, parseBody(req.body));
            const result = await route.handler(service, {
              actor,
              params: req.params as Record<string, string>,
              query: query as Record<string, string>,
              body,
              host: (req.headers.host ?? "").toLowerCase(),
            });
            if (route.method === "GET" && result.status === 200)
              return sendConditionalJson(req, reply, result.body, cacheControl);
            reply.code(result.status).header("Cache-Control", "no-store");
            return result.body;
          },
        });
      }
    },
    { prefix: API_PREFIX },
  );
}

function parseBody(raw: unknown): unknown {
  if (raw === undefined || (Buffer.isBuffer(raw) && raw.length === 0)) return {};
  try {
    return JSON.parse(Buffer.isBuffer(raw) ? raw.toString("utf8") : String(raw)) as unknown;
  } catch (error) {
    throw new GalleryError("INVALID", `Invalid JSON body: ${(error as Error).message}`, { cause: error });
  }
}

function check(what: string, schema: TSchema | undefined, value: unknown): unknown {
  if (schema === undefined) return value;
  if (Check(schema, value)) return value;
  const first = Errors(schema, value).First();
  const path = first?.path ?? "";
  if (first !== undefined && /unexpected property|additional properties/i.test(first.message)) {
    const field = path.split("/").pop() ?? "";
    const where = path.lastIndexOf("/") > 0 ? ` at "${path.slice(0, path.lastIndexOf("/"))}"` : "";
    throw new GalleryError(
      "INVALID",
      `Invalid ${what}${where}: unknown field ${JSON.stringify(field.slice(0, 64))}`,
      {
        detail: { path },
      },
    );
  }
  const at = path === "" ? "" : ` at "${path}"`;
  const tooLong = first !== undefined && /length less or equal/i.test(first.message);
  throw new GalleryError(
    tooLong ? "TOO_LARGE" : "INVALID",
    `Invalid ${what}${at}: ${first?.message ?? "does not match the schema"}`,
    { detail: { path } },
  );
}

/** The API's one error answer: {"errors":[{code,message,detail}]} in the gallery's codes. */
export function sendApiError(reply: FastifyReply, error: unknown): FastifyReply {
  let status = 500;
  let body: { code: string; message: string; detail?: unknown };
  if (isGalleryError(error)) {
    status = error.status;
    body = {
      code: error.code,
      message: error.message,
      ...(error.detail === undefined ? {} : { detail: error.detail }),
    };
  } else if (isFastifyError(error) && error.statusCode !== undefined && error.statusCode < 500) {
    status = error.statusCode;
    const code = status === 413 ? "TOO_LARGE" : status === 415 ? "INVALID" : "INVALID";
    body = {
      code,
      message: status === 413 ? `Request body is larger than ${API_BODY_LIMIT} bytes` : error.message,
    };
  } else {
    reply.log.error({ err: error }, "gallery API request failed");
    body = { code: "INTERNAL", message: "Internal error" };
  }
  if (status === 401) reply.header("WWW-Authenticate", 'Basic realm="strata"');
  return reply
    .code(status)
    .header("Content-Type", "application/json")
    .send({ errors: [body] });
}

function isFastifyError(error: unknown): error is { statusCode?: number; message: string } {
  return typeof error === "object" && error !== null && "statusCode" in error;
}
