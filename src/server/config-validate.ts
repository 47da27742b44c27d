// Validates values against the configuration schema. A layer (file, environment, overrides)
// may leave out any key, but a record entry or list item is given whole: its missing keys take
// their defaults or are reported. fillDefaults completes the merged layers.
import { formatDuration, parseDuration } from "./duration.ts";
import type { ConfigNode, LeafNode, ObjectNode } from "./config-nodes.ts";
import { parseSize } from "../lib/size.ts";

export type KeyPath = readonly (string | number)[];

export interface Problem {
  readonly path: KeyPath;
  readonly message: string;
}

interface Ctx {
  readonly problems: Problem[];
  /** Overrides from code: a number is accepted for a duration (milliseconds). */
  readonly programmatic: boolean;
}

type Dict = Record<string, unknown>;
const INVALID = Symbol("invalid");

/** `auth.users.alice.password`, `auth.access[0].users[1]`, `auth.users["a b"]`. */
export function formatPath(path: KeyPath): string {
  return path
    .map((key, i) => {
      if (typeof key === "number") return `[${key}]`;
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return i === 0 ? key : `.${key}`;
      return `[${JSON.stringify(key)}]`;
    })
    .join("");
}

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown, secret = false): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    return secret ? "a string" : JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  return secret ? `a ${typeof value}` : String(value);
}

function fail(ctx: Ctx, path: KeyPath, message: string): typeof INVALID {
  ctx.problems.push({ path, message });
  return INVALID;
}

function validateLeaf(node: LeafNode, value: unknown, path: KeyPath, ctx: Ctx): unknown {
  const got = `, got ${describe(value, node.secret)}`;
  switch (node.kind) {
    case "string": {
      if (typeof value !== "string") return fail(ctx, path, `expected a string${got}`);
      const problem = node.check?.(value);
      return problem === undefined
        ? value
        : fail(ctx, path, node.secret === true ? problem : `${problem}${got}`);
    }
    case "enum":
      return typeof value === "string" && node.values.includes(value)
        ? value
        : fail(ctx, path, `expected one of ${node.values.map((v) => `"${v}"`).join(", ")}${got}`);
    case "duration": {
      const ms =
        typeof value === "string"
          ? parseDuration(value)
          : ctx.programmatic && typeof value === "number" && Number.isSafeInteger(value)
            ? value
            : undefined;
      if (ms === undefined)
        return fail(ctx, path, `expected a duration such as "90s", "5m", "24h" or "7d"${got}`);
      if (node.min !== undefined && ms < node.min)
        return fail(ctx, path, `must be at least ${formatDuration(node.min)}${got}`);
      if (node.max !== undefined && ms > node.max)
        return fail(ctx, path, `must be at most ${formatDuration(node.max)}${got}`);
      return ms;
    }
    case "boolean":
      // The environment gives strings; "true" and "false" are what YAML would read as booleans.
      if (value === true || value === "true") return true;
      if (value === false || value === "false") return false;
      return fail(ctx, path, `expected true or false${got}`);
    case "number": {
      const n =
        typeof value === "number"
          ? value
          : typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())
            ? Number(value)
            : undefined;
      if (n === undefined || !Number.isFinite(n) || (node.integer === true && !Number.isSafeInteger(n)))
        return fail(ctx, path, `expected ${node.integer === true ? "a whole number" : "a number"}${got}`);
      if (node.min !== undefined && n < node.min)
        return fail(ctx, path, `must be at least ${node.min}${got}`);
      if (node.max !== undefined && n > node.max) return fail(ctx, path, `must be at most ${node.max}${got}`);
      return n;
    }
    case "size": {
      const bytes = typeof value === "string" || typeof value === "number" ? parseSize(value) : undefined;
      if (bytes === undefined)
        return fail(ctx, path, `expected a size such as "4MiB", "512KiB" or a number of bytes${got}`);
      if (node.min !== undefined && bytes < node.min)
        return fail(ctx, path, `must be at least ${node.min} byte${node.min === 1 ? "" : "s"}${got}`);
      return bytes;
    }
  }
}

/** The value of a missing key: its default, an empty mapping or list, or a problem when required. */
function defaultOf(node: ConfigNode, path: KeyPath, ctx: Ctx): unknown {
  switch (node.kind) {
    case "object":
      return validateObject(node, {}, path, ctx, true);
    case "record":
      return {};
    case "list":
      return [];
    case "value":
      return node.empty;
    default:
      if (node.default !== undefined) return validateLeaf(node, node.default, path, ctx);
      if (node.optional !== true) ctx.problems.push({ path, message: "missing required key" });
      return INVALID;
  }
}

function validateObject(
  node: ObjectNode,
  value: unknown,
  path: KeyPath,
  ctx: Ctx,
  complete: boolean,
): unknown {
  if (!isDict(value))
    return fail(
      ctx,
      path,
      `expected a mapping${path.length === 0 ? " at the top level" : ""}, got ${describe(value)}`,
    );
  const known = Object.keys(node.fields);
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(node.fields, key)) {
      ctx.problems.push({
        path: [...path, key],
        message: `unknown key; expected one of ${known.map((k) => `"${k}"`).join(", ")}`,
      });
    }
  }
  const out: Dict = {};
  for (const [key, field] of Object.entries(node.fields)) {
    const given = Object.hasOwn(value, key) ? value[key] : undefined;
    const result =
      given === undefined || given === null
        ? complete
          ? defaultOf(field, [...path, key], ctx)
          : INVALID
        : validateNode(field, given, [...path, key], ctx, complete);
    if (result !== INVALID) out[key] = result;
  }
  return out;
}

function validateNode(node: ConfigNode, value: unknown, path: KeyPath, ctx: Ctx, complete: boolean): unknown {
  switch (node.kind) {
    case "object":
      return validateObject(node, value, path, ctx, complete);
    case "record": {
      if (!isDict(value)) return fail(ctx, path, `expected a mapping, got ${describe(value)}`);
      const entries = Object.entries(value).map(([k, v]) => [
        k,
        validateNode(node.value, v, [...path, k], ctx, true),
      ]);
      return Object.fromEntries(entries.filter(([, v]) => v !== INVALID));
    }
    case "list": {
      if (!Array.isArray(value)) return fail(ctx, path, `expected a list, got ${describe(value)}`);
      const items: unknown[] = value.map((v: unknown, i) =>
        validateNode(node.items, v, [...path, i], ctx, true),
      );
      return items.filter((v) => v !== INVALID);
    }
    case "value": {
      const read = node.read(value);
      for (const p of read.problems) ctx.problems.push({ path: [...path, ...p.path], message: p.message });
      return read.problems.length > 0 ? INVALID : read.value;
    }
    default:
      return validateLeaf(node, value, path, ctx);
  }
}

/** Validates one layer; keys may be missing. `programmatic` is true for overrides from code. */
export function validateLayer(
  schema: ObjectNode,
  value: unknown,
  programmatic: boolean,
): { value: Dict; problems: Problem[] } {
  const ctx: Ctx = { problems: [], programmatic };
  const result = validateObject(schema, value ?? {}, [], ctx, false);
  return { value: isDict(result) ? result : {}, problems: ctx.problems };
}

/** Completes merged, validated layers with the schema's defaults. */
export function fillDefaults(
  schema: ObjectNode,
  value: Dict,
  path: KeyPath = [],
): { value: Dict; problems: Problem[] } {
  const ctx: Ctx = { problems: [], programmatic: true };
  const out: Dict = {};
  for (const [key, field] of Object.entries(schema.fields)) {
    const given = value[key];
    let result: unknown;
    if (given === undefined) {
      result = defaultOf(field, [...path, key], ctx);
    } else if (field.kind === "object" && isDict(given)) {
      const inner = fillDefaults(field, given, [...path, key]);
      ctx.problems.push(...inner.problems);
      result = inner.value;
    } else {
      result = given;
    }
    if (result !== INVALID) out[key] = result;
  }
  return { value: out, problems: ctx.problems };
}
