// The chunk cache: chunks and stored forms read back as written, damaged files are dropped and
// read as missing, concurrent writers of one chunk leave one whole file and no temporary ones,
// and the size report counts what is held.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf } from "../../oci/index.ts";
import { chunkCacheSize, openChunkCache } from "./cache.ts";
import { sha256Hex } from "./compress.ts";

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-chunk-cache-"));
});
after(() => rm(work, { recursive: true, force: true }));

const BYTES = Buffer.from("a chunk's raw bytes");
const RAW = sha256Hex(BYTES);

describe("chunk cache", () => {
  it("gives back a chunk as stored, and nothing for one it lacks", async () => {
    const dir = join(work, "basic");
    const cache = openChunkCache(dir);
    assert.equal(await cache.getChunk(RAW, BYTES.length), undefined);
    assert.deepEqual(await chunkCacheSize(dir), { chunks: 0, bytes: 0, stored: 0 });
    await cache.putChunk(RAW, BYTES);
    assert.ok((await cache.getChunk(RAW, BYTES.length))?.equals(BYTES));
    assert.deepEqual(await readdir(join(dir, "chunks")), [RAW]);
    assert.deepEqual(await chunkCacheSize(dir), { chunks: 1, bytes: BYTES.length, stored: 0 });
  });

  it("drops a chunk whose bytes do not match its name", async () => {
    const dir = join(work, "damaged");
    const cache = openChunkCache(dir);
    await cache.putChunk(RAW, BYTES);
    await writeFile(join(dir, "chunks", RAW), "other bytes of the same len");
    assert.equal(await cache.getChunk(RAW, 27), undefined);
    assert.deepEqual(await readdir(join(dir, "chunks")), []);
    await cache.putChunk(RAW, BYTES);
    assert.equal(await cache.getChunk(RAW, BYTES.length + 1), undefined, "a length the index does not give");
  });

  it("keeps one whole file when writers race, and no temporary files", async () => {
    const dir = join(work, "race");
    const cache = openChunkCache(dir);
    await Promise.all(Array.from({ length: 20 }, () => cache.putChunk(RAW, BYTES)));
    assert.deepEqual(await readdir(join(dir, "chunks")), [RAW]);
    assert.ok((await cache.getChunk(RAW, BYTES.length))?.equals(BYTES));
  });

  it("remembers how a chunk was stored, and forgets a damaged record", async () => {
    const dir = join(work, "stored");
    const cache = openChunkCache(dir);
    const form = { digest: digestOf("gzip of it"), size: 12, encoding: "gzip" as const };
    assert.equal(await cache.getStored(RAW), undefined);
    await cache.putStored(RAW, form);
    assert.deepEqual(await cache.getStored(RAW), form);
    assert.equal((await chunkCacheSize(dir)).stored, 1);
    await writeFile(join(dir, "stored", RAW), '{"digest":"sha256:nope","size":1,"encoding":"gzip"}');
    assert.equal(await cache.getStored(RAW), undefined);
    assert.deepEqual(await readdir(join(dir, "stored")), []);
  });

  it("refuses a name that is not a raw digest", async () => {
    const cache = openChunkCache(join(work, "names"));
    await assert.rejects(cache.putChunk("../escape", BYTES), /Invalid chunk digest/);
  });
});
