// deniedPackages: no package of the SBOM matches an entry. An entry names a package (exact name),
// optionally its ecosystem (`type`: deb, rpm, apk) and a version constraint: one or more
// comparisons joined by commas, all of which must hold (`<3.0.15-1~deb12u1`,
// `>=2.0, <2.4.1`, `=1.2.3-4`). Operators: `<`, `<=`, `=`, `==`, `!=`, `>=`, `>`. Versions are
// ordered by the package's own ecosystem (dpkg, rpmvercmp, apk) through the injected comparator;
// a package whose ordering is unknown is counted as matching (fail closed) with that reason.
// An image without an SBOM fails: there is nothing to show the package is absent.
import { unavailableReason, type ImageFacts, type PackageFact } from "../facts.ts";
import type { Problems } from "../errors.ts";
import { describeKind, isDict, unknownKeys, type CompileOptions, type Rule } from "../rule.ts";

type Operator = "<" | "<=" | "=" | "!=" | ">=" | ">";
interface Comparison {
  readonly op: Operator;
  readonly version: string;
}
interface Entry {
  readonly name: string;
  readonly type?: string;
  readonly constraint?: string;
  readonly comparisons: readonly Comparison[];
}

const COMPARISON_RE = /^(<=|>=|==|!=|<|>|=)\s*(\S+)$/;

/** The comparisons of a constraint, or why it is not one. */
export function parseConstraint(text: string): Comparison[] | string {
  const parts = text.split(",").map((p) => p.trim());
  const out: Comparison[] = [];
  for (const part of parts) {
    const m = COMPARISON_RE.exec(part);
    if (m === null)
      return `expected comparisons such as "<3.0.15-1~deb12u1" or ">=2.0, <2.4.1", got ${JSON.stringify(part)}`;
    out.push({ op: (m[1] === "==" ? "=" : m[1]) as Operator, version: m[2] ?? "" });
  }
  return out;
}

function holds(op: Operator, order: number): boolean {
  switch (op) {
    case "<":
      return order < 0;
    case "<=":
      return order <= 0;
    case "=":
      return order === 0;
    case "!=":
      return order !== 0;
    case ">=":
      return order >= 0;
    case ">":
      return order > 0;
  }
}

function readEntry(value: unknown, problems: Problems): Entry | undefined {
  const spec = typeof value === "string" ? { name: value } : value;
  if (!isDict(spec))
    return problems.add([], `expected a package name or { name, version, type }, got ${describeKind(value)}`);
  unknownKeys(spec, ["name", "version", "type"], problems);
  const { name, version, type } = spec;
  if (typeof name !== "string" || name.trim() === "")
    return problems.add(["name"], `expected a package name, got ${describeKind(name)}`);
  if (type !== undefined && (typeof type !== "string" || !/^[a-z0-9.+-]+$/.test(type)))
    return problems.add(
      ["type"],
      `expected an ecosystem such as "deb", "rpm" or "apk", got ${describeKind(type)}`,
    );
  if (version === undefined) return { name, comparisons: [], ...(type === undefined ? {} : { type }) };
  if (typeof version !== "string")
    return problems.add(["version"], `expected a version constraint, got ${describeKind(version)}`);
  const comparisons = parseConstraint(version);
  if (typeof comparisons === "string") return problems.add(["version"], comparisons);
  return { name, constraint: version, comparisons, ...(type === undefined ? {} : { type }) };
}

/** Whether `pkg` matches `entry`: true, false, or why it cannot be told (counted as a match). */
function matches(entry: Entry, pkg: PackageFact, options: CompileOptions): boolean | string {
  if (pkg.name !== entry.name || (entry.type !== undefined && entry.type !== pkg.type)) return false;
  for (const { op, version } of entry.comparisons) {
    const order = options.compareVersions?.(pkg.type, pkg.version, version);
    if (order === undefined) return `cannot order ${pkg.type} versions`;
    if (!holds(op, order)) return false;
  }
  return true;
}

export function readDeniedPackages(
  value: unknown,
  problems: Problems,
  options: CompileOptions,
): Rule | undefined {
  if (!Array.isArray(value) || value.length === 0)
    return problems.add([], `expected a list of packages, got ${describeKind(value)}`);
  const entries = value.map((item: unknown, i) => readEntry(item, problems.at(i)));
  if (entries.some((e) => e === undefined)) return undefined;
  const denied = entries as Entry[];
  return {
    name: "deniedPackages",
    check(facts: ImageFacts): string | undefined {
      const missing = unavailableReason(facts, "sbom");
      if (missing !== undefined) return `SBOM unavailable: ${missing}`;
      if (facts.sbom?.present !== true) return "no SBOM to check packages against";
      const found: string[] = [];
      for (const pkg of facts.sbom.packages) {
        for (const entry of denied) {
          const match = matches(entry, pkg, options);
          if (match === false) continue;
          const rule = entry.constraint === undefined ? "denied" : `denied: ${entry.constraint}`;
          found.push(`${pkg.name} ${pkg.version} (${match === true ? rule : `${rule}; ${match}`})`);
          break;
        }
      }
      return found.length === 0
        ? undefined
        : `denied package${found.length === 1 ? "" : "s"}: ${found.join(", ")}`;
    },
  };
}
