// A reverse proxy on loopback in front of a registry that records every exchange (method, path,
// status) and can misbehave on request, as a network or a damaged registry would: answer 500,
// cut the connection, answer 404, or flip a byte of a response body. A test counts blob uploads
// and downloads from the registry's side through it, and breaks a transfer at a chosen point.
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface ProxiedExchange {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** What to do with a request: forward it, or misbehave. */
export type Fault = "pass" | "error500" | "reset" | "missing" | "corrupt";
export type FaultRule = (request: { readonly method: string; readonly path: string }) => Fault;

export interface FaultProxy {
  /** host:port of the proxy. */
  readonly host: string;
  readonly exchanges: ProxiedExchange[];
  /** Replaces the rule (the default forwards everything). */
  setRule(rule: FaultRule): void;
  close(): Promise<void>;
}

const BLOB_PATH = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/;
const UPLOAD_PATH = /^\/v2\/(.+)\/blobs\/uploads\/[^?]+\?(?:.*&)?digest=(sha256(?:%3A|:)[0-9a-f]{64})/;

/** The digest of a blob a GET or HEAD asks for, if the path is a blob's. */
export const blobOfPath = (path: string): string | undefined => BLOB_PATH.exec(path)?.[2];

/** The digest an upload's closing PUT names, if the path is one. */
export const uploadOfPath = (path: string): string | undefined =>
  UPLOAD_PATH.exec(path)?.[2]?.replace("%3A", ":");

/** Blob digests uploaded (PUT answered 201) among `exchanges`. */
export const uploaded = (exchanges: readonly ProxiedExchange[]): string[] =>
  exchanges
    .filter((e) => e.method === "PUT" && e.status === 201)
    .map((e) => uploadOfPath(e.path))
    .filter((d): d is string => d !== undefined);

/** Blob digests downloaded (GET answered 200) among `exchanges`. */
export const downloaded = (exchanges: readonly ProxiedExchange[]): string[] =>
  exchanges
    .filter((e) => e.method === "GET" && e.status === 200)
    .map((e) => blobOfPath(e.path))
    .filter((d): d is string => d !== undefined);

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const exchanges: ProxiedExchange[] = [];
  let rule: FaultRule = () => "pass";
  const server = createServer((req, res) => {
    const method = req.method ?? "";
    const path = req.url ?? "";
    const fault = rule({ method, path });
    const record = (status: number): void => void exchanges.push({ method, path, status });
    if (fault === "reset") {
      record(0);
      req.socket.destroy();
      return;
    }
    if (fault === "error500" || fault === "missing") {
      const status = fault === "missing" ? 404 : 500;
      record(status);
      req.resume();
      const body = JSON.stringify({
        errors: [
          { code: fault === "missing" ? "BLOB_UNKNOWN" : "UNKNOWN", message: "injected by the test proxy" },
        ],
      });
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
      });
      res.end(method === "HEAD" ? undefined : body);
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer: IncomingMessage) => {
        const status = answer.statusCode ?? 502;
        record(status);
        if (fault !== "corrupt" || status !== 200) {
          res.writeHead(status, answer.headers);
          answer.pipe(res);
          return;
        }
        const parts: Buffer[] = [];
        answer.on("data", (d: Buffer) => parts.push(d));
        answer.on("end", () => {
          const body = Buffer.concat(parts);
          const middle = body.length >> 1;
          if (body.length > 0) body[middle] = (body[middle] ?? 0) ^ 0x01;
          res.writeHead(status, answer.headers);
          res.end(body);
        });
      },
    );
    forward.on("error", (err) => res.destroy(err));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    exchanges,
    setRule(next) {
      rule = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
