// The chunker over real files: zero runs become holes (long ones) or stay in chunks (short ones),
// the extents tile the file with chunks holding its very bytes, and the whole-disk digest is the
// file's sha256 whichever core computes it — for files without zeros, all zeros, and sizes that
// are no multiple of the block size.
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chunkFile, DEFAULT_HOLE_MIN, type Extent } from "./chunker.ts";
import { DEFAULT_CHUNK_SIZES } from "./fastcdc.ts";
import type { WholeDigestMode } from "./whole-digest.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

function noise(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-chunker-"));
});
after(() => rm(work, { recursive: true, force: true }));

async function chunk(
  name: string,
  bytes: Buffer,
  options: { holeMin?: number; wholeDigest?: WholeDigestMode } = {},
): Promise<{ extents: Extent[]; size: number; digest: string }> {
  const path = join(work, name);
  await writeFile(path, bytes);
  const extents: Extent[] = [];
  const generator = chunkFile(path, options);
  for (;;) {
    const next = await generator.next();
    if (next.done === true) return { extents, ...next.value };
    extents.push(next.value);
  }
}

/** The extents tile `bytes`; chunks hold its bytes with their digests; holes are zeros. */
function assertTiles(bytes: Buffer, extents: readonly Extent[]): void {
  let at = 0;
  for (const extent of extents) {
    assert.equal(extent.offset, at, "extents are contiguous");
    assert.ok(extent.length > 0);
    const slice = bytes.subarray(at, at + extent.length);
    if (extent.kind === "chunk") {
      assert.ok(extent.bytes.equals(slice), `chunk at ${at} holds the file's bytes`);
      assert.equal(extent.sha256, sha256(slice));
      assert.ok(extent.length <= DEFAULT_CHUNK_SIZES.max);
    } else {
      assert.ok(slice.equals(Buffer.alloc(extent.length)), `hole at ${at} is zeros`);
      assert.ok(extent.length >= DEFAULT_HOLE_MIN);
    }
    at += extent.length;
  }
  assert.equal(at, bytes.length, "extents add up to the file");
}

describe("chunker", () => {
  it("finds a long zero run as a hole and keeps a short one inside chunks", async () => {
    const bytes = Buffer.concat([
      noise("a", 300 * KiB),
      Buffer.alloc(32 * KiB), // shorter than the hole minimum
      noise("b", 300 * KiB),
      Buffer.alloc(MiB + 4 * KiB), // a hole; the data before it ends on a block boundary
      noise("c", 200 * KiB),
    ]);
    const { extents, size, digest } = await chunk("mixed.raw", bytes);
    assertTiles(bytes, extents);
    const holes = extents.filter((e) => e.kind === "hole");
    assert.deepEqual(
      holes.map((h) => [h.offset, h.length]),
      [[632 * KiB, MiB + 4 * KiB]],
    );
    assert.equal(size, bytes.length);
    assert.equal(digest, `sha256:${sha256(bytes)}`);
  });

  it("gives the whole file's sha256 hashed inline and in a worker", async () => {
    const bytes = Buffer.concat([noise("w", 9 * MiB), Buffer.alloc(3 * MiB), noise("x", 5 * MiB + 17)]);
    const expected = `sha256:${sha256(bytes)}`;
    const inline = await chunk("modes.raw", bytes, { wholeDigest: "inline" });
    const worker = await chunk("modes.raw", bytes, { wholeDigest: "worker" });
    assert.equal(inline.digest, expected);
    assert.equal(worker.digest, expected);
    assert.deepEqual(
      inline.extents.map((e) => [e.offset, e.length, e.kind === "chunk" ? e.sha256 : "hole"]),
      worker.extents.map((e) => [e.offset, e.length, e.kind === "chunk" ? e.sha256 : "hole"]),
    );
    assertTiles(bytes, worker.extents);
  });

  it("cuts a file without zeros into chunks only", async () => {
    const bytes = noise("dense", 3 * MiB);
    const { extents, digest } = await chunk("dense.raw", bytes);
    assert.ok(extents.every((e) => e.kind === "chunk"));
    assert.ok(extents.length > 10);
    assertTiles(bytes, extents);
    assert.equal(digest, `sha256:${sha256(bytes)}`);
  });

  it("makes a file of zeros one hole", async () => {
    const bytes = Buffer.alloc(20 * MiB);
    const { extents, digest } = await chunk("zeros.raw", bytes);
    assert.deepEqual(
      extents.map((e) => [e.kind, e.offset, e.length]),
      [["hole", 0, 20 * MiB]],
    );
    assert.equal(digest, `sha256:${sha256(bytes)}`);
  });

  it("handles sizes that are no multiple of the block size", async () => {
    for (const [name, bytes] of [
      ["odd-data.raw", Buffer.concat([noise("o", 300 * KiB + 5), Buffer.alloc(200 * KiB), noise("p", 1234)])],
      ["odd-tail.raw", Buffer.concat([noise("q", 100 * KiB), Buffer.alloc(100 * KiB + 100)])],
      ["tiny.raw", noise("t", 1000)],
    ] as const) {
      const { extents, size, digest } = await chunk(name, bytes);
      assertTiles(bytes, extents);
      assert.equal(size, bytes.length);
      assert.equal(digest, `sha256:${sha256(bytes)}`, name);
    }
  });

  it("refuses a hole minimum that is no multiple of the block size", async () => {
    await assert.rejects(chunk("x.raw", Buffer.alloc(10), { holeMin: 5000 }), /multiple of 4096/);
  });
});
