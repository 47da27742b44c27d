// Mounts the registry on a Fastify instance: one catch-all route under /v2 dispatches through
// the route table, checks access, runs the handler and writes its response; every error goes
// through toErrorResponse. Request bodies are never parsed by Fastify: handlers stream them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseRepositoryName, type Digest, type RepositoryName } from "../oci/index.ts";
import { LruCache } from "../lib/lru.ts";
import { hasUnreadBody } from "../lib/unread-body.ts";
import type { BodyWriter } from "../store/index.ts";
import type { RegistryDeps, RegistryResponse, RequestContext } from "./context.ts";
import { toErrorResponse } from "./error-response.ts";
import { RegistryError } from "./errors.ts";
import type { RegistryMetrics } from "./metrics.ts";
import { matchRoute, TOKEN_PATH } from "./routes.ts";

const METHODS = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"] as const;
const API_VERSION = { "Docker-Distribution-API-Version": "registry/2.0" };

export interface RegisterOptions {
  readonly metrics?: RegistryMetrics;
  /** Bytes of manifest content kept in memory (immutable, keyed by digest). */
  readonly manifestCacheBytes?: number;
}

export interface MountedRegistry {
  /** Resolves once every request handler has settled (and cleaned up after an abort). */
  drain(): Promise<void>;
}

export function registerRegistry(
  app: FastifyInstance,
  deps: RegistryDeps,
  options: RegisterOptions = {},
): MountedRegistry {
  const cache = new LruCache<Digest, Buffer>(options.manifestCacheBytes ?? 64 * 1024 * 1024, (b) => b.length);
  const manifestBytes = async (digest: Digest, size: number): Promise<Buffer> => {
    const hit = cache.get(digest);
    if (hit !== undefined) return hit;
    const bytes = await deps.blobs.read(digest, size);
    cache.set(digest, bytes);
    return bytes;
  };

  // Leave every body unread for the handlers.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_req, _payload, done) => done(null, undefined));

  app.route({
    method: [...METHODS],
    url: "/v2",
    handler: (req, reply) => dispatch(req, reply),
  });
  app.route({
    method: [...METHODS],
    url: "/v2/*",
    handler: (req, reply) => dispatch(req, reply),
  });
  app.get(TOKEN_PATH, async (req, reply) => {
    const result = await deps.auth.token({
      headers: req.headers,
      query: req.query as Record<string, string | string[] | undefined>,
    });
    reply.code(result.status).headers({ ...API_VERSION, ...(result.headers ?? {}) });
    return reply.send(result.body);
  });

  const socketTotals = new WeakMap<object, { read: number; written: number }>();
  const inflight = new Set<Promise<void>>();

  function dispatch(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const running = handle(req, reply).finally(() => inflight.delete(running));
    inflight.add(running);
    return running;
  }

  async function handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = process.hrtime.bigint();
    const socket = req.raw.socket;
    const url = req.raw.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
    const match = matchRoute(path);
    const routeName = match?.route.name ?? "unknown";
    let response: RegistryResponse;
    let user: string | undefined;
    try {
      if (match === undefined) {
        throw new RegistryError("UNSUPPORTED", `No endpoint at "${path.slice(0, 200)}"`, { status: 404 });
      }
      const handler = match.route.methods[req.method];
      if (handler === undefined) {
        throw new RegistryError("UNSUPPORTED", `Method ${req.method} is not supported on "${routeName}"`, {
          status: 405,
          headers: { Allow: Object.keys(match.route.methods).join(", ") },
        });
      }
      const rawName = match.groups.name;
      const name: RepositoryName | undefined =
        rawName === undefined ? undefined : parseRepositoryName(rawName);
      const baseUrl = `${req.protocol}://${req.headers.host ?? req.hostname}`;
      if (deps.auth.enabled) {
        const access = match.route.access(req.method);
        const result = await deps.auth.authorize(
          { headers: req.headers, baseUrl, route: routeName },
          { ...(name === undefined ? {} : { repository: name }), ...access },
        );
        if (!result.ok) {
          throw new RegistryError(result.code, result.message, {
            status: result.status,
            headers: result.headers,
          });
        }
        user = result.user;
      }
      const ctx: RequestContext = {
        deps,
        method: req.method,
        raw: req.raw,
        path,
        query,
        params: {
          ...(name === undefined ? {} : { name }),
          ...(match.groups.reference === undefined ? {} : { reference: match.groups.reference }),
          ...(match.groups.digest === undefined ? {} : { digest: match.groups.digest }),
          ...(match.groups.uuid === undefined ? {} : { uuid: match.groups.uuid }),
        },
        baseUrl,
        user,
        manifestBytes,
      };
      response = await handler(ctx);
    } catch (error) {
      const mapped = toErrorResponse(error);
      if (mapped.internal && req.raw.destroyed && !req.raw.complete) {
        // The client went away (or the server closed a connection whose framing broke) while
        // the body was streaming: nothing failed on the server's side.
        req.log.info({ route: routeName, method: req.method }, "request aborted");
      } else if (mapped.internal) {
        req.log.error({ err: error, route: routeName, method: req.method }, "request failed");
      } else {
        req.log.debug({ code: mapped.body.errors[0]?.code, route: routeName }, "request refused");
      }
      const headers: Record<string, string | number> = {
        ...mapped.headers,
        "Content-Type": "application/json",
      };
      // A body we did not read would otherwise be drained on a kept-alive connection.
      if (hasUnreadBody(req.raw)) headers.Connection = "close";
      response = { status: mapped.status, headers, body: mapped.body };
    }
    if (reply.raw.destroyed) {
      if (isWriter(response.body)) await response.body.close();
      return;
    }
    reply.raw.once("finish", () => {
      const metrics = options.metrics;
      if (metrics === undefined) return;
      const labels = { route: routeName, method: req.method };
      metrics.requests.inc({ ...labels, status: String(response.status) });
      metrics.duration.observe(Number(process.hrtime.bigint() - started) / 1e9, labels);
      // Socket counters since the previous request on this connection: headers and bodies,
      // including body bytes read ahead before the handler ran.
      const seen = socketTotals.get(socket) ?? { read: 0, written: 0 };
      metrics.bytesIn.inc({ route: routeName }, Math.max(0, socket.bytesRead - seen.read));
      metrics.bytesOut.inc({ route: routeName }, Math.max(0, socket.bytesWritten - seen.written));
      socketTotals.set(socket, { read: socket.bytesRead, written: socket.bytesWritten });
    });
    if (user !== undefined) req.log.debug({ user }, "authenticated");
    await send(reply, response);
  }

  return {
    async drain() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}

async function send(reply: FastifyReply, response: RegistryResponse): Promise<void> {
  reply.code(response.status);
  reply.headers(API_VERSION);
  if (response.headers !== undefined) reply.headers(response.headers);
  const body = response.body;
  if (isWriter(body)) {
    // Written straight to the socket with reused buffers; Fastify's response hooks still run
    // on the raw response's finish.
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(response.status, { ...API_VERSION, ...response.headers });
    try {
      await body.writeTo(raw);
      raw.end();
    } catch (error) {
      raw.destroy(error as Error);
    }
    return;
  }
  if (body === undefined) {
    await reply.send();
    return;
  }
  if (Buffer.isBuffer(body) || typeof body === "string" || isStream(body)) {
    await reply.send(body);
    return;
  }
  // A Buffer, so Fastify adds no charset to media types such as the OCI index's.
  const json = Buffer.from(JSON.stringify(body));
  if (!reply.hasHeader("content-type")) reply.header("Content-Type", "application/json");
  reply.header("Content-Length", json.length);
  await reply.send(json);
}

function isWriter(value: unknown): value is BodyWriter {
  return typeof value === "object" && value !== null && typeof (value as BodyWriter).writeTo === "function";
}

function isStream(value: unknown): value is NodeJS.ReadableStream {
  return (
    typeof value === "object" && value !== null && typeof (value as NodeJS.ReadableStream).pipe === "function"
  );
}
