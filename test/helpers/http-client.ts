// A small HTTP client over node:http for tests that need what fetch hides: bodies written in
// parts, aborted mid-stream, raw paths and exact headers.
import { request, type ClientRequest, type IncomingHttpHeaders } from "node:http";

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export function httpRequest(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string | number>; body?: Buffer } = {},
): Promise<RawResponse> {
  const req = open(base, method, path, options.headers ?? {});
  const done = response(req);
  req.end(options.body);
  return done;
}

/** Starts a request and returns it unfinished, so the caller can write the body in parts. */
export function open(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string | number>,
): ClientRequest {
  const { hostname, port } = new URL(base);
  return request({ host: hostname, port, method, path, headers, agent: false });
}

export function response(req: ClientRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("error", reject);
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
  });
}

/** Polls check until it returns true or the deadline passes. */
export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
