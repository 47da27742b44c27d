// Bundles the CLI into dist/ (ESM, split so each command still loads only its own modules) for a
// fast start: Node loads plain JavaScript instead of compiling TypeScript through tsx at every
// run. dist/inputs.json records each source file's size and modification time; bin/strata.js
// uses dist/ only while they all still match, and runs the sources through tsx otherwise.
//
//   node scripts/bundle.mjs
import { build } from "esbuild";
import { rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const out = join(root, "dist");
await rm(out, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(root, "src/cli/main.ts")],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  outdir: out,
  metafile: true,
  logLevel: "warning",
  absWorkingDir: root,
});
const inputs = {};
for (const path of Object.keys(result.metafile.inputs).sort()) {
  const info = await stat(join(root, path));
  inputs[path] = [info.size, Math.trunc(info.mtimeMs)];
}
await writeFile(join(out, "inputs.json"), JSON.stringify(inputs));
console.log(`dist/: ${Object.keys(inputs).length} source files bundled`);
