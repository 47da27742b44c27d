// Variable substitution in Containerfile words, as Docker defines it: $VAR, ${VAR},
// ${VAR:-default} and ${VAR:+alternative}; an escaped `$` stays literal; unset variables expand
// to nothing. RUN, CMD and ENTRYPOINT are left to the shell.

export function substitute(
  text: string,
  env: ReadonlyMap<string, string>,
  escape: "\\" | "`" = "\\",
): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? "";
    if (c === escape && text[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    if (c !== "$") {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === "{") {
      const close = matchingBrace(text, i + 1);
      if (close < 0) throw new Error(`unclosed "\${" in "${text}"`);
      out += expandBraced(text.slice(i + 2, close), env, escape);
      i = close;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))?.[0];
    if (name === undefined) {
      out += c;
      continue;
    }
    out += env.get(name) ?? "";
    i += name.length;
  }
  return out;
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return -1;
}

function expandBraced(inner: string, env: ReadonlyMap<string, string>, escape: "\\" | "`"): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])(.*))?$/s.exec(inner);
  if (m === null)
    throw new Error(
      `invalid substitution "\${${inner}}": expected \${NAME}, \${NAME:-word} or \${NAME:+word}`,
    );
  const value = env.get(m[1] ?? "");
  const word = m[3] ?? "";
  if (m[2] === ":-") return value === undefined || value === "" ? substitute(word, env, escape) : value;
  if (m[2] === ":+") return value === undefined || value === "" ? "" : substitute(word, env, escape);
  return value ?? "";
}
