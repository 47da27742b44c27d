// The control-file syntax of dpkg's databases (deb822(5)): paragraphs of `Field: value` lines,
// continuation lines starting with a space or tab, paragraphs separated by blank lines.
// Anything else is an error naming the file and line. Field names are matched case-insensitively
// (kept as first written); a continuation line of " ." is an empty line of the value.
import { SbomError } from "./errors.ts";
import { cleanText } from "./text.ts";

/** Longest field value accepted (a long Description is a few KiB; Conffiles lists can be long). */
export const MAX_FIELD = 1024 * 1024;

export interface Paragraph {
  /** Fields by lowercased name. */
  readonly fields: ReadonlyMap<string, string>;
  /** The line the paragraph starts on, for messages. */
  readonly line: number;
}

export function parseDeb822(text: string, file: string, maxParagraphs: number): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let fields = new Map<string, string>();
  let start = 0;
  let last: string | undefined;
  const lines = text.split("\n");
  const close = () => {
    if (fields.size === 0) return;
    if (paragraphs.length >= maxParagraphs)
      throw new SbomError(`more than ${maxParagraphs} paragraphs`, { file, line: start });
    paragraphs.push({ fields, line: start });
    fields = new Map();
    last = undefined;
  };
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const number = i + 1;
    if (line.trim() === "") {
      close();
      continue;
    }
    if (line.startsWith("#") && fields.size === 0) continue;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (last === undefined)
        throw new SbomError("continuation line outside a field", { file, line: number });
      const value = `${fields.get(last) ?? ""}\n${line.slice(1) === "." ? "" : line.slice(1)}`;
      if (value.length > MAX_FIELD)
        throw new SbomError(`field "${last}" is longer than ${MAX_FIELD} bytes`, { file, line: number });
      fields.set(last, value);
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon <= 0 ? "" : line.slice(0, colon);
    if (!/^[!-9;-~]+$/.test(name) || name.startsWith("-") || name.startsWith("#"))
      throw new SbomError(`expected "Field: value", got "${cleanText(line.slice(0, 80))}"`, {
        file,
        line: number,
      });
    if (fields.size === 0) start = number;
    last = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (value.length > MAX_FIELD)
      throw new SbomError(`field "${name}" is longer than ${MAX_FIELD} bytes`, { file, line: number });
    fields.set(last, value);
  }
  close();
  return paragraphs;
}
