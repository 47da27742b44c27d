// Dependency rules of the layout (see DESIGN.md): oci/ and policy/ are pure (they import node's
// pure builtins, the few pure npm packages of PURE_PACKAGES and each other only), lib/ knows no
// domain, other domains import a domain only through its index.ts (or an entry listed in
// ENTRIES: a lighter public surface for a hot path), registry/ knows nothing of gallery/,
// domains form no import cycle, and neither do files: every import counts for file cycles —
// static, type-only (`import type`, `export type … from`), side-effect (`import "./x.ts"`) and
// dynamic (`import("./x.ts")`) — since a lazy or type-only cycle still ties the two files
// together. web/ is the browser console: it imports no other domain and no node: builtin (it
// talks to the server only over HTTP), and no domain imports it. Exits non-zero and lists every
// violation.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

// The source tree to check: src/ of the package, or the folder given (the tests' fixtures).
const src =
  process.argv[2] === undefined
    ? resolve(new URL("../src", import.meta.url).pathname)
    : resolve(process.argv[2]);
const root = dirname(src);

const PURE = new Set(["oci", "policy"]);
const FORBIDDEN: Record<string, string[]> = { registry: ["gallery"], lib: ["*"], oci: ["*"], policy: ["*"] };
// Second public entries: builder/runtime.ts is what `strata run` needs without the parser and
// writers; disk/chunked/format.ts is the chunked disk format alone (pure checks of manifests and
// the index blob), which the gallery checks a disk with, without the builder and the tools.
const ENTRIES: Record<string, string[]> = { builder: ["runtime.ts"], disk: ["chunked/format.ts"] };
const PURE_BUILTINS = new Set(["node:crypto", "node:stream", "node:buffer", "node:util"]);
// npm packages a pure domain may import: computation only, no files, network or clock.
// @marcbachmann/cel-js evaluates policy/'s custom rules (CEL expressions over a fact document).
const PURE_PACKAGES = new Set(["@marcbachmann/cel-js"]);
// A pure domain may import another pure domain (policy/ matches repository globs of oci/).

function files(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.tsx?$/.test(entry) && !/\.test\.tsx?$/.test(entry)) out.push(path);
  }
  return out;
}

function domainOf(path: string): string {
  return relative(src, path).split(sep)[0] ?? "";
}

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|(?:^|\n)\s*import\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;
const violations: string[] = [];
const edges = new Map<string, Set<string>>();
/** File-level imports inside src/: importing file → imported files (absolute paths). */
const fileEdges = new Map<string, Set<string>>();

for (const file of files(src)) {
  const from = domainOf(file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? "";
    const where = `${relative(root, file)}: "${spec}"`;
    if (!spec.startsWith(".")) {
      if (from === "web" && spec.startsWith("node:") && relative(src, file) !== join("web", "vite.config.ts"))
        violations.push(`${where}: web/ runs in the browser and imports no node: builtin`);
      if (PURE.has(from) && !PURE_BUILTINS.has(spec) && !PURE_PACKAGES.has(spec))
        violations.push(`${where}: ${from}/ is pure and imports no I/O`);
      continue;
    }
    const target = resolve(dirname(file), spec);
    if (!fileEdges.has(file)) fileEdges.set(file, new Set());
    fileEdges.get(file)?.add(target);
    const to = domainOf(target);
    if (to === from) continue;
    if (from === "web" || to === "web") {
      violations.push(
        `${where}: web/ is the browser console and shares no imports with ${from === "web" ? to : from}/`,
      );
      continue;
    }
    const banned = FORBIDDEN[from] ?? [];
    const pureToPure = PURE.has(from) && PURE.has(to);
    if (banned.includes("*") && to !== "lib" && !pureToPure)
      violations.push(`${where}: ${from}/ may not import ${to}/`);
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

// File-level cycles: each strongly connected component of two or more files (or a file that
// imports itself) is one violation, shown as one cycle through it (Tarjan's algorithm).
function fileCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const strongConnect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        strongConnect(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (;;) {
      const top = stack.pop() ?? node;
      onStack.delete(top);
      component.push(top);
      if (top === node) break;
    }
    if (component.length > 1 || graph.get(node)?.has(node) === true) components.push(component);
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) strongConnect(node);
  return components.map((component) => cycleIn(graph, new Set(component)));
}

/** One cycle through a strongly connected component, from its first file (sorted) back to it. */
function cycleIn(graph: ReadonlyMap<string, ReadonlySet<string>>, component: ReadonlySet<string>): string[] {
  const start = [...component].sort()[0] ?? "";
  // Breadth-first from start inside the component until an edge leads back to start.
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] ?? "";
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0] ?? "") ?? start);
        return [...path, start];
      }
      if (component.has(next) && !previous.has(next) && next !== start) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

for (const cycle of fileCycles(fileEdges))
  violations.push(`import cycle between files: ${cycle.map((f) => relative(root, f)).join(" → ")}`);

if (violations.length > 0) {
  console.error(
    `Dependency rules broken (${violations.length}):\n${violations.map((v) => `  ${v}`).join("\n")}`,
  );
  process.exit(1);
}
console.log(`Dependency rules hold (${edges.size} domains, ${fileEdges.size} files, no import cycles)`);
