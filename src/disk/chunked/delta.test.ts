// Delta chunks: a patch makes its chunk from the base bytes, finds only the ranges that differ,
// and every malformed patch is refused with what is wrong — not gzip, not a delta, another chunk's,
// ranges out of order or outside the chunk, bytes missing or left over, a base that is not the one
// the patch was made against.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, it } from "node:test";
import { DiskError } from "../errors.ts";
import { applyDelta, diffRanges, encodeDelta } from "./delta.ts";

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

const base = randomBytes(64 * 1024);
const raw = Buffer.from(base);
randomBytes(1000).copy(raw, 5000);
randomBytes(10).copy(raw, 40_000);
randomBytes(10).copy(raw, 40_050);

/** A patch body as encodeDelta writes it, before gzip. */
function body(target: string, length: number, ranges: [number, number][], data: Buffer): Buffer {
  const head = Buffer.alloc(44 + 8 * ranges.length);
  head.write("SDD1");
  Buffer.from(target, "hex").copy(head, 4);
  head.writeUInt32BE(length, 36);
  head.writeUInt32BE(ranges.length, 40);
  ranges.forEach(([o, n], i) => {
    head.writeUInt32BE(o, 44 + 8 * i);
    head.writeUInt32BE(n, 48 + 8 * i);
  });
  return gzipSync(Buffer.concat([head, data]));
}

const refused = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof DiskError, String(error));
  assert.equal(error.code, "BAD_DISK");
  assert.match(error.message, pattern);
  return true;
};

describe("delta chunks", () => {
  it("makes the chunk from its base, sending only the ranges that differ", async () => {
    const ranges = diffRanges(raw, base);
    // The two close edits are one range; the first edit its own.
    assert.equal(ranges.length, 2);
    assert.ok(ranges[0]!.offset <= 5000 && ranges[0]!.offset + ranges[0]!.length >= 6000);
    const patch = await encodeDelta(raw, base, sha(raw));
    assert.ok(patch.length < 1300, `${patch.length} bytes`);
    const made = await applyDelta(patch, Buffer.from(base), { length: raw.length, sha256: sha(raw) }, "c");
    assert.ok(made.equals(raw));
    // The same chunk: an empty patch.
    assert.deepEqual(diffRanges(base, base), []);
  });

  it("refuses a patch that is not a delta, or another chunk's", async () => {
    const want = { length: raw.length, sha256: sha(raw) };
    await assert.rejects(
      applyDelta(Buffer.from("nope"), Buffer.from(base), want, "c"),
      refused(/does not decompress/),
    );
    await assert.rejects(
      applyDelta(gzipSync("SDD0"), Buffer.from(base), want, "c"),
      refused(/not a strata delta/),
    );
    const other = await encodeDelta(base, raw, sha(base));
    await assert.rejects(
      applyDelta(other, Buffer.from(base), want, "c"),
      refused(new RegExp(`it makes chunk sha256:${sha(base)}, not sha256:${sha(raw)}`)),
    );
    await assert.rejects(
      applyDelta(body(sha(raw), 100, [], Buffer.alloc(0)), Buffer.from(base), want, "c"),
      refused(/it makes 100 bytes where the index says 65536/),
    );
  });

  it("refuses ranges out of order, outside the chunk, or with bytes missing or left over", async () => {
    const want = { length: raw.length, sha256: sha(raw) };
    const apply = (patch: Buffer) => applyDelta(patch, Buffer.from(base), want, "c");
    const len = raw.length;
    await assert.rejects(
      apply(body(sha(raw), len, [[len - 4, 8]], Buffer.alloc(8))),
      refused(/range 0 \[65532, 65540\) is empty, out of order or outside/),
    );
    await assert.rejects(
      apply(
        body(
          sha(raw),
          len,
          [
            [100, 8],
            [50, 8],
          ],
          Buffer.alloc(16),
        ),
      ),
      refused(/range 1 \[50, 58\) is empty, out of order/),
    );
    await assert.rejects(
      apply(body(sha(raw), len, [[0, 0]], Buffer.alloc(0))),
      refused(/range 0 \[0, 0\) is empty/),
    );
    await assert.rejects(
      apply(body(sha(raw), len, [[0, 8]], Buffer.alloc(4))),
      refused(/range 0 has fewer new bytes/),
    );
    await assert.rejects(
      apply(body(sha(raw), len, [[0, 8]], Buffer.alloc(9))),
      refused(/1 bytes follow its last range/),
    );
    // A patch that inflates beyond twice its chunk.
    await assert.rejects(
      apply(body(sha(raw), len, [[0, len]], Buffer.alloc(3 * len))),
      refused(/it decompresses to more than 2 times the chunk's 65536 bytes/),
    );
    // A count of ranges the patch cannot hold.
    const huge = gunzipSync(body(sha(raw), len, [], Buffer.alloc(0)));
    huge.writeUInt32BE(1_000_000, 40);
    await assert.rejects(apply(gzipSync(huge)), refused(/its 1000000 ranges do not fit/));
  });

  it("refuses a base other than the one the patch was made against", async () => {
    const patch = await encodeDelta(raw, base, sha(raw));
    const other = Buffer.from(base);
    other[60_000] = (other[60_000]! + 1) % 256;
    await assert.rejects(
      applyDelta(patch, other, { length: raw.length, sha256: sha(raw) }, "c"),
      refused(/does not match the raw digest the index gives .* once its delta is applied/),
    );
  });
});
