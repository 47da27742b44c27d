// Helpers for gallery tests: push small images through the registry API and call the gallery
// API as a given user, both in-process through Fastify's inject().
import type { FastifyInstance } from "fastify";
import { Value } from "@sinclair/typebox/value";
import { API_ROUTES, type ApiRouteShape } from "../../src/gallery/index.ts";
import { USAGE_ROUTES } from "../../src/usage/index.ts";

/** Every route under /api/v1: the gallery's and those mounted beside them. */
const ROUTES: readonly ApiRouteShape[] = [...API_ROUTES, ...USAGE_ROUTES];
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { hashPassword } from "../../src/registry/index.ts";
import { EMPTY_CONFIG } from "./manifests.ts";

export interface ApiAnswer {
  readonly status: number;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly headers: Record<string, unknown>;
}

export const PASSWORD = "secret-pass";

/** strata.yaml with the given users (password PASSWORD) and full registry access for each. */
export async function authYaml(users: readonly string[], extra = ""): Promise<string> {
  const hash = await hashPassword(PASSWORD, { logN: 10 });
  const lines = ["auth:", "  users:"];
  for (const user of users) lines.push(`    ${user}: { password: "${hash}" }`);
  lines.push("  access:", '    - { repositories: ["**"], users: ["*"], actions: [pull, push, delete] }');
  return `${lines.join("\n")}\n${extra}`;
}

export const basic = (user: string): string =>
  `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString("base64")}`;

export function galleryApi(app: FastifyInstance) {
  return async function call(
    method: string,
    path: string,
    body?: unknown,
    user?: string,
  ): Promise<ApiAnswer> {
    const res = await app.inject({
      method: method as "GET",
      url: `/api/v1${path}`,
      headers: {
        ...(user === undefined ? {} : { authorization: basic(user) }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { payload: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    let parsed: unknown = res.body;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      // not JSON
    }
    if (res.statusCode < 300) checkDocumented(method, path, parsed);
    return { status: res.statusCode, body: parsed, headers: res.headers };
  };
}

/**
 * Fails unless a successful answer matches the response schema its route documents (and
 * thereby the OpenAPI document): every answer the suites receive is checked.
 */
export function checkDocumented(method: string, path: string, body: unknown): void {
  const bare = path.split("?")[0] ?? "";
  const route = ROUTES.find(
    (r) => r.method === method && new RegExp(`^${r.path.replace(/:[a-zA-Z]+/g, "[^/]+")}$`).test(bare),
  );
  if (route === undefined) throw new Error(`No documented route for ${method} ${bare}`);
  if (Value.Check(route.response, body)) return;
  const first = Value.Errors(route.response, body).First();
  throw new Error(
    `${method} ${bare} answered what ${route.operationId} does not document: ${first?.path ?? ""} ${first?.message ?? ""}: ${JSON.stringify(body).slice(0, 500)}`,
  );
}

/**
 * Pushes a one-layer image with distinct content (by seed) to repository:tag; returns its
 * digest. `annotations` go on the manifest (e.g. the base image digest).
 */
export async function pushImage(
  app: FastifyInstance,
  repository: string,
  tag: string,
  seed: string,
  options: { user?: string; annotations?: Record<string, string> } = {},
): Promise<string> {
  const auth = options.user === undefined ? {} : { authorization: basic(options.user) };
  const layer = Buffer.from(`layer ${seed}`);
  for (const blob of [EMPTY_CONFIG, layer]) {
    const res = await app.inject({
      method: "POST",
      url: `/v2/${repository}/blobs/uploads/?digest=${digestOf(blob)}`,
      headers: { ...auth, "content-type": "application/octet-stream" },
      payload: blob,
    });
    if (res.statusCode !== 201) throw new Error(`blob push ${res.statusCode}: ${res.body}`);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
      layers: [{ mediaType: MediaType.ImageLayerGzip, digest: digestOf(layer), size: layer.length }],
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    }),
  );
  const res = await app.inject({
    method: "PUT",
    url: `/v2/${repository}/manifests/${tag}`,
    headers: { ...auth, "content-type": MediaType.ImageManifest },
    payload: manifest,
  });
  if (res.statusCode !== 201) throw new Error(`manifest push ${res.statusCode}: ${res.body}`);
  return digestOf(manifest);
}
