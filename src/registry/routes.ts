// The route table of OCI Distribution v1.1 as data: name, path pattern, handlers by method and
// the access each method needs. Paths are matched undecoded, so %2e%2e or %2f in a name can
// never become a path separator: they fail the name grammar instead.
import type { Action } from "./auth/index.ts";
import type { Route } from "./context.ts";
import { deleteBlob, getBlob } from "./handlers/blobs.ts";
import { listCatalog, listReferrers, listTags } from "./handlers/listings.ts";
import { deleteManifest, getManifest, putManifest } from "./handlers/manifests.ts";
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from "./handlers/uploads.ts";

const byMethod = (method: string): { actions: Action[] } => {
  switch (method) {
    case "GET":
    case "HEAD":
      return { actions: ["pull"] };
    case "DELETE":
      return { actions: ["delete"] };
    default:
      return { actions: ["push"] };
  }
};

/** Upload endpoints need push (and pull, as Distribution asks, since a PUT answers a pullable URL). */
const uploadAccess = (): { actions: Action[] } => ({ actions: ["pull", "push"] });

const ping: Route["methods"][string] = async () => ({ status: 200, body: {} });

export const ROUTES: readonly Route[] = [
  { name: "base", pattern: /^\/v2\/?$/, methods: { GET: ping, HEAD: ping }, access: () => ({ actions: [] }) },
  {
    name: "catalog",
    pattern: /^\/v2\/_catalog$/,
    methods: { GET: listCatalog },
    access: () => ({ actions: [], catalog: true }),
  },
  {
    name: "tags",
    pattern: /^\/v2\/(?<name>.+)\/tags\/list$/,
    methods: { GET: listTags },
    access: byMethod,
  },
  {
    name: "manifest",
    pattern: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/,
    methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
    access: byMethod,
  },
  {
    name: "upload-start",
    pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/,
    methods: { POST: startUpload },
    access: uploadAccess,
  },
  {
    name: "upload",
    pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<uuid>[^/]+)$/,
    methods: { GET: uploadStatus, PATCH: patchUpload, PUT: finishUpload, DELETE: cancelUpload },
    access: (method) => (method === "DELETE" || method === "GET" ? { actions: ["push"] } : uploadAccess()),
  },
  {
    name: "blob",
    pattern: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/,
    methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob },
    access: byMethod,
  },
  {
    name: "referrers",
    pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/,
    methods: { GET: listReferrers },
    access: byMethod,
  },
];

export interface RouteMatch {
  readonly route: Route;
  readonly groups: Readonly<Record<string, string>>;
}

/** Path of the token endpoint (Docker token flow), served apart from the table. */
export const TOKEN_PATH = "/token";

/** Methods the registry serves a path with, or undefined when no endpoint is there. */
export function allowedMethods(path: string): readonly string[] | undefined {
  if (path === TOKEN_PATH) return ["GET"];
  const match = matchRoute(path);
  return match === undefined ? undefined : Object.keys(match.route.methods);
}

export function matchRoute(path: string): RouteMatch | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m !== null) return { route, groups: m.groups ?? {} };
  }
  return undefined;
}
