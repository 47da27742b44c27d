// Strict JSON documents for manifests and configs. Beyond JSON.parse this rejects a byte order
// mark, invalid UTF-8 and duplicated keys (parsers disagree on which copy wins, so a duplicate
// lets two readers see two different documents under one digest), and it records which numbers
// were written with a fraction or exponent (`1.0`, `1e3`), which Go clients refuse as integers.
import { isPlainObject } from "./descriptor.ts";
import { OciFormatError, type OciFormatCode } from "./errors.ts";
import { escapeControl, quote } from "./quote.ts";

export type JsonPath = readonly (string | number)[];

export interface JsonDocument {
  readonly value: Record<string, unknown>;
  /** True when the number at `path` was written with a fraction or an exponent. */
  isInexactNumber(path: JsonPath): boolean;
}

// ignoreBOM keeps a leading BOM in the text, so JSON.parse rejects it as Go's decoder does.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes and parses a JSON object; `what` names the document in errors ("manifest"). */
export function parseJsonObject(bytes: Uint8Array, what: string, code: OciFormatCode): JsonDocument {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (cause) {
    throw new OciFormatError(code, `Invalid ${what}: not UTF-8`, { cause });
  }
  if (text.charCodeAt(0) === 0xfeff)
    throw new OciFormatError(code, `Invalid ${what}: starts with a byte order mark`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new OciFormatError(code, `Invalid ${what}: not JSON: ${escapeControl((cause as Error).message)}`, {
      cause,
    });
  }
  if (!isPlainObject(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw new OciFormatError(code, `Invalid ${what}: expected a JSON object, got ${kind}`);
  }
  const scan = scanJson(text);
  if (scan.duplicate !== undefined) {
    const { key, path } = scan.duplicate;
    const where = path.length === 0 ? "" : ` in ${formatJsonPath(path)}`;
    throw new OciFormatError(code, `Invalid ${what}: duplicate key ${quote(key)}${where}`);
  }
  const inexact = scan.inexact;
  return { value, isInexactNumber: (path) => inexact.has(JSON.stringify(path)) };
}

/** `layers[2].size` style rendering of a path. */
export function formatJsonPath(path: JsonPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out;
}

interface Frame {
  /** Keys seen so far; undefined for arrays. */
  readonly keys: Set<string> | undefined;
  /** Current key (objects) or index (arrays). */
  at: string | number;
  expectKey: boolean;
}

interface ScanResult {
  readonly duplicate?: { readonly key: string; readonly path: JsonPath };
  readonly inexact: Set<string>;
}

/** One pass over text already known to be valid JSON. */
function scanJson(text: string): ScanResult {
  const stack: Frame[] = [];
  const inexact = new Set<string>();
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    const top = stack[stack.length - 1];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (top.keys.has(key))
          return { duplicate: { key, path: stack.slice(0, -1).map((f) => f.at) }, inexact };
        top.keys.add(key);
        top.at = key;
        top.expectKey = false;
      }
      i = end;
      continue;
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      let end = i + 1;
      while (end < text.length && "0123456789.eE+-".includes(text[end] as string)) end++;
      if (/[.eE]/.test(text.slice(i, end))) inexact.add(JSON.stringify(stack.map((f) => f.at)));
      i = end;
      continue;
    }
    if (c === "{") stack.push({ keys: new Set(), at: "", expectKey: true });
    else if (c === "[") stack.push({ keys: undefined, at: 0, expectKey: false });
    else if (c === "}" || c === "]") stack.pop();
    else if (c === "," && top !== undefined) {
      if (top.keys !== undefined) top.expectKey = true;
      else top.at = (top.at as number) + 1;
    }
    i++;
  }
  return { inexact };
}

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  return i;
}
