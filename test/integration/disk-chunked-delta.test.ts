// Delta chunks against a real `strata serve` (docs/disk-format.md, "Delta chunks"): a second
// version whose changes are small edits in place is pushed against the first, its changed chunks
// stored as deltas against the first version's bytes at the same offsets (from the push's chunk
// cache) and costing a fraction of whole chunks; it pulls to the same disk with the first version
// cached (only the deltas travel) and with an empty cache (the base chunks travel too); the tag a
// push overwrites is its base unless told otherwise; a push with no base bytes in its cache sends
// whole chunks; an index whose delta is malformed is refused with nothing written.
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  DiskError,
  fetchChunkedIndex,
  fetchDisk,
  pullChunkedDisk,
  pullDisk,
  pushChunkedDisk,
  type ChunkedDiskDescription,
  type PushChunkedResult,
} from "../../src/disk/index.ts";
import {
  buildChunkedArtifact,
  EMPTY_CONFIG,
  type ChunkEntry,
  type DiskIndex,
} from "../../src/disk/chunked/format.ts";
import { digestOf } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/remote/index.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

const MiB = 1024 * 1024;

function noise(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** Text that compresses: numbered lines. */
function text(seed: string, length: number): Buffer {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < length; i++) {
    const line = `${seed} line ${i} value ${(i * 7919) % 10007}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, length);
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

let strata: RunningStrata;
let client: RegistryClient;
let work: string;
let v1: Buffer;
let v2: Buffer;
let pushed2: PushChunkedResult;
const path = (name: string): string => join(work, name);

async function chunked(repo: string, ref: string): Promise<ChunkedDiskDescription> {
  const description = await fetchDisk(client, repo, ref);
  assert.equal(description.layout, "chunked");
  return description as ChunkedDiskDescription;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-disk-delta-"));
  strata = await startStrata();
  client = new RegistryClient({ registry: strata.host, insecure: true });
  // 16 MiB: per MiB, random bytes, text, zeros (a hole), text.
  const regions: Buffer[] = [];
  for (let i = 0; i < 16; i++) {
    const kind = i % 4;
    regions.push(kind === 0 ? noise(`r${i}`, MiB) : kind === 2 ? Buffer.alloc(MiB) : text(`r${i}`, MiB));
  }
  v1 = Buffer.concat(regions);
  await writeFile(path("v1.raw"), v1);
  // Version 2: small files rewritten in place, far apart, in random and in text regions.
  v2 = Buffer.from(v1);
  for (const at of [100_000, 1 * MiB + 300_000, 5 * MiB + 4096, 9 * MiB + 700_000, 13 * MiB + 50_000])
    noise(`edit-${at}`, 1500).copy(v2, at);
  await writeFile(path("v2.raw"), v2);
});
after(async () => {
  await strata?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("delta chunks against strata serve", () => {
  it("pushes a second version's changed chunks as deltas against the first", async () => {
    const cacheDir = path("push-cache");
    const first = await pushChunkedDisk(
      client,
      "vm/delta",
      path("v1.raw"),
      { boot: "bios" },
      { tag: "v1", cacheDir },
    );
    assert.equal(first.stats.chunksDelta, 0);
    pushed2 = await pushChunkedDisk(
      client,
      "vm/delta",
      path("v2.raw"),
      { boot: "bios" },
      { tag: "v2", base: "v1", cacheDir },
    );
    const s = pushed2.stats;
    assert.ok(s.chunksDelta >= 5, `${s.chunksDelta} deltas`);
    assert.equal(s.chunksSent, s.chunksDelta);
    // The same disk pushed whole elsewhere: the deltas cost a fraction of the whole chunks.
    const whole = await pushChunkedDisk(
      client,
      "vm/whole",
      path("v2.raw"),
      { boot: "bios" },
      { tag: "v2", base: false, cacheDir: path("whole-cache") },
    );
    const changed = (await fetchChunkedIndex(client, "vm/whole", await chunked("vm/whole", "v2"))).index;
    const v1Index = (await fetchChunkedIndex(client, "vm/delta", await chunked("vm/delta", "v1"))).index;
    const inV1 = new Set(v1Index.chunks.map((c) => c.rawSha256));
    const wholeBytes = changed.chunks.filter((c) => !inV1.has(c.rawSha256)).reduce((n, c) => n + c.size, 0);
    assert.equal(whole.stats.chunksDelta, 0);
    assert.ok(
      s.chunkBytesSent * 4 < wholeBytes,
      `deltas ${s.chunkBytesSent} bytes, whole chunks ${wholeBytes}`,
    );

    // The index: each delta names base chunks stored whole, which its parts list (checked by
    // fetchChunkedIndex) and which are the first version's chunks.
    const { index } = await fetchChunkedIndex(client, "vm/delta", await chunked("vm/delta", "v2"));
    const deltas = index.chunks.filter((c) => c.encoding === "delta");
    assert.equal(deltas.length, s.chunksDelta);
    for (const delta of deltas)
      for (const span of delta.base ?? []) {
        if (span.chunk < 0) continue;
        const base = index.chunks[span.chunk]!;
        assert.notEqual(base.encoding, "delta");
        assert.ok(inV1.has(base.rawSha256), "a base chunk is one of the first version's");
      }
  });

  it("pulls the second version with the first cached, downloading only the deltas", async () => {
    const cacheDir = path("pull-cache");
    await pullChunkedDisk(client, "vm/delta", await chunked("vm/delta", "v1"), path("p1.raw"), { cacheDir });
    const { stats } = await pullChunkedDisk(
      client,
      "vm/delta",
      await chunked("vm/delta", "v2"),
      path("p2.raw"),
      {
        cacheDir,
      },
    );
    assert.equal(sha256(await readFile(path("p2.raw"))), sha256(v2));
    assert.equal(stats.chunksSent, pushed2.stats.chunksDelta);
    assert.ok(stats.chunkBytesSent <= pushed2.stats.chunkBytesSent);
  });

  it("pulls the second version with an empty cache, its base chunks downloaded too", async () => {
    const { stats } = await pullChunkedDisk(
      client,
      "vm/delta",
      await chunked("vm/delta", "v2"),
      path("p3.raw"),
      {
        cacheDir: path("empty-cache"),
      },
    );
    assert.equal(sha256(await readFile(path("p3.raw"))), sha256(v2));
    assert.ok(stats.chunksSent > pushed2.stats.uniqueChunks, `${stats.chunksSent} chunks downloaded`);
    // Without a cache at all (a scratch folder beside the output, removed after).
    await mkdir(path("nocache"));
    await pullDisk(client, "vm/delta", "v2", path("nocache/disk.raw"), { format: "raw" });
    assert.equal(sha256(await readFile(path("nocache/disk.raw"))), sha256(v2));
    assert.deepEqual(await readdir(path("nocache")), ["disk.raw"]);
  });

  it("takes the tag it overwrites as the base, and a third version keeps the second's deltas", async () => {
    const cacheDir = path("over-cache");
    await pushChunkedDisk(client, "vm/over", path("v1.raw"), { boot: "bios" }, { tag: "latest", cacheDir });
    const second = await pushChunkedDisk(
      client,
      "vm/over",
      path("v2.raw"),
      { boot: "bios" },
      { tag: "latest", cacheDir },
    );
    assert.ok(second.stats.chunksDelta >= 5);
    // A third version with one more edit: the second's deltas stay as they are (nothing sent
    // for them); the new change, over a chunk that is a delta, is stored whole (depth 1).
    const v3 = Buffer.from(v2);
    noise("edit-v3", 1000).copy(v3, 100_500);
    await writeFile(path("v3.raw"), v3);
    const third = await pushChunkedDisk(
      client,
      "vm/over",
      path("v3.raw"),
      { boot: "bios" },
      { tag: "latest", cacheDir },
    );
    assert.ok(third.stats.chunksSent >= 1 && third.stats.chunksSent <= 2, `${third.stats.chunksSent} sent`);
    assert.ok(third.stats.chunksDelta >= second.stats.chunksDelta - 2, `${third.stats.chunksDelta} deltas`);
    const chunksOf = async (ref: string) =>
      (await fetchChunkedIndex(client, "vm/over", await chunked("vm/over", ref))).index.chunks;
    const before3 = new Set((await chunksOf(second.digest)).map((c) => c.rawSha256));
    const fresh = (await chunksOf(third.digest)).filter((c) => !before3.has(c.rawSha256));
    assert.equal(fresh.length, third.stats.chunksSent);
    assert.ok(
      fresh.every((c) => c.encoding !== "delta"),
      "a change over a delta is stored whole",
    );
    const out = path("v3-pulled.raw");
    await pullDisk(client, "vm/over", "latest", out, { format: "raw", cacheDir: path("v3-cache") });
    assert.equal(sha256(await readFile(out)), sha256(v3));
  });

  it("finds the base's bytes where data moved, when something grew before them", async () => {
    // 8 KiB more in the first text region: everything after it is 8 KiB further on, and one
    // file after it is rewritten in place.
    const grown = Buffer.concat([v1.subarray(0, MiB + 4096), text("grown", 8192), v1.subarray(MiB + 4096)]);
    const moved = grown.subarray(0, v1.length);
    const edit = 9 * MiB + 300_000;
    noise("moved-edit", 1200).copy(moved, edit);
    await writeFile(path("moved.raw"), moved);
    const cacheDir = path("push-cache");
    const pushed = await pushChunkedDisk(
      client,
      "vm/delta",
      path("moved.raw"),
      { boot: "bios" },
      { tag: "moved", base: "v1", cacheDir },
    );
    const { index } = await fetchChunkedIndex(client, "vm/delta", await chunked("vm/delta", "moved"));
    const v1Index = (await fetchChunkedIndex(client, "vm/delta", await chunked("vm/delta", "v1"))).index;
    const extent = index.extents.find((e) => e.offset <= edit && edit < e.offset + e.length)!;
    const chunk = index.chunks[extent.chunk]!;
    assert.equal(chunk.encoding, "delta", "the edited chunk is a delta against the moved bytes");
    // Its base is the first version's bytes 8 KiB before its place.
    const first = chunk.base![0]!;
    const baseExtent = v1Index.extents.find(
      (e) => e.chunk >= 0 && v1Index.chunks[e.chunk]!.rawSha256 === index.chunks[first.chunk]!.rawSha256,
    )!;
    assert.equal(baseExtent.offset + first.offset, extent.offset - 8192);
    assert.ok(pushed.stats.chunksDelta >= 1);
    const out = path("moved-pulled.raw");
    await pullDisk(client, "vm/delta", "moved", out, { format: "raw", cacheDir: path("pull-cache") });
    assert.equal(sha256(await readFile(out)), sha256(moved));
  });

  it("sends whole chunks when the base's bytes are not in its cache", async () => {
    const pushed = await pushChunkedDisk(
      client,
      "vm/delta",
      path("v2.raw"),
      { boot: "bios" },
      { tag: "v2-elsewhere", base: "v1", cacheDir: path("other-machine") },
    );
    assert.equal(pushed.stats.chunksDelta, 0);
    const { index } = await fetchChunkedIndex(client, "vm/delta", await chunked("vm/delta", "v2-elsewhere"));
    assert.ok(index.chunks.every((c) => c.encoding !== "delta"));
  });

  it("refuses a base that is not there, and keeps no raw chunks when told not to", async () => {
    await assert.rejects(
      pushChunkedDisk(
        client,
        "vm/delta",
        path("v2.raw"),
        { boot: "bios" },
        {
          tag: "v9",
          base: "no-such-tag",
          cacheDir: path("push-cache"),
        },
      ),
      (error: unknown) =>
        error instanceof DiskError && /Cannot read the base disk "no-such-tag"/.test(error.message),
    );
    await assert.rejects(fetchDisk(client, "vm/delta", "v9"));
    const lean = path("lean-cache");
    await pushChunkedDisk(
      client,
      "vm/lean",
      path("v1.raw"),
      { boot: "bios" },
      { tag: "v1", cacheDir: lean, keepChunks: false },
    );
    assert.deepEqual((await readdir(lean)).sort(), ["known", "stored"]);
  });

  it("refuses an index whose delta names a delta as its base, and writes nothing", async () => {
    const d = await chunked("vm/delta", "v2");
    const { index } = await fetchChunkedIndex(client, "vm/delta", d);
    const first = index.chunks.findIndex((c) => c.encoding === "delta");
    const second = index.chunks.findIndex((c, i) => i > first && c.encoding === "delta");
    assert.ok(first >= 0 && second > first);
    const victim = index.chunks[second]!;
    const bad: DiskIndex = {
      ...index,
      chunks: index.chunks.map((c, i): ChunkEntry =>
        i === second ? { ...c, base: [{ chunk: first, offset: 0, length: victim.rawLength }] } : c,
      ),
    };
    const artifact = buildChunkedArtifact(bad, d.annotations);
    await client.putBlob("vm/delta", {
      digest: digestOf(EMPTY_CONFIG),
      size: EMPTY_CONFIG.length,
      bytes: EMPTY_CONFIG,
    });
    await client.putBlob("vm/delta", artifact.indexBlob);
    for (const child of artifact.children)
      await client.putManifest("vm/delta", child.digest, child.bytes, child.mediaType);
    await client.putManifest("vm/delta", "bad-delta", artifact.top.bytes, artifact.top.mediaType);
    const dir = path("bad");
    await mkdir(dir);
    await writeFile(path("bad/disk.raw"), "before\n");
    await assert.rejects(
      pullDisk(client, "vm/delta", "bad-delta", path("bad/disk.raw"), {
        format: "raw",
        cacheDir: path("bad-cache"),
      }),
      (error: unknown) => {
        assert.ok(error instanceof DiskError);
        assert.equal(error.code, "BAD_DISK");
        assert.match(
          error.message,
          new RegExp(`^Invalid disk index: delta chunk ${second} names delta chunk ${first} as its base`),
        );
        return true;
      },
    );
    assert.equal(await readFile(path("bad/disk.raw"), "utf8"), "before\n");
    assert.deepEqual(await readdir(dir), ["disk.raw"]);
    await assert.rejects(readdir(path("bad-cache")), /ENOENT/);
  });
});
