// The edge of the HTTP server, before any route runs: requests with an ambiguous Host are
// refused (RFC 9112 §3.2), a path no route serves answers 404 and a known path asked with a
// method it does not serve answers 405 with `Allow` — both in the registry's error JSON, for
// every method node can parse (TRACE, OPTIONS, PROPFIND, …) — and a connection closed after its
// last response lingers so a client still sending reads the answer (lingering-close.ts).
// Malformed requests that never reach Fastify are answered by client-error.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RegistryError, toErrorResponse } from "../registry/index.ts";
import { lingerOnLastResponse } from "./lingering-close.ts";

export interface HttpEdgeOptions {
  /** Methods a path is served with, or undefined for a path no route serves. */
  readonly allowedMethods: (path: string) => readonly string[] | undefined;
}

export function installHttpEdge(app: FastifyInstance, options: HttpEdgeOptions): void {
  // The Host check is done below, to answer in JSON rather than with node's bare 400.
  (app.server as { requireHostHeader?: boolean }).requireHostHeader = false;
  app.addHook("onRequest", (req, reply, done) => {
    lingerOnLastResponse(req.raw.socket);
    const refusal = hostRefusal(req);
    if (refusal === undefined) {
      done();
      return;
    }
    refuse(req, reply, refusal);
  });
  app.setNotFoundHandler((req, reply) => {
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

function refuse(req: FastifyRequest, reply: FastifyReply, error: RegistryError): FastifyReply {
  const mapped = toErrorResponse(error);
  const body = Buffer.from(JSON.stringify(mapped.body));
  reply.code(mapped.status).headers({
    ...mapped.headers,
    "Docker-Distribution-API-Version": "registry/2.0",
    "Content-Type": "application/json",
    "Content-Length": body.length,
  });
  // An unread body would otherwise be read whole to keep the connection; a request refused for
  // its framing closes it.
  if (hasUnreadBody(req) || error.status === 400) reply.header("Connection", "close");
  return reply.send(body);
}

/** Routing runs as soon as the headers are parsed, so a body may be yet to arrive. */
function hasUnreadBody(req: FastifyRequest): boolean {
  if (req.raw.complete) return false;
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}
