// Reading policies: a list of plain values (from strata.yaml, already parsed) checked completely —
// every problem reported with its key path — and compiled into rules once. A policy:
//   name     lowercase letters, digits, ".", "_", "-"; unique
//   mode     audit (record only; the default, as Kyverno's), warn (serve with a warning), enforce (refuse)
//   scope    repositories, galleries (globs: `*` within a component, `**` across) and namespaces
//            (at admission); none given: every image
//   points   pull, run, admission, check (default: all)
//   rules    a mapping of built-in rules, at least one (see RULE_READERS)
import { checkRepositoryGlob, compileRepositoryGlob } from "../oci/index.ts";
import { POLICY_POINTS, type ImageFacts, type PolicyPoint } from "./facts.ts";
import { PolicyError, Problems, type PolicyProblem } from "./errors.ts";
import { describeKind, isDict, readStrings, unknownKeys, type CompileOptions, type Rule } from "./rule.ts";
import { readCel } from "./rules/cel.ts";
import { readDeniedPackages } from "./rules/denied-packages.ts";
import {
  readAllowedBases,
  readGalleryOnly,
  readLifecycle,
  readNoMovableTags,
} from "./rules/gallery-rules.ts";
import { readMaxAge } from "./rules/max-age.ts";
import { readSignedBy } from "./rules/signed-by.ts";
import { readProvenance, readSbom } from "./rules/supply.ts";

export const POLICY_MODES = ["audit", "warn", "enforce"] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export interface PolicyScope {
  readonly repositories?: readonly string[];
  readonly galleries?: readonly string[];
  readonly namespaces?: readonly string[];
}

/** A policy as configured: plain JSON, what the API shows. */
export interface PolicySpec {
  readonly name: string;
  readonly description?: string;
  readonly mode?: PolicyMode;
  readonly scope?: PolicyScope;
  readonly points?: readonly PolicyPoint[];
  readonly rules: Readonly<Record<string, unknown>>;
}

export interface Policy {
  readonly name: string;
  readonly mode: PolicyMode;
  readonly points: readonly PolicyPoint[];
  readonly rules: readonly Rule[];
  readonly spec: PolicySpec;
  /** Whether the policy applies to the image at this point (and namespace, at admission). */
  appliesTo(facts: ImageFacts, point: PolicyPoint, namespace?: string): boolean;
  /**
   * Whether the policy could apply to a manifest of `repository` at this point, known before any
   * fact is read: false means it never does (the pull path skips the work for such repositories).
   * A gallery version's repository is GALLERY/NAME, so gallery globs are matched against the
   * first component of a two-component repository.
   */
  mayApply(repository: string, point: PolicyPoint, namespace?: string): boolean;
}

export const RULE_NAMES = [
  "signedBy",
  "sbom",
  "provenance",
  "galleryOnly",
  "noMovableTags",
  "maxAge",
  "allowedBases",
  "deniedPackages",
  "lifecycle",
  "cel",
] as const;

const NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const NAMESPACE_GLOB = /^[a-z0-9*-]+$/;

function readGlobs(
  value: unknown,
  problems: Problems,
  namespaces = false,
): readonly ((name: string) => boolean)[] | undefined {
  if (value === undefined) return undefined;
  const globs = readStrings(value, problems, (glob) => {
    if (namespaces)
      return NAMESPACE_GLOB.test(glob)
        ? undefined
        : `use lowercase letters, digits, - and the wildcard *: ${JSON.stringify(glob)}`;
    const problem = checkRepositoryGlob(glob);
    return problem === undefined ? undefined : `${problem}: ${JSON.stringify(glob)}`;
  });
  return globs?.map(compileRepositoryGlob);
}

function readRules(value: unknown, problems: Problems, options: CompileOptions, policy: string): Rule[] {
  if (!isDict(value) || Object.keys(value).length === 0) {
    problems.add([], `expected a mapping of rules (${RULE_NAMES.join(", ")}), got ${describeKind(value)}`);
    return [];
  }
  const rules: Rule[] = [];
  for (const [name, spec] of Object.entries(value)) {
    const at = problems.at(name);
    let read: Rule | readonly Rule[] | undefined;
    switch (name) {
      case "signedBy":
        read = readSignedBy(spec, at, options);
        break;
      case "sbom":
        read = readSbom(spec, at);
        break;
      case "provenance":
        read = readProvenance(spec, at);
        break;
      case "galleryOnly":
        read = readGalleryOnly(spec, at);
        break;
      case "noMovableTags":
        read = readNoMovableTags(spec, at);
        break;
      case "maxAge":
        read = readMaxAge(spec, at);
        break;
      case "allowedBases":
        read = readAllowedBases(spec, at);
        break;
      case "deniedPackages":
        read = readDeniedPackages(spec, at, options);
        break;
      case "lifecycle":
        read = readLifecycle(spec, at);
        break;
      case "cel":
        read = readCel(spec, at, policy);
        break;
      default:
        at.add([], `unknown rule; expected one of ${RULE_NAMES.map((r) => `"${r}"`).join(", ")}`);
    }
    if (read !== undefined) rules.push(...(Array.isArray(read) ? read : [read as Rule]));
  }
  return rules;
}

function readPolicy(value: unknown, problems: Problems, options: CompileOptions): Policy | undefined {
  if (!isDict(value)) return problems.add([], `expected a policy mapping, got ${describeKind(value)}`);
  const before = problems.list.length;
  unknownKeys(value, ["name", "description", "mode", "scope", "points", "rules"], problems);
  const { name, description, mode = "audit", scope = {}, points, rules } = value;
  if (typeof name !== "string" || !NAME_RE.test(name))
    problems.add(
      ["name"],
      `expected a name of lowercase letters, digits, ".", "_" and "-", got ${describeKind(name)}`,
    );
  if (description !== undefined && typeof description !== "string")
    problems.add(["description"], `expected a string, got ${describeKind(description)}`);
  if (!(POLICY_MODES as readonly unknown[]).includes(mode))
    problems.add(["mode"], `expected one of "audit", "warn", "enforce", got ${describeKind(mode)}`);
  type Matchers = readonly ((name: string) => boolean)[] | undefined;
  let repositories: Matchers, galleries: Matchers, namespaces: Matchers;
  if (isDict(scope)) {
    unknownKeys(scope, ["repositories", "galleries", "namespaces"], problems.at("scope"));
    repositories = readGlobs(scope.repositories, problems.at("scope", "repositories"));
    galleries = readGlobs(scope.galleries, problems.at("scope", "galleries"));
    namespaces = readGlobs(scope.namespaces, problems.at("scope", "namespaces"), true);
  } else problems.add(["scope"], `expected a mapping, got ${describeKind(scope)}`);
  const at =
    points === undefined
      ? [...POLICY_POINTS]
      : readStrings(points, problems.at("points"), (p) =>
          (POLICY_POINTS as readonly string[]).includes(p)
            ? undefined
            : `expected one of ${POLICY_POINTS.map((x) => `"${x}"`).join(", ")}, got ${JSON.stringify(p)}`,
        );
  const compiled = readRules(rules, problems.at("rules"), options, typeof name === "string" ? name : "");
  if (problems.list.length > before || typeof name !== "string" || at === undefined) return undefined;
  const inScope = (facts: ImageFacts): boolean => {
    if (repositories === undefined && galleries === undefined) return true;
    if (repositories?.some((m) => m(facts.repository)) === true) return true;
    // Without gallery facts, a gallery repository is `<gallery>/<definition>`: judged by its first
    // component, so a policy for a gallery still applies when the gallery could not be read.
    const gallery =
      facts.gallery?.gallery ??
      (facts.unavailable?.gallery !== undefined ? facts.repository.split("/")[0] : undefined);
    return gallery !== undefined && galleries?.some((m) => m(gallery)) === true;
  };
  return {
    name,
    mode: mode as PolicyMode,
    points: at as PolicyPoint[],
    rules: compiled,
    spec: value as unknown as PolicySpec,
    appliesTo(facts, point, namespace) {
      if (!(at as string[]).includes(point) || !inScope(facts)) return false;
      if (namespaces === undefined) return true;
      return namespace !== undefined && namespaces.some((m) => m(namespace));
    },
    mayApply(repository, point, namespace) {
      if (!(at as string[]).includes(point)) return false;
      if (namespaces !== undefined && (namespace === undefined || !namespaces.some((m) => m(namespace))))
        return false;
      if (repositories === undefined && galleries === undefined) return true;
      if (repositories?.some((m) => m(repository)) === true) return true;
      const parts = repository.split("/");
      return parts.length === 2 && galleries?.some((m) => m(parts[0] ?? "")) === true;
    },
  };
}

/** Reads and compiles a list of policies; every problem is returned, with its key path from the list. */
export function parsePolicies(
  value: unknown,
  options: CompileOptions = {},
): { policies: Policy[]; problems: PolicyProblem[] } {
  const problems = new Problems();
  if (!Array.isArray(value)) {
    problems.add([], `expected a list of policies, got ${describeKind(value)}`);
    return { policies: [], problems: problems.list };
  }
  const policies: Policy[] = [];
  const names = new Map<string, number>();
  value.forEach((item: unknown, i) => {
    const policy = readPolicy(item, problems.at(i), options);
    if (policy === undefined) return;
    const first = names.get(policy.name);
    if (first !== undefined)
      problems.add(
        [i, "name"],
        `duplicate policy name ${JSON.stringify(policy.name)} (also policy [${first}])`,
      );
    names.set(policy.name, i);
    policies.push(policy);
  });
  return { policies, problems: problems.list };
}

/** Compiles a list of policies, or throws a PolicyError listing every problem. */
export function compilePolicies(value: unknown, options: CompileOptions = {}): Policy[] {
  const { policies, problems } = parsePolicies(value, options);
  if (problems.length > 0) throw new PolicyError(problems);
  return policies;
}
