// The edge of the HTTP server, before any route runs: requests with an ambiguous Host are
// refused (RFC 9112 §3.2), a path no route serves answers 404 and a known path asked with a
// method it does not serve answers 405 with `Allow` — both in the registry's error JSON, for
// every method node can parse (TRACE, OPTIONS, PROPFIND, …) — errors Fastify raises itself (a
// path with a bad percent-encoding, an invalid Content-Type) answer in that JSON too, under
// /api/v1 in the gallery API's, and a connection closed after its last response lingers so a
// client still sending reads the answer (lingering-close.ts). CONNECT answers 501. Malformed
// requests that never reach Fastify are answered by client-error.ts.
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { API_PREFIX, sendApiError } from "../gallery/index.ts";
import { hasUnreadBody } from "../lib/unread-body.ts";
import { RegistryError, toErrorResponse } from "../registry/index.ts";
import { rawErrorResponse } from "./client-error.ts";
import { lingerOnLastResponse, lingeringClose } from "./lingering-close.ts";

export interface HttpEdgeOptions {
  /** Methods a path is served with, or undefined for a path no route serves. */
  readonly allowedMethods: (path: string) => readonly string[] | undefined;
  /** Answers a request no route serves (the web console), or returns undefined to refuse it. */
  readonly fallback?: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> | undefined;
}

export function installHttpEdge(app: FastifyInstance, options: HttpEdgeOptions): void {
  // The Host check is done below, to answer in JSON rather than with node's bare 400.
  (app.server as { requireHostHeader?: boolean }).requireHostHeader = false;
  // CONNECT asks for a tunnel, which node hands to a `connect` listener; without one it destroys
  // the socket unanswered. No resource supports it: 501 (RFC 9110 §15.6.2).
  app.server.on("connect", (_req: unknown, socket: Duplex) => {
    const refusal = {
      status: 501,
      message: "Method CONNECT is not supported: the server is not a proxy",
      detail: { method: "CONNECT" },
    };
    if (socket.writable) socket.write(rawErrorResponse(refusal));
    lingeringClose(socket);
  });
  app.addHook("onRequest", (req, reply, done) => {
    lingerOnLastResponse(req.raw.socket);
    const refusal = hostRefusal(req);
    if (refusal === undefined) {
      done();
      return;
    }
    refuse(req, reply, refusal);
  });
  // Handlers answer their own errors; what reaches here was raised by Fastify before a handler
  // ran (an invalid Content-Type) or by the small endpoints (/metrics, /token).
  app.setErrorHandler(answerFrameworkError);
  app.setNotFoundHandler((req, reply) => {
    const answered = options.fallback?.(req, reply);
    if (answered !== undefined) return answered;
    const path = pathOf(req.raw.url ?? "/");
    const allowed = options.allowedMethods(path);
    const shown = JSON.stringify(path.slice(0, 200));
    return refuse(
      req,
      reply,
      allowed === undefined
        ? new RegistryError("UNSUPPORTED", `No endpoint at ${shown}`, { status: 404 })
        : new RegistryError("UNSUPPORTED", `Method ${req.method} is not supported on ${shown}`, {
            status: 405,
            headers: { Allow: allowed.join(", ") },
          }),
    );
  });
}

/**
 * Fastify's `frameworkErrors` option and the root error handler: errors Fastify raises before
 * any route or handler runs, answered in the error JSON of the area the path belongs to.
 */
export function answerFrameworkError(
  error: FastifyError,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const path = pathOf(req.raw.url ?? "/");
  const client = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500;
  if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) return sendApiError(reply, error);
  if (!client) {
    reply.log.error({ err: error, method: req.method }, "request failed");
    return refuse(req, reply, error);
  }
  const shown = JSON.stringify(path.slice(0, 200));
  const message =
    error.code === "FST_ERR_BAD_URL"
      ? `Malformed request: the path ${shown} has an invalid percent-encoding`
      : error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
        ? `Unsupported media type: Content-Type ${JSON.stringify(String(req.headers["content-type"]).slice(0, 200))} is not a valid media type`
        : error.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? `The path ${shown} has a segment longer than the server accepts`
          : error.message;
  return refuse(
    req,
    reply,
    new RegistryError("UNSUPPORTED", message, { status: error.statusCode ?? 400, cause: error }),
  );
}

/** RFC 9112 §3.2: a request with no Host (HTTP/1.1) or with more than one is refused. */
function hostRefusal(req: FastifyRequest): RegistryError | undefined {
  const raw = req.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === "host") count++;
  }
  if (count > 1) {
    return new RegistryError("UNSUPPORTED", `Malformed request: Host is given ${count} times`, {
      status: 400,
      detail: { header: "Host" },
    });
  }
  if (count === 0 && req.raw.httpVersion === "1.1") {
    return new RegistryError("UNSUPPORTED", "Malformed request: Host is missing", {
      status: 400,
      detail: { header: "Host" },
    });
  }
  return undefined;
}

/** Answers in the registry's error JSON (an error not from the registry becomes a 500). */
function refuse(req: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const mapped = toErrorResponse(error);
  const body = Buffer.from(JSON.stringify(mapped.body));
  // Framework errors skip the onRequest hook.
  lingerOnLastResponse(req.raw.socket);
  reply.code(mapped.status).headers({
    ...mapped.headers,
    "Docker-Distribution-API-Version": "registry/2.0",
    "Content-Type": "application/json",
    "Content-Length": body.length,
  });
  // An unread body would otherwise be read whole to keep the connection; a request refused for
  // its framing closes it.
  if (hasUnreadBody(req.raw) || mapped.status === 400) reply.header("Connection", "close");
  return reply.send(body);
}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}
