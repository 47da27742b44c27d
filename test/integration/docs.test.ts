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
