// `.containerignore` / `.dockerignore`: which context paths COPY and ADD never see. Patterns
// are `/`-separated globs relative to the context (`*` and `?` within a component, `**` across
// components); a leading `!` re-includes; the last matching pattern wins.
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface IgnoreRule {
  readonly negate: boolean;
  readonly match: RegExp;
}

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
      if (pattern[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // A pattern also excludes everything below what it names.
  return new RegExp(`^${re}(?:/.*)?$`);
}

export function parseIgnore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    const pattern = (negate ? line.slice(1) : line)
      .replace(/^\/+/, "")
      .replace(/\/+$/, "")
      .replace(/^\.\//, "");
    if (pattern === "") continue;
    rules.push({ negate, match: globToRegExp(pattern) });
  }
  return rules;
}

export function isIgnored(rules: readonly IgnoreRule[], path: string): boolean {
  let ignored = false;
  for (const rule of rules) if (rule.match.test(path)) ignored = !rule.negate;
  return ignored;
}

/** The rules of `.containerignore`, else `.dockerignore`, else none. */
export async function loadIgnore(contextDir: string): Promise<IgnoreRule[]> {
  for (const name of [".containerignore", ".dockerignore"]) {
    try {
      return parseIgnore(await readFile(join(contextDir, name), "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return [];
}
