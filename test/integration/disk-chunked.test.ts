// Chunked disks against a real `strata serve`: a synthetic disk (random, text and zero regions)
// pushed and pulled back bit for bit into a sparse file; a second version uploads and downloads
// only the chunks that changed, counted by the transfer's stats and by a proxy in front of the
// server; an interrupted push or pull, run again, moves nothing twice; a damaged chunk, a chunk
// whose raw digest is wrong and a chunk missing from the registry are refused with a clear error
// and leave an existing output file as it was; a qcow2 output is what qemu-img reads back.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createCipheriv, createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import {
  chunkCacheSize,
  DiskError,
  fetchChunkedIndex,
  fetchDisk,
  pullChunkedDisk,
  pullDisk,
  pushChunkedDisk,
  type ChunkedDiskDescription,
  type PushChunkedResult,
} from "../../src/disk/index.ts";
import { buildChunkedArtifact, EMPTY_CONFIG as EMPTY_JSON } from "../../src/disk/chunked/format.ts";
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { RegistryClient, RemoteError } from "../../src/remote/index.ts";
import {
  blobOfPath,
  downloaded,
  startFaultProxy,
  uploaded,
  type FaultProxy,
} from "../helpers/fault-proxy.ts";
import { EMPTY_CONFIG, imageManifest } from "../helpers/manifests.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes from a seed (AES-CTR over zeros). */
function noise(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

const WORDS = "disk chunk index part registry kernel module grub boot initramfs root etc usr lib".split(" ");

/** Text that compresses but does not repeat: words picked by the seed's bytes. */
function text(seed: string, length: number): Buffer {
  const picks = noise(`${seed}/text`, length);
  const out = Buffer.alloc(length);
  let at = 0;
  for (let i = 0; at < length; i++) {
    const word = `${WORDS[picks[i % picks.length]! % WORDS.length]}${i % 11 === 0 ? "\n" : " "}`;
    at += out.write(word, at);
  }
  return out;
}

/**
 * A synthetic disk of `mib` MiB: per MiB, in turn random bytes, text, zeros (a hole), and half
 * random half zeros.
 */
async function makeDisk(path: string, seed: string, mib: number): Promise<Buffer> {
  const regions: Buffer[] = [];
  for (let i = 0; i < mib; i++) {
    const region = `${seed}/${i}`;
    const kind = i % 4;
    if (kind === 0) regions.push(noise(region, MiB));
    else if (kind === 1) regions.push(text(region, MiB));
    else if (kind === 2) regions.push(Buffer.alloc(MiB));
    else regions.push(Buffer.concat([noise(region, MiB / 2), Buffer.alloc(MiB / 2)]));
  }
  const disk = Buffer.concat(regions);
  await writeFile(path, disk);
  return disk;
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

let strata: RunningStrata;
let proxy: FaultProxy;
let client: RegistryClient;
let proxied: RegistryClient;
let work: string;
let v1: Buffer;
let v2: Buffer;
let pushed1: PushChunkedResult;
let pushed2: PushChunkedResult;

const path = (name: string): string => join(work, name);

async function chunked(c: RegistryClient, repo: string, ref: string): Promise<ChunkedDiskDescription> {
  const description = await fetchDisk(c, repo, ref);
  assert.equal(description.layout, "chunked");
  return description as ChunkedDiskDescription;
}

/** Asserts `file` is as it was: same bytes and modification time. */
async function assertUnchanged(file: string, before: { bytes: Buffer; mtimeMs: number }): Promise<void> {
  assert.ok((await readFile(file)).equals(before.bytes), `${file} changed`);
  assert.equal((await stat(file)).mtimeMs, before.mtimeMs);
}

async function existingOutput(dir: string): Promise<{ file: string; bytes: Buffer; mtimeMs: number }> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, "disk.raw");
  const bytes = Buffer.from("the disk that was here before\n");
  await writeFile(file, bytes);
  return { file, bytes, mtimeMs: (await stat(file)).mtimeMs };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-disk-chunked-"));
  strata = await startStrata();
  proxy = await startFaultProxy(strata.url);
  client = new RegistryClient({ registry: strata.host, insecure: true });
  proxied = new RegistryClient({ registry: proxy.host, insecure: true });
  v1 = await makeDisk(path("v1.raw"), "v1", 32);
  // Version 2: two small edits, far apart.
  v2 = Buffer.from(v1);
  v2.write("version two", 5 * MiB + 1234);
  v2.write("another edit", 17 * MiB + 99);
  await writeFile(path("v2.raw"), v2);
});
after(async () => {
  await proxy?.close();
  await strata?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("chunked disk push and pull against strata serve", () => {
  it("pushes a disk and pulls it back bit for bit into a sparse file", async () => {
    // Through the proxy, as the second version is: the cache remembers blobs per registry address.
    pushed1 = await pushChunkedDisk(
      proxied,
      "vm/disk",
      path("v1.raw"),
      { boot: "uefi", rawDigest: sha256(v1) },
      { tag: "v1", cacheDir: path("push-cache") },
    );
    const s = pushed1.stats;
    assert.ok(s.uniqueChunks > 100, `only ${s.uniqueChunks} chunks`);
    assert.equal(s.chunksSent, s.uniqueChunks);
    assert.equal(s.chunksEncoded, s.uniqueChunks);
    assert.equal(s.bytesSkipped, 0);
    assert.ok(s.bytesSent > s.chunkBytesSent && s.chunkBytesSent < v1.length * 0.75, JSON.stringify(s));

    const d = await chunked(client, "vm/disk", "v1");
    assert.equal(d.digest, pushed1.digest);
    assert.equal(d.rawDigest, sha256(v1));
    assert.equal(d.virtualSize, v1.length);
    assert.equal(d.boot, "uefi");
    assert.equal(d.annotations["dev.strata.disk.format"], "chunked");

    const out = path("pulled-v1.raw");
    const { stats } = await pullChunkedDisk(client, "vm/disk", d, out, { cacheDir: path("pull-cache") });
    assert.equal(sha256(await readFile(out)), sha256(v1));
    assert.equal(stats.chunksSent, s.uniqueChunks);
    assert.equal(stats.chunks, s.chunks);
    const info = await stat(out);
    assert.equal(info.size, v1.length);
    // A quarter of the disk is holes, and holes are not written.
    assert.ok(info.blocks * 512 < info.size * 0.9, `${info.blocks * 512} bytes allocated of ${info.size}`);
    const cached = await chunkCacheSize(path("pull-cache"));
    assert.equal(cached.chunks, s.uniqueChunks);
    // Nothing left beside the output.
    assert.deepEqual(
      (await readdir(work)).filter((n) => n.startsWith(".")),
      [],
    );
  });

  it("pushes a second version sending only the changed chunks", async () => {
    proxy.exchanges.length = 0;
    pushed2 = await pushChunkedDisk(
      proxied,
      "vm/disk",
      path("v2.raw"),
      { boot: "uefi" },
      { tag: "v2", cacheDir: path("push-cache") },
    );
    const s = pushed2.stats;
    assert.equal(s.uniqueChunks, pushed1.stats.uniqueChunks);
    assert.ok(s.chunksSent >= 2 && s.chunksSent <= 6, `${s.chunksSent} chunks sent`);
    // Unchanged chunks were found by their remembered stored form: only new ones were compressed.
    assert.equal(s.chunksEncoded, s.chunksSent);
    assert.ok(s.bytesSkipped > 0);
    // The registry's side: the changed chunks and the new index blob, nothing else.
    assert.equal(uploaded(proxy.exchanges).length, s.chunksSent + 1);
    assert.notEqual(pushed2.digest, pushed1.digest);
    // The first push remembered what the repository holds: no chunk it sent was asked for again.
    assert.equal(s.chunksKnown, s.uniqueChunks - s.chunksSent);
    const asked = proxy.exchanges.filter((e) => e.method === "HEAD" && blobOfPath(e.path) !== undefined);
    assert.ok(
      asked.length <= s.chunksSent + 2,
      `${asked.length} HEAD requests for ${s.chunksSent} new chunks`,
    );
  });

  it("asks for every chunk again when a blob the cache remembers is gone from the registry", async () => {
    const cacheDir = path("lost-cache");
    const input = { boot: "bios", created: new Date("2026-01-01T00:00:00Z") } as const;
    const first = await pushChunkedDisk(client, "vm/lost", path("v1.raw"), input, { tag: "v1", cacheDir });
    const index = await fetchChunkedIndex(client, "vm/lost", await chunked(client, "vm/lost", "v1"));
    const gone = index.index.chunks[3]?.digest ?? "";
    for (const target of [`manifests/${first.digest}`, `blobs/${gone}`]) {
      const response = await fetch(`${strata.url}/v2/vm/lost/${target}`, { method: "DELETE" });
      assert.equal(response.status, 202, `DELETE ${target}`);
    }
    assert.equal(await client.hasBlob("vm/lost", gone), false);
    const again = await pushChunkedDisk(client, "vm/lost", path("v1.raw"), input, { tag: "v1", cacheDir });
    // The run that trusted the cache was refused; the second asked for every chunk and sent the lost one.
    assert.equal(again.stats.chunksKnown, 0);
    assert.equal(again.stats.chunksSent, 1);
    assert.equal(again.digest, first.digest);
    assert.equal(await client.hasBlob("vm/lost", gone), true);
    const out = path("lost.raw");
    await pullChunkedDisk(client, "vm/lost", await chunked(client, "vm/lost", "v1"), out, {});
    assert.equal(sha256(await readFile(out)), sha256(v1));
  });

  it("pulls the second version with the first in the cache, downloading only the changed chunks", async () => {
    proxy.exchanges.length = 0;
    const d = await chunked(proxied, "vm/disk", "v2");
    const out = path("pulled-v2.raw");
    const { stats } = await pullChunkedDisk(proxied, "vm/disk", d, out, { cacheDir: path("pull-cache") });
    assert.equal(sha256(await readFile(out)), sha256(v2));
    assert.equal(stats.chunksSent, pushed2.stats.chunksSent);
    assert.ok(stats.bytesSkipped > 0);
    // The registry's side: the index blob and the changed chunks.
    assert.equal(downloaded(proxy.exchanges).length, stats.chunksSent + 1);
  });

  it("resumes an interrupted push without sending any chunk twice or compressing it again", async () => {
    await makeDisk(path("v3.raw"), "v3", 16);
    proxy.exchanges.length = 0;
    let uploads = 0;
    proxy.setRule(({ method, path: p }) =>
      method === "PUT" && p.includes("/blobs/uploads/") && ++uploads > 6 ? "error500" : "pass",
    );
    const cacheDir = path("resume-push-cache");
    await assert.rejects(
      pushChunkedDisk(proxied, "vm/resume", path("v3.raw"), { boot: "bios" }, { tag: "v3", cacheDir }),
      (error: unknown) => error instanceof RemoteError && /HTTP 500/.test(error.message),
    );
    const first = uploaded(proxy.exchanges);
    assert.equal(first.length, 6);
    proxy.setRule(() => "pass");
    proxy.exchanges.length = 0;
    const again = await pushChunkedDisk(
      proxied,
      "vm/resume",
      path("v3.raw"),
      { boot: "bios" },
      { tag: "v3", cacheDir },
    );
    const second = uploaded(proxy.exchanges);
    assert.deepEqual(
      second.filter((d) => first.includes(d)),
      [],
    );
    assert.equal(again.stats.chunksSent, again.stats.uniqueChunks - first.length);
    assert.equal(again.stats.chunksEncoded, again.stats.chunksSent);
    // The chunks, the empty config and the index blob.
    assert.equal(second.length, again.stats.chunksSent + 2);
  });

  it("resumes an interrupted pull without downloading any chunk twice", async () => {
    const d = await chunked(client, "vm/resume", "v3");
    const indexBlob = (await fetchChunkedIndex(client, "vm/resume", d)).indexBlob.digest;
    const cacheDir = path("resume-pull-cache");
    const out = path("resumed.raw");
    proxy.exchanges.length = 0;
    let gets = 0;
    proxy.setRule(({ method, path: p }) =>
      method === "GET" && blobOfPath(p) !== undefined && ++gets > 8 ? "reset" : "pass",
    );
    await assert.rejects(pullChunkedDisk(proxied, "vm/resume", d, out, { cacheDir }), RemoteError);
    const first = downloaded(proxy.exchanges).filter((b) => b !== indexBlob);
    assert.equal(first.length, 7);
    proxy.setRule(() => "pass");
    proxy.exchanges.length = 0;
    const { stats } = await pullChunkedDisk(proxied, "vm/resume", d, out, { cacheDir });
    const second = downloaded(proxy.exchanges).filter((b) => b !== indexBlob);
    assert.deepEqual(
      second.filter((b) => first.includes(b)),
      [],
    );
    assert.equal(stats.chunksSent, stats.uniqueChunks - first.length);
    assert.equal(sha256(await readFile(out)), sha256(await readFile(path("v3.raw"))));
  });

  it("refuses a chunk damaged on the way and leaves the existing output as it was", async () => {
    const d = await chunked(client, "vm/disk", "v1");
    const { index } = await fetchChunkedIndex(client, "vm/disk", d);
    const victim = index.chunks[3]!.digest;
    proxy.setRule(({ method, path: p }) =>
      method === "GET" && blobOfPath(p) === victim ? "corrupt" : "pass",
    );
    const dir = path("damaged");
    const existing = await existingOutput(dir);
    try {
      await assert.rejects(pullChunkedDisk(proxied, "vm/disk", d, existing.file), (error: unknown) => {
        assert.ok(error instanceof DiskError);
        assert.equal(error.code, "BAD_DISK");
        assert.match(
          error.message,
          new RegExp(`^Chunk ${victim} from 127.0.0.1:\\d+/vm/disk does not match its digest`),
        );
        return true;
      });
    } finally {
      proxy.setRule(() => "pass");
    }
    await assertUnchanged(existing.file, existing);
    assert.deepEqual(await readdir(dir), ["disk.raw"]);
  });

  it("refuses a chunk that does not match the raw digest its index gives", async () => {
    const d = await chunked(client, "vm/disk", "v1");
    const { index } = await fetchChunkedIndex(client, "vm/disk", d);
    const wrong = "0".repeat(64);
    // A compressed chunk (a chunk stored raw has its raw digest as its blob digest).
    const victim = index.chunks.findIndex((c) => c.encoding === "gzip");
    const lying = {
      ...index,
      chunks: index.chunks.map((c, i) => (i === victim ? { ...c, rawSha256: wrong } : c)),
    };
    const artifact = buildChunkedArtifact(lying, d.annotations);
    await client.putBlob("vm/disk", {
      digest: digestOf(EMPTY_JSON),
      size: EMPTY_JSON.length,
      bytes: EMPTY_JSON,
    });
    await client.putBlob("vm/disk", artifact.indexBlob);
    for (const child of artifact.children)
      await client.putManifest("vm/disk", child.digest, child.bytes, child.mediaType);
    await client.putManifest("vm/disk", "lying", artifact.top.bytes, artifact.top.mediaType);
    const dir = path("lying");
    const existing = await existingOutput(dir);
    await assert.rejects(
      pullDisk(client, "vm/disk", "lying", existing.file, { format: "raw" }),
      (error: unknown) => {
        assert.ok(error instanceof DiskError);
        assert.match(error.message, /does not match the raw digest the index gives \(sha256:0{64}\)/);
        return true;
      },
    );
    await assertUnchanged(existing.file, existing);
    assert.deepEqual(await readdir(dir), ["disk.raw"]);
  });

  it("refuses a disk whose index names a chunk the registry does not have", async () => {
    await makeDisk(path("v4.raw"), "v4", 4);
    const pushed = await pushChunkedDisk(
      client,
      "vm/missing",
      path("v4.raw"),
      { boot: "bios" },
      { tag: "v4" },
    );
    const d = pushed.description as ChunkedDiskDescription;
    const { index } = await fetchChunkedIndex(client, "vm/missing", d);
    const gone = index.chunks[1]!.digest;
    const deleted = await fetch(`${strata.url}/v2/vm/missing/blobs/${gone}`, { method: "DELETE" });
    assert.equal(deleted.status, 202);
    const dir = path("missing");
    const existing = await existingOutput(dir);
    await assert.rejects(
      pullDisk(client, "vm/missing", "v4", existing.file, { format: "raw" }),
      (error: unknown) => {
        assert.ok(error instanceof DiskError);
        assert.equal(
          error.message,
          `Chunk ${gone} named by the disk index is missing from ${strata.host}/vm/missing`,
        );
        return true;
      },
    );
    await assertUnchanged(existing.file, existing);
    assert.deepEqual(await readdir(dir), ["disk.raw"]);
  });

  it("pulls as qcow2 through pullDisk, read back by qemu-img as the same disk", async () => {
    const out = path("v1.qcow2");
    const d = await pullDisk(client, "vm/disk", "v1", out, { format: "qcow2", cacheDir: path("pull-cache") });
    assert.equal(d.layout, "chunked");
    const { stdout } = await run("qemu-img", ["info", "--output=json", "-f", "qcow2", out]);
    const info = JSON.parse(stdout) as { format: string; "virtual-size": number };
    assert.equal(info.format, "qcow2");
    assert.equal(info["virtual-size"], v1.length);
    await run("qemu-img", ["compare", "-q", "-f", "raw", "-F", "qcow2", path("v1.raw"), out]);
  });

  it("records a disk made from an image as its referrer", async () => {
    const layer = Buffer.from("layer");
    const image = imageManifest(EMPTY_CONFIG, [layer]);
    for (const blob of [EMPTY_CONFIG, layer])
      await client.putBlob("vm/disk", { digest: digestOf(blob), size: blob.length, bytes: blob });
    await client.putManifest("vm/disk", "image", image, MediaType.ImageManifest);
    const source = { digest: digestOf(image), size: image.length, mediaType: MediaType.ImageManifest };
    const pushed = await pushChunkedDisk(
      client,
      "vm/disk",
      path("v1.raw"),
      { boot: "bios", source },
      { tag: "from-image" },
    );
    assert.equal(pushed.referrers, "api");
    assert.equal(pushed.stats.chunksSent, 0);
    const d = await fetchDisk(client, "vm/disk", "from-image");
    assert.equal(d.subject?.digest, source.digest);
    assert.equal(d.baseDigest, source.digest);
    const listed = (await (await fetch(`${strata.url}/v2/vm/disk/referrers/${source.digest}`)).json()) as {
      manifests: { digest: string; artifactType: string }[];
    };
    assert.deepEqual(
      listed.manifests.map((m) => [m.digest, m.artifactType]),
      [[pushed.digest, MediaType.DiskChunked]],
    );
  });
});
