// Content-defined cut points: the same bytes always cut the same way, chunks keep within the
// minimum and maximum, the gear table is the one the format defines, and an insertion moves only
// the cut points next to it.
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { describe, it } from "node:test";
import { checkSizes, cutPoint, DEFAULT_CHUNK_SIZES, GEAR, type ChunkSizes } from "./fastcdc.ts";

/** Deterministic pseudo-random bytes from a seed. */
function noise(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** The chunks `data` is cut into, as [start, end) pairs. */
function cuts(data: Buffer, sizes: ChunkSizes = DEFAULT_CHUNK_SIZES): [number, number][] {
  const masks = checkSizes(sizes);
  const out: [number, number][] = [];
  for (let start = 0; start < data.length;) {
    const end = cutPoint(data, start, data.length, sizes, masks);
    out.push([start, end]);
    start = end;
  }
  return out;
}

const hashes = (data: Buffer, pieces: [number, number][]): string[] =>
  pieces.map(([s, e]) => createHash("sha256").update(data.subarray(s, e)).digest("hex"));

describe("fastcdc", () => {
  const data = noise("fastcdc", 8 * 1024 * 1024);

  it("derives its gear table from sha256", () => {
    for (const i of [0, 1, 127, 255]) {
      const expected = createHash("sha256")
        .update(Buffer.concat([Buffer.from("strata-gear-v1"), Buffer.from([i])]))
        .digest()
        .readUInt32BE(0);
      assert.equal(GEAR[i], expected);
    }
  });

  it("cuts the same bytes at the same points every time", () => {
    assert.deepEqual(cuts(data), cuts(Buffer.from(data)));
    // Cutting from a copy of a later slice finds the same points: only the bytes matter.
    const all = cuts(data);
    const [from] = all[10]!;
    const again = cuts(data.subarray(from)).map(([s, e]) => [s + from, e + from]);
    assert.deepEqual(again, all.slice(10));
  });

  it("keeps every chunk but the last between the minimum and maximum, around the average", () => {
    const { min, avg, max } = DEFAULT_CHUNK_SIZES;
    const all = cuts(data);
    for (const [s, e] of all.slice(0, -1)) {
      assert.ok(e - s >= min && e - s <= max, `chunk of ${e - s} bytes`);
    }
    const mean = data.length / all.length;
    assert.ok(mean > avg / 2 && mean < avg * 2, `mean chunk ${mean} bytes`);
    // Zeros never match the mask: the maximum applies.
    const zeros = cuts(Buffer.alloc(1024 * 1024));
    assert.deepEqual(
      zeros.map(([s, e]) => e - s),
      [max, max, max, max],
    );
  });

  it("leaves the chunks after an early insertion identical", () => {
    const inserted = Buffer.concat([
      data.subarray(0, 5000),
      Buffer.from("an insertion"),
      data.subarray(5000),
    ]);
    const before = hashes(data, cuts(data));
    const after = new Set(hashes(inserted, cuts(inserted)));
    const lost = before.filter((h) => !after.has(h));
    assert.ok(lost.length <= 2, `${lost.length} chunks of ${before.length} changed`);
    assert.ok(lost.includes(before[0]!));
  });

  it("returns the end when at most the minimum remains", () => {
    const masks = checkSizes(DEFAULT_CHUNK_SIZES);
    assert.equal(cutPoint(data, 100, 100 + DEFAULT_CHUNK_SIZES.min, DEFAULT_CHUNK_SIZES, masks), 100 + 16384);
  });

  it("refuses sizes that do not make sense", () => {
    assert.throws(() => checkSizes({ min: 1024, avg: 3000, max: 8192 }), /not a power of two/);
    assert.throws(() => checkSizes({ min: 8192, avg: 4096, max: 16384 }), /64 <= min < avg < max/);
    assert.throws(() => checkSizes({ min: 1024, avg: 4096, max: 4096 }), /64 <= min < avg < max/);
    assert.throws(() => checkSizes({ min: 16, avg: 4096, max: 8192 }), /64 <= min/);
  });
});
