// Regenerates the generated documents; with --check, fails when a committed copy differs.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderCliDoc } from "./docs/cli.ts";
import { renderErrorsDoc } from "./docs/errors.ts";
import { renderGalleryApiDoc, renderOpenApi } from "./docs/gallery-api.ts";

const root = new URL("..", import.meta.url).pathname;
const docs: Record<string, () => string> = {
  "docs/errors.md": renderErrorsDoc,
  "docs/cli.md": renderCliDoc,
  "docs/gallery-api.md": renderGalleryApiDoc,
  "docs/openapi.json": renderOpenApi,
};

const check = process.argv.includes("--check");
let stale = 0;
for (const [path, render] of Object.entries(docs)) {
  const want = render();
  const file = join(root, path);
  let have = "";
  try {
    have = readFileSync(file, "utf8");
  } catch {
    have = "";
  }
  if (have === want) continue;
  if (check) {
    console.error(`${path} is out of date: run npm run docs:gen`);
    stale++;
  } else {
    writeFileSync(file, want);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
