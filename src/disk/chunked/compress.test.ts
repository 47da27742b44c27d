// Chunk compression: compressible chunks are stored gzip'd and come back the same, incompressible
// ones are stored as they are, and stored bytes that are damaged, too long or of another chunk
// are refused with the chunk's name.
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, it } from "node:test";
import { MediaType } from "../../oci/index.ts";
import { DiskError } from "../errors.ts";
import { chunkEncodingOf, chunkMediaType, decodeChunk, encodeChunk, sha256Hex } from "./compress.ts";

function noise(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

const TEXT = Buffer.from("menuentry 'Debian GNU/Linux' --class debian --class gnu-linux {\n".repeat(1000));
const raw = (bytes: Buffer) => ({ length: bytes.length, sha256: sha256Hex(bytes) });

const badDisk = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof DiskError, String(error));
  assert.equal(error.code, "BAD_DISK");
  assert.match(error.message, pattern);
  return true;
};

describe("chunk compression", () => {
  it("stores compressible bytes gzip'd and decodes them back", async () => {
    const stored = await encodeChunk(TEXT);
    assert.equal(stored.encoding, "gzip");
    assert.ok(stored.bytes.length < TEXT.length / 10);
    assert.equal(stored.digest, sha256Hex(stored.bytes));
    assert.ok((await decodeChunk(stored.bytes, "gzip", raw(TEXT), "c1")).equals(TEXT));
    // The same bytes always give the same stored form.
    assert.equal((await encodeChunk(Buffer.from(TEXT))).digest, stored.digest);
  });

  it("stores incompressible bytes as they are", async () => {
    const bytes = noise("random", 64 * 1024);
    const stored = await encodeChunk(bytes);
    assert.equal(stored.encoding, "none");
    assert.ok(stored.bytes.equals(bytes));
    assert.equal(stored.digest, sha256Hex(bytes));
    assert.ok((await decodeChunk(stored.bytes, "none", raw(bytes), "c2")).equals(bytes));
  });

  it("refuses damaged, overlong and foreign stored bytes", async () => {
    const stored = await encodeChunk(TEXT);
    const damaged = Buffer.from(stored.bytes);
    damaged[damaged.length >> 1]! ^= 0xff;
    await assert.rejects(decodeChunk(damaged, "gzip", raw(TEXT), "c3"), badDisk(/^Chunk c3 /));
    await assert.rejects(
      decodeChunk(Buffer.from("not gzip"), "gzip", raw(TEXT), "c4"),
      badDisk(/^Chunk c4 does not decompress/),
    );
    // A small blob that inflates far beyond the chunk's length stops at the length.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    await assert.rejects(
      decodeChunk(bomb, "gzip", { length: 1000, sha256: "0".repeat(64) }, "c5"),
      badDisk(/^Chunk c5 does not decompress/),
    );
    await assert.rejects(
      decodeChunk(stored.bytes, "gzip", { ...raw(TEXT), length: TEXT.length - 1 }, "c6"),
      badDisk(/^Chunk c6 (holds \d+ bytes where the index says \d+|does not decompress)/),
    );
    await assert.rejects(
      decodeChunk(stored.bytes, "gzip", { length: TEXT.length, sha256: "0".repeat(64) }, "c7"),
      badDisk(/^Chunk c7 does not match the raw digest the index gives \(sha256:0{64}\)$/),
    );
    const plain = noise("plain", 1000);
    const flipped = Buffer.from(plain);
    flipped[0]! ^= 1;
    await assert.rejects(
      decodeChunk(flipped, "none", raw(plain), "c8"),
      badDisk(/^Chunk c8 does not match the raw digest/),
    );
  });

  it("names the media type of each encoding", () => {
    assert.equal(chunkMediaType("gzip"), MediaType.DiskChunkGzip);
    assert.equal(chunkMediaType("none"), MediaType.DiskChunk);
    assert.equal(chunkEncodingOf(MediaType.DiskChunkGzip), "gzip");
    assert.equal(chunkEncodingOf(MediaType.DiskChunk), "none");
    assert.equal(chunkEncodingOf(MediaType.ImageLayerGzip), undefined);
  });
});
