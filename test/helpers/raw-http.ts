// A raw HTTP/1.1 exchange over a loopback socket (node:net): sends bytes exactly as given, so
// tests can send what no HTTP client would, and reads every response the server writes until
// it closes the connection or stops answering for a while.
import { connect } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface RawExchange {
  readonly responses: readonly RawResponse[];
  /** The server closed the connection (FIN or reset) before the client did. */
  readonly closed: boolean;
  /** A write of the client failed (EPIPE, ECONNRESET): the server reset the connection. */
  readonly writeError: string | undefined;
}

export interface RawOptions {
  /**
   * Bytes written after `request`, in pieces. With `readAfterWrite`, nothing is read before the
   * last piece is written, as a client that sends its whole request before reading behaves:
   * a reset from the server then fails its writes and the answer is never read.
   */
  readonly body?: { readonly size: number; readonly piece?: number; readonly readAfterWrite?: boolean };
  /**
   * When to give up waiting for the server to close, once `expect` responses are complete
   * (the connection is then reported open). Bounded; never asserted as a duration.
   */
  readonly idleMs?: number;
  /** Responses to wait for before the idle wait starts (default 1). */
  readonly expect?: number;
}

export function rawExchange(
  url: string,
  request: Buffer | string,
  options: RawOptions = {},
): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  const expect = options.expect ?? 1;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = Buffer.alloc(0);
    let writeError: string | undefined;
    let closed = false;
    let idle: NodeJS.Timeout | undefined;
    const overall = setTimeout(() => finish(), 30_000);
    const finish = (): void => {
      clearTimeout(overall);
      if (idle !== undefined) clearTimeout(idle);
      socket.destroy();
      try {
        resolve({ responses: parseResponses(received), closed, writeError });
      } catch (error) {
        reject(error as Error);
      }
    };
    const armIdle = (): void => {
      if (idle !== undefined) clearTimeout(idle);
      if (countComplete(received) >= expect) idle = setTimeout(finish, options.idleMs ?? 1_000);
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      armIdle();
    });
    socket.on("end", () => {
      closed = true;
      finish();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      closed = true;
      writeError ??= error.code ?? error.message;
      finish();
    });
    socket.on("connect", () => {
      socket.write(request);
      const body = options.body;
      if (body === undefined) return;
      if (body.readAfterWrite === true) socket.pause();
      const piece = Buffer.alloc(body.piece ?? 64 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < body.size && !socket.destroyed) {
          const n = Math.min(piece.length, body.size - sent);
          sent += n;
          const last = sent === body.size;
          const written = socket.write(n === piece.length ? piece : piece.subarray(0, n), (error) => {
            if (last && error == null) socket.resume();
          });
          if (!written) {
            socket.once("drain", pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

function countComplete(data: Buffer): number {
  try {
    return parseResponses(data).length;
  } catch {
    return 0;
  }
}

/** Complete responses in `data` (Content-Length framed, as the server answers errors). */
export function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const lines = data.subarray(at, end).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? NaN);
    if (Number.isNaN(status)) throw new Error(`Not an HTTP response: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (end + 4 + length > data.length) break;
    out.push({ status, headers, body: data.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}
