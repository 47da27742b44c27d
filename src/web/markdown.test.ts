// The changelog Markdown parser: the structures it recognises, and hostile input that must come
// out as plain text (markup) or without a link (unsafe URL schemes).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseInline, parseMarkdown, safeHref } from "./app/markdown.ts";

describe("parseMarkdown", () => {
  it("reads headings, paragraphs, lists and fenced code", () => {
    const blocks = parseMarkdown(
      "# Release 1.2\n\nFixes a *crash* and\nadds **speed**.\n\n- one\n- two `x`\n\n1. first\n2. second\n\n```sh\n<b>raw</b>\n```\n",
    );
    assert.deepEqual(
      blocks.map((b) => b.type),
      ["heading", "paragraph", "list", "list", "code"],
    );
    assert.deepEqual(blocks[0], {
      type: "heading",
      level: 1,
      children: [{ type: "text", text: "Release 1.2" }],
    });
    assert.deepEqual(blocks[1], {
      type: "paragraph",
      children: [
        { type: "text", text: "Fixes a " },
        { type: "em", children: [{ type: "text", text: "crash" }] },
        { type: "text", text: " and adds " },
        { type: "strong", children: [{ type: "text", text: "speed" }] },
        { type: "text", text: "." },
      ],
    });
    assert.equal(blocks[2]?.type === "list" && blocks[2].ordered, false);
    assert.equal(blocks[3]?.type === "list" && blocks[3].ordered, true);
    assert.deepEqual(blocks[4], { type: "code", text: "<b>raw</b>" });
  });

  it("keeps markup as text: there is no HTML in the tree", () => {
    const hostile = '<script>alert(1)</script> <img src=x onerror="alert(2)">';
    assert.deepEqual(parseMarkdown(hostile), [
      { type: "paragraph", children: [{ type: "text", text: hostile }] },
    ]);
  });

  it("links only http(s) URLs; other schemes leave the link text alone", () => {
    assert.deepEqual(parseInline("[docs](https://example.com/a)"), [
      { type: "link", href: "https://example.com/a", children: [{ type: "text", text: "docs" }] },
    ]);
    for (const href of [
      "javascript:alert(1)",
      "JAVASCRIPT:alert(1)",
      "data:text/html,<b>",
      "/relative",
      "vbscript:x",
    ]) {
      assert.deepEqual(parseInline(`[click](${href})`), [{ type: "text", text: "click" }], href);
      assert.equal(safeHref(href), undefined, href);
    }
  });

  it("survives unterminated constructs and empty input", () => {
    assert.deepEqual(parseMarkdown(""), []);
    assert.deepEqual(parseInline("**open `tick [link]("), [{ type: "text", text: "**open `tick [link](" }]);
    assert.deepEqual(parseMarkdown("```\nno end"), [{ type: "code", text: "no end" }]);
  });
});
