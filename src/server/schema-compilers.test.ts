// The lazily loaded schema compilers are Fastify's own: a route that declares a schema gets its
// input validated and its response serialized as with Fastify's defaults.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { lazySchemaCompilers } from "./schema-compilers.ts";

describe("lazySchemaCompilers", () => {
  it("validates bodies and serializes responses of routes that declare schemas", async () => {
    const app = Fastify({ schemaController: { compilersFactory: lazySchemaCompilers } });
    app.post(
      "/echo",
      {
        schema: {
          body: {
            type: "object",
            properties: { n: { type: "integer" } },
            required: ["n"],
          },
          response: { 200: { type: "object", properties: { n: { type: "integer" } } } },
        },
      },
      async (req) => ({ n: (req.body as { n: number }).n, secret: "not in the schema" }),
    );
    try {
      const ok = await app.inject({ method: "POST", url: "/echo", payload: { n: 3 } });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), { n: 3 });
      const bad = await app.inject({ method: "POST", url: "/echo", payload: { n: "three" } });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<{ message: string }>().message, /body\/n must be integer/);
    } finally {
      await app.close();
    }
  });
});
