// Environment overrides, Distribution style: `STRATA_` + the key path upper-cased and joined by
// `_` (`STRATA_LOG_LEVEL`, `STRATA_LIMITS_MANIFESTMAXBYTES`). Scalars are taken as written;
// `auth.users`, `auth.access`, `policies` and other lists and mappings take a YAML (or JSON) value. Empty values count as unset.
// A variable that does not name a key is an error only when it looks like configuration — its
// first segment after `STRATA_` is a top-level key (ADDR, DATA, LOG, AUTH, …); others, such as
// the CLI's STRATA_SERVER and STRATA_DATA_DIR, are left alone. The YAML parser loads only for such a value.
import type { ConfigNode, ObjectNode } from "./config-nodes.ts";
import { formatPath, type KeyPath } from "./config-validate.ts";

export interface EnvVariable {
  readonly name: string;
  readonly path: readonly string[];
  readonly node: ConfigNode;
}

/** The CLI's own variables, never read as configuration (STRATA_DATA_DIR looks like DATA's). */
const RESERVED = new Set([
  "STRATA_SERVER",
  "STRATA_USERNAME",
  "STRATA_PASSWORD",
  "STRATA_CONFIG_DIR",
  "STRATA_DATA_DIR",
]);

const envName = (path: readonly string[]): string => `STRATA_${path.map((k) => k.toUpperCase()).join("_")}`;

/** Every variable the schema accepts: one per scalar, record and list. */
export function envVariables(schema: ObjectNode): EnvVariable[] {
  const out: EnvVariable[] = [];
  const walk = (node: ObjectNode, path: readonly string[]): void => {
    for (const [key, field] of Object.entries(node.fields)) {
      if (field.kind === "object") walk(field, [...path, key]);
      else out.push({ name: envName([...path, key]), path: [...path, key], node: field });
    }
  };
  walk(schema, []);
  return out;
}

/** The environment as one layer: the raw values by key path, and problems already worded. */
export async function readEnvLayer(
  schema: ObjectNode,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ layer: Record<string, unknown>; problems: string[] }> {
  const variables = envVariables(schema);
  const byName = new Map(variables.map((v) => [v.name, v]));
  const sections = new Set(Object.keys(schema.fields).map((k) => k.toUpperCase()));
  const layer: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.startsWith("STRATA_") || value === undefined || value === "" || RESERVED.has(name)) continue;
    const variable = byName.get(name);
    if (variable === undefined) {
      if (sections.has(name.slice("STRATA_".length).split("_")[0] ?? ""))
        problems.push(unknownVariable(name, variables));
      continue;
    }
    let raw: unknown = value;
    if (variable.node.kind === "record" || variable.node.kind === "list" || variable.node.kind === "value") {
      // CommonJS: its exports are in `default` (see readYaml in config.ts).
      const { parse: parseYaml } = (await import("yaml")).default;
      try {
        raw = parseYaml(value);
      } catch (error) {
        problems.push(
          `${name}: invalid YAML: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`,
        );
        continue;
      }
    }
    let target = layer;
    for (const key of variable.path.slice(0, -1)) {
      const next = (target[key] ??= {}) as Record<string, unknown>;
      target = next;
    }
    target[variable.path.at(-1) ?? ""] = raw;
  }
  return { layer, problems };
}

function unknownVariable(name: string, variables: readonly EnvVariable[]): string {
  const structured = variables.find(
    (v) =>
      (v.node.kind === "record" || v.node.kind === "list" || v.node.kind === "value") &&
      name.startsWith(`${v.name}_`),
  );
  if (structured !== undefined) {
    return `${name}: not a configuration variable; set ${structured.name} to a YAML value instead`;
  }
  const section = name.split("_").slice(0, 2).join("_");
  const near = variables
    .filter((v) => v.name === section || v.name.startsWith(`${section}_`))
    .map((v) => v.name);
  return `${name}: not a configuration variable; known: ${near.join(", ")}`;
}

/** How a problem at `path` from the environment is named: the variable, and the key when deeper. */
export function envLabel(schema: ObjectNode, path: KeyPath): string {
  for (const variable of envVariables(schema)) {
    if (variable.path.every((k, i) => path[i] === k)) {
      return path.length > variable.path.length ? `${variable.name} (${formatPath(path)})` : variable.name;
    }
  }
  return formatPath(path);
}
