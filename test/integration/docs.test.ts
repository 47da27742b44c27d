// Generated documents stay in step with their sources: docs/errors.md is rendered from the
// registry's error catalogue, and every code a client can receive is documented.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { ERROR_CATALOGUE } from "../../src/registry/index.ts";
import { renderCliDoc } from "../../scripts/docs/cli.ts";
import { renderErrorsDoc } from "../../scripts/docs/errors.ts";

describe("docs/errors.md", () => {
  it("matches the error catalogue (run npm run docs:gen after changing it)", async () => {
    const committed = await readFile(new URL("../../docs/errors.md", import.meta.url), "utf8");
    assert.equal(committed, renderErrorsDoc());
  });

  it("lists every code of the catalogue with its status", async () => {
    const committed = await readFile(new URL("../../docs/errors.md", import.meta.url), "utf8");
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      assert.ok(committed.includes(`| \`${code}\` | ${entry.status} |`), code);
    }
  });
});

describe("docs/cli.md", () => {
  it("matches the commands the binary defines (run npm run docs:gen after changing them)", async () => {
    const committed = await readFile(new URL("../../docs/cli.md", import.meta.url), "utf8");
    assert.equal(committed, renderCliDoc());
    for (const flag of ["--addr", "--data", "--config", "--database", "hash-password"]) {
      assert.ok(committed.includes(flag), flag);
    }
  });
});

describe("docs/gallery-api.md and docs/openapi.json", () => {
  it("match the gallery's route table (run npm run docs:gen after changing it)", async () => {
    const { renderGalleryApiDoc, renderOpenApi } = await import("../../scripts/docs/gallery-api.ts");
    assert.equal(
      await readFile(new URL("../../docs/gallery-api.md", import.meta.url), "utf8"),
      renderGalleryApiDoc(),
    );
    assert.equal(
      await readFile(new URL("../../docs/openapi.json", import.meta.url), "utf8"),
      renderOpenApi(),
    );
  });

  it("is what the server serves at /api/v1/openapi.json, naming every route", async () => {
    const { startInProcess } = await import("../helpers/in-process.ts");
    const { API_ROUTES } = await import("../../src/gallery/index.ts");
    const { USAGE_ROUTES } = await import("../../src/usage/index.ts");
    const s = await startInProcess();
    try {
      const res = await s.server.app.inject({ url: "/api/v1/openapi.json" });
      assert.equal(res.statusCode, 200);
      const served = JSON.parse(res.body) as {
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
      };
      assert.equal(served.openapi, "3.1.0");
      for (const route of [...API_ROUTES, ...USAGE_ROUTES]) {
        const path = `/api/v1${route.path.replace(/:([a-zA-Z]+)/g, "{$1}")}`;
        assert.ok(served.paths[path]?.[route.method.toLowerCase()] !== undefined, `${route.method} ${path}`);
      }
      assert.deepEqual(
        served,
        JSON.parse(await readFile(new URL("../../docs/openapi.json", import.meta.url), "utf8")),
      );
    } finally {
      await s.stop();
    }
  });
});
