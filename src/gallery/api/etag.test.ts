import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { etagOf, noneMatchHits } from "./etag.ts";

describe("etagOf and noneMatchHits", () => {
  it("gives the same strong tag for the same bytes and another for other bytes", () => {
    assert.match(etagOf('{"a":1}'), /^"[0-9a-f]{32}"$/);
    assert.equal(etagOf('{"a":1}'), etagOf('{"a":1}'));
    assert.notEqual(etagOf('{"a":1}'), etagOf('{"a":2}'));
  });

  it("matches a listed tag, a weak form of it and *, and nothing else", () => {
    const tag = etagOf("x");
    const table: [string | undefined, boolean][] = [
      [undefined, false],
      ["", false],
      [tag, true],
      [`W/${tag}`, true],
      [`"other", ${tag}`, true],
      ["*", true],
      ['"other"', false],
      [tag.slice(1, -1), false],
    ];
    for (const [header, want] of table) assert.equal(noneMatchHits(header, tag), want, String(header));
  });
});
