// Printing answers: JSON with --json, otherwise aligned tables and "key: value" lines.
import type { CliIo } from "./io.ts";

export interface OutputFlags {
  readonly json?: boolean;
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const cell = (value: unknown): string =>
  value === undefined || value === null
    ? "-"
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);

/** An aligned table with a header row; "-" for missing values. */
export function printTable<T>(
  io: CliIo,
  columns: readonly (readonly [string, (row: T) => unknown])[],
  rows: readonly T[],
): void {
  const cells = [
    columns.map(([title]) => title),
    // One line per row: a multi-line value (a description) would break the columns.
    ...rows.map((row) => columns.map(([, get]) => cell(get(row)).replace(/\s*\n\s*/g, " "))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  for (const r of cells)
    io.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  if (rows.length === 0) io.stdout.write("(none)\n");
}

/**
 * "key: value" lines of an object's scalar fields, nested objects as JSON; the further lines of
 * a multi-line value are indented under the first.
 */
export function printObject(io: CliIo, value: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(value).map((k) => k.length)) + 2;
  for (const [key, v] of Object.entries(value)) {
    const text = cell(v).replace(/\r?\n/g, `\n${" ".repeat(width)}`);
    io.stdout.write(`${`${key}:`.padEnd(width)}${text}\n`);
  }
}

/** Prints the answer as JSON with --json, else through `human`. */
export function show<T>(io: CliIo, flags: OutputFlags, value: T, human: (value: T) => void): void {
  if (flags.json === true) printJson(io, value);
  else human(value);
}
