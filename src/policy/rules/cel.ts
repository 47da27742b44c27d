// Custom rules: CEL expressions over the fact document, each `{ name, expression, message? }`.
// Variables: `image` (the fact document, typed: a misspelled field is a type error at load) and
// `request`: `request.point` ("pull", "run", "admission", "check") and `request.namespace` (the
// Kubernetes namespace at admission, else ""; `namespace` alone is a reserved word of CEL).
// Compiled and type-checked once when the policies load; the expression must be a bool. At
// decision time anything but `true` fails the rule — `false`, and an evaluation error (a field
// absent, e.g. facts unavailable), whose message becomes the reason: fail closed.
import { Environment } from "@marcbachmann/cel-js";
import { unavailableReason, FACT_GROUPS, type ImageFacts } from "../facts.ts";
import type { Problems } from "../errors.ts";
import { describeKind, isDict, unknownKeys, type CheckContext, type Rule } from "../rule.ts";

const IMAGE_SCHEMA = {
  reference: "string",
  registry: "string",
  repository: "string",
  tag: "string",
  digest: "string",
  mediaType: "string",
  kind: "string",
  created: "string",
  ageDays: "double",
  labels: "map<string, string>",
  gallery: {
    gallery: "string",
    image: "string",
    version: "string",
    state: "string",
    eol: "string",
    pastEol: "bool",
    channels: "list<string>",
    latest: "bool",
    ref: "string",
  },
  signatures: "list<map<string, dyn>>",
  sbom: {
    present: "bool",
    formats: "list<string>",
    packageCount: "double",
    packages: "list<map<string, string>>",
  },
  provenance: {
    present: "bool",
    builderId: "string",
    buildType: "string",
    source: "string",
    revision: "string",
  },
  base: { digest: "string", definition: "string", version: "string" },
  unavailable: "map<string, string>",
} as const;

let environment: Environment | undefined;
/** One environment for every expression (built on first use). */
function celEnvironment(): Environment {
  environment ??= new Environment()
    .registerVariable({ name: "image", schema: IMAGE_SCHEMA })
    .registerVariable({ name: "request", schema: { point: "string", namespace: "string" } });
  return environment;
}

const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";

const NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

function readOne(value: unknown, problems: Problems, policy: string): Rule | undefined {
  if (!isDict(value))
    return problems.add([], `expected { name, expression, message }, got ${describeKind(value)}`);
  unknownKeys(value, ["name", "expression", "message"], problems);
  const { name, expression, message } = value;
  if (typeof name !== "string" || !NAME_RE.test(name))
    return problems.add(
      ["name"],
      `expected a name of lowercase letters, digits, ".", "_" and "-", got ${describeKind(name)}`,
    );
  if (message !== undefined && typeof message !== "string")
    return problems.add(["message"], `expected a string, got ${describeKind(message)}`);
  if (typeof expression !== "string" || expression.trim() === "")
    return problems.add(["expression"], `expected a CEL expression, got ${describeKind(expression)}`);
  const where = `policy ${JSON.stringify(policy)} rule ${JSON.stringify(name)}: expression ${JSON.stringify(expression)}`;
  const env = celEnvironment();
  const checked = env.check(expression);
  if (!checked.valid) {
    const kind = checked.error?.name === "ParseError" ? "does not parse" : "does not type-check";
    return problems.add(["expression"], `${where} ${kind}: ${firstLine(checked.error)}`);
  }
  if (checked.type !== "bool" && checked.type !== "dyn")
    return problems.add(["expression"], `${where} gives ${checked.type ?? "a value"}, not a bool`);
  let run: (context: Record<string, unknown>) => unknown;
  try {
    run = env.parse(expression);
  } catch (error) {
    return problems.add(["expression"], `${where} does not parse: ${firstLine(error)}`);
  }
  return {
    name: `cel/${name}`,
    check(facts: ImageFacts, context: CheckContext): string | undefined {
      let result: unknown;
      try {
        result = run({ image: facts, request: { point: context.point, namespace: context.namespace ?? "" } });
      } catch (error) {
        const missing = FACT_GROUPS.filter((g) => unavailableReason(facts, g) !== undefined).map(
          (g) => `${g} (${unavailableReason(facts, g) ?? ""})`,
        );
        const facts_ = missing.length === 0 ? "" : `; facts unavailable: ${missing.join(", ")}`;
        return `${expression} could not be evaluated: ${firstLine(error)}${facts_}`;
      }
      if (result === true) return undefined;
      if (result === false) return message ?? `${expression} is false`;
      return `${expression} gave ${describeKind(result)}, not a bool`;
    },
  };
}

export function readCel(value: unknown, problems: Problems, policy: string): Rule[] | undefined {
  if (!Array.isArray(value) || value.length === 0)
    return problems.add([], `expected a list of { name, expression, message }, got ${describeKind(value)}`);
  const rules = value.map((item: unknown, i) => readOne(item, problems.at(i), policy));
  const names = new Set<string>();
  rules.forEach((rule, i) => {
    if (rule === undefined) return;
    if (names.has(rule.name))
      problems.add([i, "name"], `duplicate rule name ${JSON.stringify(rule.name.slice(4))}`);
    names.add(rule.name);
  });
  return rules.every((r) => r !== undefined) ? rules : undefined;
}
