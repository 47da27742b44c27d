// A reverse proxy on loopback in front of a registry that stands for a replication site as the
// network sees it: it counts the request body bytes that reach the site (per request, with the
// blob digest an upload was finished with), can slow request bodies to a rate (so a copy is still
// running when a test acts), and can be down (every connection is cut).
import { createServer, request } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Transform } from "node:stream";

export interface SiteExchange {
  readonly method: string;
  readonly path: string;
  /** Request body bytes forwarded to the site. */
  bytesIn: number;
  /** The site's status; 0 until it answered. */
  status: number;
  /** True once the request to the site is over (answered, failed or cut). */
  settled: boolean;
}

export interface SiteProxy {
  /** host:port of the proxy. */
  readonly host: string;
  readonly url: string;
  readonly exchanges: SiteExchange[];
  /** Request body bytes per second, undefined for no limit. */
  rate: number | undefined;
  /** When true, every connection is cut at once. */
  down: boolean;
  close(): Promise<void>;
}

/** The digest a finished blob upload (PUT …/blobs/uploads/…?digest=) carried. */
export function uploadDigest(exchange: SiteExchange): string | undefined {
  if (exchange.method !== "PUT" || !exchange.path.includes("/blobs/uploads/")) return undefined;
  const query = exchange.path.split("?")[1] ?? "";
  return new URLSearchParams(query).get("digest") ?? undefined;
}

/** Bytes of blob uploads the site received (blob bodies, not manifests). */
export const blobBytesIn = (exchanges: readonly SiteExchange[]): number =>
  exchanges.filter((e) => e.path.includes("/blobs/uploads/")).reduce((sum, e) => sum + e.bytesIn, 0);

export async function startSiteProxy(target: string): Promise<SiteProxy> {
  const upstream = new URL(target);
  const exchanges: SiteExchange[] = [];
  const sockets = new Set<Socket>();
  const proxy: SiteProxy = {
    host: "",
    url: "",
    exchanges,
    rate: undefined,
    down: false,
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    if (proxy.down) {
      req.socket.destroy();
      return;
    }
    const exchange: SiteExchange = {
      method: req.method ?? "",
      path: req.url ?? "",
      bytesIn: 0,
      status: 0,
      settled: false,
    };
    exchanges.push(exchange);
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // The proxy's own Host: the site names it in the upload locations it answers with, so
        // every request of an upload comes through here.
        headers: req.headers,
      },
      (answer) => {
        exchange.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    forward.on("close", () => {
      exchange.settled = true;
    });
    req.on("error", () => forward.destroy());
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        const rate = proxy.rate;
        const pass = (): void => {
          exchange.bytesIn += chunk.length;
          callback(null, chunk);
        };
        if (rate === undefined) pass();
        else setTimeout(pass, Math.ceil((chunk.length / rate) * 1000));
      },
    });
    req.pipe(counting).pipe(forward);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    if (proxy.down) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(proxy, {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
  return proxy;
}
