// tailOffset: where the last N lines of a log start, whether or not it ends with a newline and
// however many read chunks the lines span.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tailOffset } from "./control.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-tail-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tail(text: string, lines: number): Promise<string> {
  const path = join(dir, "log");
  await writeFile(path, text);
  return (await readFile(path, "utf8")).slice(await tailOffset(path, lines));
}

describe("tailOffset", () => {
  it("finds the last lines, with or without a final newline", async () => {
    assert.equal(await tail("a\nb\nc\n", 2), "b\nc\n");
    assert.equal(await tail("a\nb\nc", 2), "b\nc");
    assert.equal(await tail("a\nb\nc\n", 1), "c\n");
    assert.equal(await tail("a\nb\nc\n", 3), "a\nb\nc\n");
    assert.equal(await tail("a\nb\nc\n", 10), "a\nb\nc\n");
    assert.equal(await tail("a\nb\nc\n", 0), "");
    assert.equal(await tail("\n\n", 1), "\n");
    assert.equal(await tail("", 5), "");
  });

  it("reads back across chunks of a long log", async () => {
    const long = `${"x".repeat(100_000)}\n${"y".repeat(70_000)}\nlast\n`;
    assert.equal(await tail(long, 2), `${"y".repeat(70_000)}\nlast\n`);
    assert.equal(await tail(long, 3), long);
  });

  it("takes a missing log as empty", async () => {
    assert.equal(await tailOffset(join(dir, "missing.log"), 3), 0);
  });
});
