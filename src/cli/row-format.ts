// Listings the way docker and podman print them for scripts: `-q` (one key per line) and a
// `--format` subset of Go templates — `{{.Field}}` placeholders, `{{json .}}` for the row as
// --json prints it, a leading `table` for aligned columns under a header, and `\t`/`\n`
// escapes. Anything else a Go template can do (if, range, functions, pipes) is refused with a
// pointer to --json.
import { usageError } from "./errors.ts";
import type { CliIo } from "./io.ts";

/** A listing's fields by their docker names (`Names`, `Image`), each a row's text. */
export type Fields<T> = Readonly<Record<string, (row: T) => string>>;

type Piece = string | { readonly field: string } | { readonly json: true };

function parseTemplate<T>(template: string, fields: Fields<T>): Piece[] {
  const text = template.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  const pieces: Piece[] = [];
  const names = Object.keys(fields);
  let at = 0;
  for (const m of text.matchAll(/\{\{(.*?)\}\}/gs)) {
    if (m.index > at) pieces.push(text.slice(at, m.index));
    at = m.index + m[0].length;
    const inner = (m[1] ?? "").trim();
    if (/^json\s+\.$/.test(inner)) {
      pieces.push({ json: true });
      continue;
    }
    const field = /^\.([A-Za-z]+)$/.exec(inner)?.[1];
    if (field === undefined)
      throw usageError(
        `Unsupported --format "{{${inner}}}": only {{.Field}} and {{json .}} are understood; use --json for more`,
      );
    const name = names.find((n) => n.toLowerCase() === field.toLowerCase());
    if (name === undefined)
      throw usageError(
        `Unknown field ".${field}" in --format: the fields are ${names.map((n) => `.${n}`).join(", ")}`,
      );
    pieces.push({ field: name });
  }
  if (at < text.length) pieces.push(text.slice(at));
  if (text.slice(at).includes("{{")) throw usageError(`Invalid --format "${template}": a "{{" is not closed`);
  return pieces;
}

const HEADERS: Readonly<Record<string, string>> = { ID: "ID", CreatedAt: "CREATED AT" };

/**
 * Prints `rows` through a `--format` template: one line per row, or with a leading `table`
 * columns split at tabs, aligned under a header of the fields' names.
 */
export function printFormatted<T>(
  io: CliIo,
  template: string,
  fields: Fields<T>,
  rows: readonly T[],
  json: (row: T) => unknown,
): void {
  const table = /^table\b/.test(template);
  const pieces = parseTemplate(table ? template.replace(/^table\s*/, "") : template, fields);
  const render = (cell: (p: Exclude<Piece, string>) => string): string =>
    pieces.map((p) => (typeof p === "string" ? p : cell(p))).join("");
  const lines = rows.map((row) =>
    render((p) => ("json" in p ? JSON.stringify(json(row)) : (fields[p.field]?.(row) ?? ""))),
  );
  if (!table) {
    for (const line of lines) io.stdout.write(`${line}\n`);
    return;
  }
  const header = render((p) =>
    "json" in p ? "JSON" : (HEADERS[p.field] ?? p.field.replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase()),
  );
  const cells = [header, ...lines].map((l) => l.split("\t"));
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  for (const row of cells)
    io.stdout.write(
      `${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 2))).join("")}\n`,
    );
}
