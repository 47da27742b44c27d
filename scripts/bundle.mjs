// Bundles the CLI into dist/ (ESM, split so each command still loads only its own modules) for a
// fast start: Node loads plain JavaScript instead of compiling TypeScript through tsx at every
// run. dist/inputs.json records each source file's size and modification time; bin/strata.js
// uses dist/ only while they all still match, and runs the sources through tsx otherwise.
//
//   node scripts/bundle.mjs
import { build } from "esbuild";
import { readdir, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

// Packages not bundled: the native addon; pg, imported only for a postgres:// database; the
// schema compilers Fastify builds only for routes that declare schemas (src/server/
// schema-compilers.ts) and light-my-request, which it loads only for inject(): about 0.6 MB of
// JavaScript that `strata serve` would compile at every start and never run; the CycloneDX
// library, whose optional XML and validation plugins (xmlbuilder2, libxmljs2, ajv formats) are
// loaded only when present; and the build tools.
const EXTERNAL = [
  "@cyclonedx/cyclonedx-library",
  "better-sqlite3",
  "pg",
  "@fastify/ajv-compiler",
  "@fastify/fast-json-stringify-compiler",
  "light-my-request",
  "esbuild",
  "tsx",
];

const root = resolve(new URL("..", import.meta.url).pathname);
const out = join(root, "dist");
// The web console's build (dist/web, made by Vite) is not this script's: it stays.
for (const entry of await readdir(out).catch(() => [])) {
  if (entry !== "web") await rm(join(out, entry), { recursive: true, force: true });
}
const result = await build({
  entryPoints: [join(root, "src/cli/main.ts")],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Pure-JavaScript packages are bundled in, so starting a command reads a few files instead of
  // resolving hundreds: `strata serve` loaded about 640 files of fastify, kysely, TypeBox, ajv,
  // jose and pino from node_modules before. Only the packages above load from node_modules.
  external: EXTERNAL.flatMap((name) => [name, `${name}/*`]),
  // Bundled CommonJS packages require Node's own modules.
  banner: {
    js: 'import { createRequire as __strataCreateRequire } from "node:module";\nconst require = __strataCreateRequire(import.meta.url);',
  },
  outdir: out,
  metafile: true,
  logLevel: "warning",
  absWorkingDir: root,
});
const inputs = {};
// Packages change only through npm install, which bundles again: sources are what is checked.
for (const path of Object.keys(result.metafile.inputs)
  .filter((p) => !p.startsWith("node_modules/"))
  .sort()) {
  const info = await stat(join(root, path));
  inputs[path] = [info.size, Math.trunc(info.mtimeMs)];
}
await writeFile(join(out, "inputs.json"), JSON.stringify(inputs));
console.log(`dist/: ${Object.keys(inputs).length} source files bundled`);
