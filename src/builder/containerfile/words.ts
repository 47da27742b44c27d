// Word splitting as Containerfile instructions use it: whitespace separates words, quotes group
// them (and are removed), the escape character protects the next character. Quote-aware
// key=value pairs for ENV, LABEL and ARG build on it.

export interface WordOptions {
  readonly escape: "\\" | "`";
}

/** Splits into words, removing quotes; `"a b" c` → ["a b", "c"]. Throws on an unclosed quote. */
export function splitWords(text: string, options: WordOptions): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? "";
    if (quote === undefined && /\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === options.escape && quote !== "'" && i + 1 < text.length) {
      // Inside double quotes only quote characters and the escape itself are escaped, as in a shell.
      const next = text[i + 1] ?? "";
      if (quote === undefined || next === '"' || next === options.escape || next === "$") {
        word += next === "$" ? `${options.escape}$` : next;
        i++;
        continue;
      }
    }
    if (quote === undefined && (c === '"' || c === "'")) {
      quote = c;
      continue;
    }
    if (c === quote) {
      quote = undefined;
      continue;
    }
    word += c;
  }
  if (quote !== undefined) throw new Error(`unclosed ${quote === '"' ? "double" : "single"} quote`);
  if (inWord) words.push(word);
  return words;
}

/**
 * `key=value` pairs (quotes allowed in values), or the legacy single pair `key value with
 * spaces` when the first word has no `=`.
 */
export function parsePairs(text: string, options: WordOptions & { legacy: boolean }): [string, string][] {
  const first = /^\S+/.exec(text)?.[0] ?? "";
  if (options.legacy && !first.includes("=")) {
    const rest = text.slice(first.length).trim();
    if (rest === "") throw new Error(`"${first}" needs a value`);
    return [[first, splitWords(rest, options).join(" ")]];
  }
  return splitWords(text, options).map((word) => {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new Error(`expected KEY=VALUE, got "${word}"`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** The exec (JSON array of strings) form, or undefined when the text is not one. */
export function parseJsonArray(text: string): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) return undefined;
  return value;
}
