// Runs every test file (unit tests beside the code, test/integration, test/e2e) through node's
// test runner with tsx. Node 20's --test does not expand globs, so the files are listed here.
// Before the e2e tests it makes sure the Debian tools they need are installed.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const filters = args.filter((a) => !a.startsWith("--"));

function walk(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (entry.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}

let files = [...walk(join(root, "src"), []), ...walk(join(root, "test"), [])].sort();
if (unitOnly) files = files.filter((f) => f.startsWith("src/"));
if (filters.length > 0) files = files.filter((f) => filters.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}

if (files.some((f) => f.startsWith("test/"))) {
  const setup = spawnSync("bash", [join(root, "scripts/test-deps.sh")], { stdio: "inherit" });
  if (setup.status !== 0) process.exit(setup.status ?? 1);
}

const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...files],
  { stdio: "inherit", cwd: root, env: { ...process.env, NODE_ENV: "test" } },
);
process.exit(result.status ?? 1);
