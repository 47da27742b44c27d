// Answers requests that node's HTTP parser refuses before any route sees them — malformed
// request lines and headers, bad chunked encoding, contradicting or invalid Content-Length,
// headers over the size limit — in the registry's error JSON instead of a bare status line, and
// closes the connection, since its framing can no longer be trusted.
import { maxHeaderSize, STATUS_CODES, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { RegistryError, toErrorResponse } from "../registry/index.ts";
import { isLingering, lingeringClose } from "./lingering-close.ts";

/** What node passes to the server's `clientError` listener. */
export interface ClientError extends Error {
  readonly code?: string;
  readonly reason?: string;
}

export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** The status and message a parser error is answered with. */
export function describeClientError(error: ClientError, maxHeaderSize: number): Refusal {
  const code = error.code ?? "UNKNOWN";
  const detail = { parser: code };
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        message: `Request header fields are too large: the request line and headers may take at most ${maxHeaderSize} bytes`,
        detail,
      };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { status: 413, message: "Chunk extensions of the request body are too large", detail };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, message: "The request did not arrive in time", detail };
    default: {
      // llhttp's reasons are short and exact ("Invalid header value char", "Transfer-Encoding
      // can't be present with Content-Length").
      const reason = error.reason === undefined ? "not valid HTTP/1.1" : asDetail(error.reason);
      return { status: 400, message: `Malformed request: ${reason}`, detail };
    }
  }
}

/** The raw HTTP/1.1 response written to the socket: the registry's error JSON, then close. */
export function rawErrorResponse(refusal: Refusal): Buffer {
  const mapped = toErrorResponse(
    new RegistryError("UNSUPPORTED", refusal.message, { status: refusal.status, detail: refusal.detail }),
  );
  const body = Buffer.from(JSON.stringify(mapped.body));
  const head = [
    `HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status] ?? "Bad Request"}`,
    "Content-Type: application/json",
    `Content-Length: ${body.length}`,
    "Docker-Distribution-API-Version: registry/2.0",
    "Connection: close",
    "",
    "",
  ].join("\r\n");
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/**
 * The server's `clientError` listener. When the refused bytes follow a complete request (a
 * pipelined next request), the response under way is let finish first, then the refusal is
 * sent; when they belong to the request being answered, the refusal is its answer — or, if
 * that answer has already begun, the connection is closed without one.
 */
export function createClientErrorHandler(log: Logger): (error: ClientError, socket: Socket) => void {
  const seen = new WeakSet<Socket>();
  return (error, socket) => {
    // A reset connection or one already closing has no one left to answer.
    if (error.code === "ECONNRESET" || socket.destroyed || isLingering(socket) || seen.has(socket)) return;
    seen.add(socket);
    const server = (socket as Socket & { server?: { maxHeaderSize?: number } }).server;
    const refusal = describeClientError(error, server?.maxHeaderSize ?? maxHeaderSize);
    log.debug({ code: error.code, status: refusal.status }, "malformed request refused");
    const answer = (): void => {
      if (socket.destroyed || isLingering(socket)) return;
      if (socket.writable) socket.write(rawErrorResponse(refusal));
      lingeringClose(socket);
    };
    const inflight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inflight === undefined || inflight === null || inflight.writableFinished) answer();
    else if (inflight.req.complete) finished(inflight, answer);
    else if (inflight.headersSent) lingeringClose(socket);
    else answer();
  };
}

function finished(res: ServerResponse, then: () => void): void {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    then();
  };
  res.once("finish", once);
  res.once("close", once);
}

/** Lowercases the first word of a reason after a colon, unless it is a name ("Content-Length"). */
function asDetail(reason: string): string {
  const first = reason.split(" ", 1)[0] ?? "";
  return /[-`A-Z]/.test(first.slice(1)) ? reason : reason.charAt(0).toLowerCase() + reason.slice(1);
}
