// A lean HTTP/1.1 client on node:http with a keep-alive agent, so the client is not what a
// benchmark measures: bodies are sent from existing Buffers without copies and responses are
// counted and dropped unless the caller asks to keep them.
import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import { once } from "node:events";

export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Body bytes received. */
  readonly bytes: number;
  /** The body, only when the request asked to keep it. */
  readonly body: Buffer;
}

export interface RequestOptions {
  readonly headers?: OutgoingHttpHeaders;
  /** A body sent in one write. */
  readonly body?: Buffer;
  /** A body streamed chunk by chunk, honouring backpressure; set content-length yourself. */
  readonly stream?: Iterable<Buffer>;
  /** Keep the response body (small JSON answers); otherwise a 2xx body is counted and dropped. */
  readonly keep?: boolean;
}

export interface Client {
  readonly base: URL;
  request(method: string, target: string, options?: RequestOptions): Promise<Response>;
  close(): void;
}

const EMPTY = Buffer.alloc(0);

export function createClient(baseUrl: string, maxSockets = 64): Client {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    base,
    request(method, target, options = {}) {
      // Locations may come back absolute or relative; only path and query go on the wire.
      const url = new URL(target, base);
      return new Promise<Response>((resolve, reject) => {
        const headers: OutgoingHttpHeaders = { ...options.headers };
        if (options.body !== undefined) headers["content-length"] = options.body.length;
        else if (options.stream === undefined && method !== "GET" && method !== "HEAD") {
          headers["content-length"] = 0;
        }
        const req = httpRequest(
          { host: base.hostname, port: base.port, method, path: url.pathname + url.search, headers, agent },
          (res) => {
            let bytes = 0;
            const chunks: Buffer[] = [];
            // Error answers are small and kept for the message.
            const keep = options.keep === true || (res.statusCode ?? 0) >= 300;
            res.on("data", (chunk: Buffer) => {
              bytes += chunk.length;
              if (keep) chunks.push(chunk);
            });
            res.once("error", reject);
            res.once("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                bytes,
                body: chunks.length === 0 ? EMPTY : Buffer.concat(chunks),
              }),
            );
          },
        );
        req.once("error", reject);
        if (options.stream !== undefined) {
          void writeStream(req, options.stream).catch((error: unknown) => req.destroy(error as Error));
        } else {
          req.end(options.body);
        }
      });
    },
    close() {
      agent.destroy();
    },
  };
}

async function writeStream(req: NodeJS.WritableStream, chunks: Iterable<Buffer>): Promise<void> {
  for (const chunk of chunks) {
    if (!req.write(chunk)) await once(req, "drain");
  }
  req.end();
}
