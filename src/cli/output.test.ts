// Human output: aligned tables with "-" for missing values, and "key: value" lines.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { printObject, printTable, show } from "./output.ts";

describe("human output", () => {
  it("aligns table columns, one line per row", () => {
    const io = memoryIo({});
    printTable(
      io,
      [
        ["NAME", (r: { name: string; note?: string }) => r.name],
        ["NOTE", (r: { name: string; note?: string }) => r.note],
      ],
      [{ name: "a-long-name", note: "two\nlines" }, { name: "b" }],
    );
    assert.equal(io.out(), "NAME         NOTE\na-long-name  two lines\nb            -\n");
  });

  it("says (none) under the header of an empty table", () => {
    const io = memoryIo({});
    printTable(io, [["ID", (r: { id: string }) => r.id]], []);
    assert.equal(io.out(), "ID\n(none)\n");
  });

  it("prints key: value lines, nested values as JSON and continued lines indented", () => {
    const io = memoryIo({});
    printObject(io, { name: "prod", labels: { a: "1" }, description: "one\ntwo", eol: null });
    assert.equal(
      io.out(),
      'name:        prod\nlabels:      {"a":"1"}\ndescription: one\n             two\neol:         -\n',
    );
  });

  it("prints the JSON answer instead with --json", () => {
    const io = memoryIo({});
    show(io, { json: true }, { a: [1] }, () => assert.fail("human output with --json"));
    assert.equal(io.out(), '{\n  "a": [\n    1\n  ]\n}\n');
  });
});
