// ByteCap: bytes up to the limit pass unchanged and are counted; one byte more is the caller's error.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { ByteCap } from "./byte-cap.ts";

async function collect(chunks: Buffer[], cap: ByteCap): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), cap, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return Buffer.concat(out);
}

test("ByteCap passes and counts bytes up to its limit", async () => {
  const cap = new ByteCap(6, () => new Error("too big"));
  const out = await collect([Buffer.from("abc"), Buffer.from("def")], cap);
  assert.equal(out.toString(), "abcdef");
  assert.equal(cap.bytes, 6);
});

test("ByteCap fails with the caller's error past its limit", async () => {
  const cap = new ByteCap(5, () => new Error("more than 5 bytes"));
  await assert.rejects(collect([Buffer.from("abc"), Buffer.from("def")], cap), /more than 5 bytes/);
});
