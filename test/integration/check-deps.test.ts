// scripts/check-deps.ts on small source trees: import cycles between files are reported whatever
// kind of import closes them — static, type-only, side-effect or dynamic — once per cycle, and a
// tree without one passes.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../helpers/exec.ts";

const SCRIPT = new URL("../../scripts/check-deps.ts", import.meta.url).pathname;
let work: string;

async function tree(name: string, files: Record<string, string>): Promise<string> {
  const src = join(work, name, "src");
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(src, path)), { recursive: true });
    await writeFile(join(src, path), text);
  }
  return src;
}

const check = (src: string) => run(process.execPath, ["--import", "tsx", SCRIPT, src]);

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-check-deps-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("check-deps", () => {
  it("reports file cycles closed by type-only, dynamic and side-effect imports", async () => {
    const src = await tree("cycles", {
      "cli/index.ts": 'export { a } from "./a.ts";\n',
      "cli/a.ts": 'import type { B } from "./b.ts";\nexport const a = (b: B) => b;\n',
      "cli/b.ts": 'export type B = string;\nexport const load = () => import("./a.ts");\n',
      "run/index.ts": 'export * from "./c.ts";\n',
      "run/c.ts": 'import "./d.ts";\nexport const c = 1;\n',
      "run/d.ts": 'export { c as again } from "./c.ts";\n',
    });
    const result = await check(src);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      [
        "Dependency rules broken (2):",
        "  import cycle between files: src/cli/a.ts → src/cli/b.ts → src/cli/a.ts",
        "  import cycle between files: src/run/c.ts → src/run/d.ts → src/run/c.ts",
        "",
      ].join("\n"),
    );
  });

  it("passes a tree whose files import each other without a cycle", async () => {
    const src = await tree("clean", {
      "cli/index.ts": 'export { a } from "./a.ts";\n',
      "cli/a.ts":
        'import type { B } from "./b.ts";\nimport { shared } from "./shared.ts";\nexport const a = (b: B) => b + shared;\n',
      "cli/b.ts": 'export type B = string;\nexport const load = () => import("./shared.ts");\n',
      "cli/shared.ts": 'export const shared = "x";\n',
    });
    const result = await check(src);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Dependency rules hold \(\d+ domains, 3 files, no import cycles\)\n$/);
  });

  it("lets pure domains import each other and the pure packages only", async () => {
    const src = await tree("pure", {
      "oci/index.ts": "export const glob = 1;\n",
      "policy/index.ts":
        'import { Environment } from "@marcbachmann/cel-js";\nimport { glob } from "../oci/index.ts";\nimport { createHash } from "node:crypto";\nexport const p = [Environment, glob, createHash];\n',
      "policy/io.ts":
        'import { readFile } from "node:fs/promises";\nimport YAML from "yaml";\nexport const q = [readFile, YAML];\n',
    });
    const result = await check(src);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      [
        "Dependency rules broken (2):",
        '  src/policy/io.ts: "node:fs/promises": policy/ is pure and imports no I/O',
        '  src/policy/io.ts: "yaml": policy/ is pure and imports no I/O',
        "",
      ].join("\n"),
    );
  });

  it("keeps the browser console apart: web/ imports no domain and no node: builtin, none imports it", async () => {
    const src = await tree("web", {
      "server/index.ts": 'import { api } from "../web/app/api.ts";\nexport const s = api;\n',
      "web/vite.config.ts": 'import { fileURLToPath } from "node:url";\nexport default fileURLToPath;\n',
      "web/app/api.ts": "export const api = 1;\n",
      "web/app/main.tsx":
        'import { readFile } from "node:fs";\nimport { s } from "../../server/index.ts";\nimport { api } from "./api.ts";\nexport const m = [readFile, s, api];\n',
    });
    const result = await check(src);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      [
        "Dependency rules broken (3):",
        '  src/server/index.ts: "../web/app/api.ts": web/ is the browser console and shares no imports with server/',
        '  src/web/app/main.tsx: "node:fs": web/ runs in the browser and imports no node: builtin',
        '  src/web/app/main.tsx: "../../server/index.ts": web/ is the browser console and shares no imports with server/',
        "",
      ].join("\n"),
    );
  });
});
