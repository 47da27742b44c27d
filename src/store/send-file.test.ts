// fileRangeWriter: whole files and ranges arrive byte for byte, in chunks larger than one
// buffer, and a destination that closes early fails the write and still closes the file.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileRangeWriter } from "./send-file.ts";

let dir: string;
let file: string;
const bytes = randomBytes(3 * 1024 * 1024 + 123);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-send-"));
  file = join(dir, "blob");
  await writeFile(file, bytes);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(start: number, end: number): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(Buffer.from(c)));
  const writer = fileRangeWriter(await open(file, "r"), start, end);
  assert.equal(writer.size, end - start + 1);
  await writer.writeTo(out);
  out.end();
  return Buffer.concat(chunks);
}

describe("fileRangeWriter", () => {
  it("writes a whole file larger than its buffers", async () => {
    assert.deepEqual(await collect(0, bytes.length - 1), bytes);
  });

  it("writes a range across buffer boundaries", async () => {
    const start = 1024 * 1024 - 10;
    const end = 2 * 1024 * 1024 + 10;
    assert.deepEqual(await collect(start, end), bytes.subarray(start, end + 1));
  });

  it("writes an empty file", async () => {
    const empty = join(dir, "empty");
    await writeFile(empty, "");
    const writer = fileRangeWriter(await open(empty, "r"), 0, -1);
    const out = new PassThrough();
    await writer.writeTo(out);
    assert.equal(writer.size, 0);
  });

  it("fails when the destination breaks, and closes the file", async () => {
    const handle = await open(file, "r");
    let writes = 0;
    const out = new Writable({
      write(_chunk, _encoding, callback) {
        writes++;
        callback(writes === 2 ? new Error("peer went away") : null);
      },
    });
    out.on("error", () => undefined);
    await assert.rejects(fileRangeWriter(handle, 0, bytes.length - 1).writeTo(out), /peer went away/);
    await assert.rejects(handle.stat(), /closed|EBADF/);
  });

  it("fails when the file is shorter than the range", async () => {
    const writer = fileRangeWriter(await open(file, "r"), 0, bytes.length + 10);
    const out = new PassThrough();
    out.resume();
    await assert.rejects(writer.writeTo(out), /File ended at byte/);
  });
});
