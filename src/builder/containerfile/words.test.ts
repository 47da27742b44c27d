import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { substitute } from "./substitute.ts";
import { parsePairs, splitWords } from "./words.ts";

const opts = { escape: "\\" as const };

describe("words", () => {
  it("split on whitespace, grouping quotes and honouring escapes", () => {
    assert.deepEqual(splitWords(`a "b c" 'd e' f\\ g "h\\"i" 'j\\k'`, opts), [
      "a",
      "b c",
      "d e",
      "f g",
      'h"i',
      "j\\k",
    ]);
    assert.deepEqual(splitWords("  ", opts), []);
    assert.deepEqual(splitWords('""', opts), [""]);
    assert.throws(() => splitWords("'open", opts), /unclosed single quote/);
  });
  it("read KEY=VALUE pairs and the legacy form", () => {
    assert.deepEqual(parsePairs('A=1 B="two words" C=', { ...opts, legacy: true }), [
      ["A", "1"],
      ["B", "two words"],
      ["C", ""],
    ]);
    assert.deepEqual(parsePairs("A one two", { ...opts, legacy: true }), [["A", "one two"]]);
    assert.throws(() => parsePairs("A", { ...opts, legacy: true }), /needs a value/);
  });
});

describe("substitute", () => {
  const env = new Map([
    ["NAME", "web"],
    ["EMPTY", ""],
  ]);
  it("expands $VAR, ${VAR}, ${VAR:-word} and ${VAR:+word}", () => {
    assert.equal(substitute("$NAME-${NAME}_x", env), "web-web_x");
    assert.equal(substitute("${MISSING:-fallback} ${EMPTY:-e} ${NAME:-n}", env), "fallback e web");
    assert.equal(substitute("${NAME:+set} [${MISSING:+set}]", env), "set []");
    assert.equal(substitute("${MISSING:-${NAME}}", env), "web");
    assert.equal(substitute("$MISSING|$", env), "|$");
  });
  it("keeps an escaped dollar literal", () => {
    assert.equal(substitute("\\$NAME costs \\$5", env), "$NAME costs $5");
    assert.equal(substitute("`$NAME", env, "`"), "$NAME");
  });
  it("refuses malformed substitutions", () => {
    assert.throws(() => substitute("${NAME", env), /unclosed/);
    assert.throws(() => substitute("${NAME/x/y}", env), /invalid substitution/);
  });
});
