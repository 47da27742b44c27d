// Serves the built web console (dist/web, made by `npm run web:build`) at `/`: files by path,
// hashed assets under /assets/ with a year-long immutable cache, and index.html for every other
// GET outside the registry (/v2), the API (/api), /token and /metrics, so client routes load the
// app. Every answer carries the console's security headers: a Content-Security-Policy without
// inline script, no framing, no MIME sniffing, no referrer. Without a build, `/` answers a short
// plain-text note.
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyReply, FastifyRequest } from "fastify";

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** Paths that belong to the registry, the API and the small endpoints, never to the console. */
const RESERVED = ["/v2", "/api", "/token", "/metrics"];

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

export const NOT_BUILT =
  "The Strata web console is not built. Run `npm run web:build` (npm install does it too) and reload.\n" +
  "The registry is at /v2/ and the gallery API at /api/v1/.\n";

export interface WebConsole {
  /** The folder served, e.g. <package>/dist/web. */
  readonly root: string;
  /** Answers a GET or HEAD for the console, or returns undefined when the path is not its. */
  handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> | undefined;
}

export function createWebConsole(options: { root?: string } = {}): WebConsole {
  const root = resolve(options.root ?? join(packageRoot(), "dist", "web"));
  return {
    root,
    handle(req, reply) {
      if (req.method !== "GET" && req.method !== "HEAD") return undefined;
      const path = (req.raw.url ?? "/").split("?")[0] ?? "/";
      if (RESERVED.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return undefined;
      return serve(root, path, req, reply);
    },
  };
}

async function serve(root: string, path: string, req: FastifyRequest, reply: FastifyReply) {
  reply.headers(CONSOLE_HEADERS);
  const index = join(root, "index.html");
  if (!existsSync(index)) {
    return send(reply, req, 200, "text/plain; charset=utf-8", "no-store", Buffer.from(NOT_BUILT));
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = "";
  }
  const file = resolve(root, `.${decoded}`);
  const inside = file.startsWith(`${root}${sep}`) && !decoded.includes("\0");
  if (inside && decoded !== "/" && (await isFile(file))) {
    const hashed = decoded.startsWith("/assets/");
    const body = await readFile(file);
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    return send(reply, req, 200, type, hashed ? "public, max-age=31536000, immutable" : "no-cache", body);
  }
  if (decoded.startsWith("/assets/")) {
    return send(reply, req, 404, "text/plain; charset=utf-8", "no-store", Buffer.from("Not found\n"));
  }
  // A client route: the app reads the path and shows the page.
  return send(reply, req, 200, TYPES[".html"] ?? "", "no-cache", await readFile(index));
}

function send(
  reply: FastifyReply,
  req: FastifyRequest,
  status: number,
  type: string,
  cache: string,
  body: Buffer,
) {
  reply.code(status).header("Content-Type", type).header("Cache-Control", cache);
  reply.header("Content-Length", body.length);
  return reply.send(req.method === "HEAD" ? undefined : body);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The folder of package.json above this module (src/server in a checkout, dist/ when bundled). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}
