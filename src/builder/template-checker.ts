// Field checks for the image template: each check returns the value in the type it expects or
// throws a BuildError naming the file and the field's path (`strata.yaml: tests[2].mode: …`).
import { BuildError } from "./errors.ts";

export type Json = Record<string, unknown>;

export class Checker {
  constructor(private readonly file: string) {}

  fail(path: string, message: string): never {
    throw new BuildError(`${path}: ${message}`, { file: this.file });
  }

  object(value: unknown, path: string, allowed: readonly string[]): Json {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      this.fail(path, `expected a mapping, got ${show(value)}`);
    const object = value as Json;
    for (const key of Object.keys(object))
      if (!allowed.includes(key))
        this.fail(
          path === "" ? key : `${path}.${key}`,
          `unknown field (expected one of: ${allowed.join(", ")})`,
        );
    return object;
  }

  /**
   * The common head of a test entry: a mapping of the allowed fields with a name no other test
   * of its list has, and exactly one of `kinds` (`what` names such a test in the message).
   */
  gateHead(
    value: unknown,
    path: string,
    names: Set<string>,
    fields: { readonly allowed: readonly string[]; readonly kinds: readonly string[]; readonly what: string },
  ): { raw: Json; name: string } {
    const raw = this.object(value, path, fields.allowed);
    const name = this.string(raw.name, `${path}.name`, { max: 200 });
    if (names.has(name)) this.fail(`${path}.name`, `another test is named "${name}"`);
    names.add(name);
    const kinds = fields.kinds.filter((k) => raw[k] !== undefined);
    if (kinds.length !== 1)
      this.fail(
        path,
        `${fields.what} has exactly one of ${fields.kinds.slice(0, -1).join(", ")} or ${fields.kinds.at(-1) ?? ""} (this one has ${kinds.join(", ") || "none"})`,
      );
    return { raw, name };
  }

  /** A command's expected exit status, 0 to 255, when given. */
  exitCode(value: unknown, path: string): number | undefined {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 255)
      this.fail(path, `expected a whole number from 0 to 255, got ${show(value)}`);
    return value as number;
  }

  /** An absolute path inside the image or guest. */
  absolutePath(value: unknown, path: string): string {
    const file = this.string(value, path);
    if (!file.startsWith("/")) this.fail(path, `must be absolute, got "${file}"`);
    return file;
  }

  string(value: unknown, path: string, options: { nonEmpty?: boolean; max?: number } = {}): string {
    // Numbers and booleans are written as YAML scalars by habit (version: 1.2, arg: 3): they are
    // taken as their text.
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (typeof value !== "string") this.fail(path, `expected a string, got ${show(value)}`);
    if ((options.nonEmpty ?? true) && value.length === 0) this.fail(path, "must not be empty");
    if (value.length > (options.max ?? 4096))
      this.fail(path, `longer than ${options.max ?? 4096} characters`);
    return value;
  }

  strings(value: unknown, path: string): string[] {
    if (!Array.isArray(value)) this.fail(path, `expected a list of strings, got ${show(value)}`);
    return value.map((v, i) => this.string(v, `${path}[${i}]`));
  }

  map(value: unknown, path: string): Record<string, string> {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      this.fail(path, `expected a mapping of names to strings, got ${show(value)}`);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value as Json))
      out[k] = this.string(v ?? "", `${path}.${k}`, { nonEmpty: false });
    return out;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== "boolean") this.fail(path, `expected true or false, got ${show(value)}`);
    return value;
  }

  /** GALLERY/NAME of a gallery image definition. */
  imageName(value: unknown, path: string): string {
    const text = this.string(value, path);
    if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*\/[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(text))
      this.fail(path, `expected GALLERY/NAME, got "${text}"`);
    return text;
  }

  regex(value: unknown, path: string): string {
    const text = this.string(value, path);
    try {
      new RegExp(text, "m");
    } catch (error) {
      this.fail(path, `invalid regular expression: ${(error as Error).message}`);
    }
    return text;
  }
}

export function show(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}
