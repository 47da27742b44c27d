#!/usr/bin/env node
// The `strata` command. It runs the bundle in dist/ (made by `npm run bundle`, which npm install
// runs) while every source file it was made from is unchanged, and otherwise the TypeScript
// sources through tsx's loader, so an edited source is always what runs.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
// Installed, `strata` is bin/strata, which starts Node with a small young generation for the disk
// and VM commands (V8 takes that size only on Node's command line) and then runs this file.

const root = new URL("..", import.meta.url).pathname;

function bundleIsCurrent() {
  if (process.env.STRATA_NO_BUNDLE) return false;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(root, "dist/inputs.json"), "utf8"));
  } catch {
    return false;
  }
  for (const [path, [size, mtime]] of Object.entries(inputs)) {
    const info = statSync(join(root, path), { throwIfNoEntry: false });
    if (info === undefined || info.size !== size || Math.trunc(info.mtimeMs) !== mtime) return false;
  }
  return true;
}

if (bundleIsCurrent()) {
  await import("../dist/main.js");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/main.ts");
}
