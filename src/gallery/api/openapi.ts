// The OpenAPI 3.1 document of the gallery API, written from the route table and its schemas.
import type { ApiRouteShape } from "./route.ts";

const ERROR = {
  type: "object",
  properties: {
    errors: {
      type: "array",
      items: {
        type: "object",
        required: ["code", "message"],
        properties: { code: { type: "string" }, message: { type: "string" }, detail: {} },
      },
    },
  },
};

/** `extra`: paths outside the route table (the event stream), relative to /api/v1. */
export function buildOpenApi(
  routes: readonly ApiRouteShape[],
  extra: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, unknown> = { Error: ERROR };
  for (const route of routes) {
    const path = `/api/v1${route.path.replace(/:([a-zA-Z]+)/g, "{$1}")}`;
    const params = [...route.path.matchAll(/:([a-zA-Z]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const queryProps =
      (route.query as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
    const query = Object.entries(queryProps).map(([name, schema]) => ({
      name,
      in: "query",
      required: false,
      schema: plain(schema),
    }));
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(route.responses)) {
      responses[status] =
        Number(status) < 300
          ? { description, content: { "application/json": { schema: refs(route.response, components) } } }
          : {
              description,
              content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
            };
    }
    responses["400"] ??= {
      description: "Invalid input",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
    responses["401"] ??= {
      description: "Authentication required",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
    responses["403"] ??= {
      description: "The caller's role does not allow it",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
    responses["404"] ??= {
      description: "Not found",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
    paths[path] ??= {};
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: [...params, ...query],
      responses,
      ...(route.anonymous === true ? { "x-anonymous-read": true } : {}),
    };
    if (route.body !== undefined) {
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: plain(route.body) } },
      };
    }
    const target = paths[path];
    if (target !== undefined) target[route.method.toLowerCase()] = operation;
  }
  for (const [path, item] of Object.entries(extra))
    paths[`/api/v1${path}`] = JSON.parse(JSON.stringify(item)) as Record<string, unknown>;
  return {
    openapi: "3.1.0",
    info: {
      title: "Strata gallery API",
      version: "1",
      description:
        "Galleries, image definitions, immutable versions, channels, approvals, lifecycle and audit. Authentication: the registry's (Basic credentials or a bearer token from /token). With auth.anonymous: read, callers without credentials may use the operations marked x-anonymous-read, as a reader of every gallery.",
    },
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        basic: { type: "http", scheme: "basic" },
        bearer: { type: "http", scheme: "bearer" },
      },
    },
    security: [{ basic: [] }, { bearer: [] }, {}],
    paths,
  };
}

/**
 * Plain JSON Schema of a response: every sub-schema with an $id (the model's objects) becomes a
 * $ref to components/schemas, defined there once.
 */
function refs(schema: unknown, components: Record<string, unknown>): unknown {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== "object" || node === null) return node;
    const { $id, ...rest } = node as Record<string, unknown>;
    const body = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, walk(v)]));
    if (typeof $id !== "string") return body;
    components[$id] ??= body;
    return { $ref: `#/components/schemas/${$id}` };
  };
  return walk(plain(schema));
}

/** TypeBox schemas carry symbol keys; JSON round-tripping leaves plain JSON Schema. */
function plain(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema)) as unknown;
}
