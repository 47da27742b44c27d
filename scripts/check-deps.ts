// Dependency rules of the layout (see DESIGN.md): oci/ and policy/ are pure, lib/ knows no
// domain, other domains import a domain only through its index.ts (or an entry listed in
// ENTRIES: a lighter public surface for a hot path), registry/ knows nothing of gallery/, and
// domains form no import cycle. Exits non-zero and lists every violation.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const src = join(root, "src");

const PURE = new Set(["oci", "policy"]);
const FORBIDDEN: Record<string, string[]> = { registry: ["gallery"], lib: ["*"], oci: ["*"], policy: ["*"] };
// Second public entries: builder/runtime.ts is what `strata run` needs without the parser and writers.
const ENTRIES: Record<string, string[]> = { builder: ["runtime.ts"] };
const PURE_BUILTINS = new Set(["node:crypto", "node:stream", "node:buffer", "node:util"]);

function files(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files(path, out);
    else if (entry.endsWith(".ts") && !entry.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

function domainOf(path: string): string {
  return relative(src, path).split(sep)[0] ?? "";
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;
const violations: string[] = [];
const edges = new Map<string, Set<string>>();

for (const file of files(src)) {
  const from = domainOf(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? "";
    const where = `${relative(root, file)}: "${spec}"`;
    if (!spec.startsWith(".")) {
      if (PURE.has(from) && !PURE_BUILTINS.has(spec))
        violations.push(`${where}: ${from}/ is pure and imports no I/O`);
      continue;
    }
    const target = resolve(dirname(file), spec);
    const to = domainOf(target);
    if (to === from) continue;
    const banned = FORBIDDEN[from] ?? [];
    if (banned.includes("*") && to !== "lib") violations.push(`${where}: ${from}/ may not import ${to}/`);
    else if (banned.includes(to)) violations.push(`${where}: ${from}/ may not import ${to}/`);
    if (PURE.has(from) && to === "lib") violations.push(`${where}: ${from}/ is pure`);
    const rel = relative(join(src, to), target);
    if (to !== "lib" && rel !== "index.ts" && !(ENTRIES[to] ?? []).includes(rel)) {
      violations.push(`${where}: import ${to}/ through its index.ts`);
    }
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from)?.add(to);
  }
}

// Domain-level cycles.
const state = new Map<string, "visiting" | "done">();
function visit(node: string, stack: string[]): void {
  if (state.get(node) === "done") return;
  if (state.get(node) === "visiting") {
    violations.push(
      `import cycle between domains: ${[...stack.slice(stack.indexOf(node)), node].join(" → ")}`,
    );
    return;
  }
  state.set(node, "visiting");
  for (const next of edges.get(node) ?? []) visit(next, [...stack, node]);
  state.set(node, "done");
}
for (const node of edges.keys()) visit(node, []);

if (violations.length > 0) {
  console.error(
    `Dependency rules broken (${violations.length}):\n${violations.map((v) => `  ${v}`).join("\n")}`,
  );
  process.exit(1);
}
console.log(`Dependency rules hold (${edges.size} domains)`);
