// What every built-in rule is: a name, and a check of the facts that returns why the image
// fails it (a sentence for a person) or undefined when it passes. Rules are compiled once, when
// the policies load; a check never throws.
import type { ImageFacts, PolicyPoint } from "./facts.ts";
import type { Problems } from "./errors.ts";

export interface CheckContext {
  readonly point: PolicyPoint;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Kubernetes namespace at admission. */
  readonly namespace?: string;
}

export interface Rule {
  /** `signedBy`, `maxAge`, `cel/<name>`, … */
  readonly name: string;
  /** Why the image fails the rule, or undefined when it passes. */
  check(facts: ImageFacts, context: CheckContext): string | undefined;
}

/**
 * Orders two versions of a package of `type` as its package manager does (-1, 0, 1), or
 * undefined when it does not know the ecosystem. Injected by the caller: policy/ stays pure.
 */
export type VersionComparator = (type: string, a: string, b: string) => number | undefined;

export interface CompileOptions {
  /** Key names → key ids that signedBy entries may name (e.g. from `policy.keys`). */
  readonly keys?: ReadonlyMap<string, string>;
  /** Version ordering for deniedPackages constraints; without it a constraint fails closed. */
  readonly compareVersions?: VersionComparator;
}

/** Reads a rule's options from its configuration value; reports problems and returns undefined when invalid. */
export type RuleReader = (
  value: unknown,
  problems: Problems,
  options: CompileOptions,
) => Rule | readonly Rule[] | undefined;

export type Dict = Record<string, unknown>;

export const isDict = (value: unknown): value is Dict =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Reports keys of `value` not in `known`. */
export function unknownKeys(value: Dict, known: readonly string[], problems: Problems): void {
  for (const key of Object.keys(value))
    if (!known.includes(key))
      problems.add([key], `unknown key; expected one of ${known.map((k) => `"${k}"`).join(", ")}`);
}

/** A non-empty list of non-empty strings, each accepted by `check` (which says why not). */
export function readStrings(
  value: unknown,
  problems: Problems,
  check: (item: string) => string | undefined = () => undefined,
): string[] | undefined {
  if (!Array.isArray(value))
    return problems.add([], `expected a list of strings, got ${describeKind(value)}`);
  if (value.length === 0) return problems.add([], "expected at least one entry");
  let ok = true;
  value.forEach((item: unknown, i) => {
    const problem =
      typeof item !== "string" || item.trim() === ""
        ? `expected a non-empty string, got ${describeKind(item)}`
        : check(item);
    if (problem !== undefined) {
      problems.add([i], problem);
      ok = false;
    }
  });
  return ok ? (value as string[]) : undefined;
}

export function describeKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return `${typeof value} ${String(value)}`;
}

/** `a, b and c` */
export function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1) ?? ""}`;
}

/** The first 12 hex digits of a key id or digest hex, with an ellipsis. */
export function short(hex: string): string {
  const bare = hex.replace(/^sha256:/, "");
  return bare.length > 12 ? `${bare.slice(0, 12)}…` : bare;
}
