// Splits a Containerfile into logical lines: comments and blank lines dropped, continuations
// (the escape character at the end of a line, `\` or a `# escape=` directive's) joined, each
// line keeping the number it starts on. Parser directives are read from the top of the file.
import { BuildError } from "../errors.ts";

export interface LogicalLine {
  /** 1-based number of the first physical line. */
  readonly line: number;
  readonly text: string;
}

export interface SplitResult {
  readonly escape: "\\" | "`";
  readonly lines: readonly LogicalLine[];
}

const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;

export function splitLines(text: string, file: string): SplitResult {
  const physical = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let escape: "\\" | "`" = "\\";
  let i = 0;
  // Directives: only at the very top, before any other comment, blank line or instruction.
  const seen = new Set<string>();
  for (; i < physical.length; i++) {
    const m = DIRECTIVE_RE.exec(physical[i] ?? "");
    if (m === null) break;
    const name = (m[1] ?? "").toLowerCase();
    const value = m[2] ?? "";
    if (name !== "escape" && name !== "syntax" && name !== "check") break;
    if (seen.has(name))
      throw new BuildError(`parser directive "${name}" is given twice`, { file, line: i + 1 });
    seen.add(name);
    if (name === "escape") {
      if (value !== "\\" && value !== "`") {
        throw new BuildError(`invalid escape directive "${value}": expected \\ or \``, { file, line: i + 1 });
      }
      escape = value;
    }
  }
  const lines: LogicalLine[] = [];
  let current: { line: number; parts: string[] } | undefined;
  for (; i < physical.length; i++) {
    const raw = physical[i] ?? "";
    const trimmed = raw.trimStart();
    // Comments are whole lines starting with #, also inside a continued instruction.
    if (trimmed.startsWith("#")) continue;
    if (current === undefined && trimmed === "") continue;
    const continued = raw.trimEnd().endsWith(escape);
    const body = continued ? raw.trimEnd().slice(0, -1) : raw;
    if (current === undefined) current = { line: i + 1, parts: [] };
    current.parts.push(body);
    if (!continued) {
      const joined = current.parts.join("").trim();
      if (joined !== "") lines.push({ line: current.line, text: joined });
      current = undefined;
    }
  }
  if (current !== undefined) {
    const joined = current.parts.join("").trim();
    if (joined !== "") lines.push({ line: current.line, text: joined });
  }
  return { escape, lines };
}
