// Chunked disks and a peer registry: a chunked disk pushed to CNCF Distribution (Debian's
// docker-registry 2.8, which has no referrers API, so a disk made from an image is listed in the
// fallback tag) pulls back to the same disk, and `skopeo copy --all` moves one from Strata to
// Distribution and back, after which it still assembles to the same disk. A second version pushed
// to Distribution with delta chunks against the first pulls to the same disk with the first
// cached and without, and skopeo moves its deltas' base chunks with it.
//
// What skopeo does to the artifact: skopeo before 1.16 (containers/image before 5.32) rewrites
// an image index it copies through a Go structure that has no artifactType or subject
// (containers/image#2460, fixed by containers/image#2475), so the copy's top index lacks the
// artifact type (its own and its children's) and the subject; everything else — the child
// manifests, the index blob, every chunk — keeps its bytes and digest. The disk is still
// recognised by its format annotation (describeDisk) and its children by their own manifests.
// For the same reason `--preserve-digests` makes such a skopeo refuse the copy ("Manifest list
// must be converted … but we cannot modify it"): it cannot write the index unchanged. A skopeo
// that keeps those fields writes the index's bytes unchanged (the annotations are written with
// sorted keys, as Go writes a map), so the copy keeps its digest.
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  fetchDisk,
  pullChunkedDisk,
  pullDisk,
  pushChunkedDisk,
  type ChunkedDiskDescription,
  type PushChunkedResult,
} from "../../src/disk/index.ts";
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { RegistryClient } from "../../src/remote/index.ts";
import { startDistribution, type RunningDistribution } from "../helpers/distribution.ts";
import { run, runOk } from "../helpers/exec.ts";
import { EMPTY_CONFIG, imageManifest } from "../helpers/manifests.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

const MiB = 1024 * 1024;

function noise(seed: string, length: number): Buffer {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  return createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

let strata: RunningStrata;
let distribution: RunningDistribution;
let atStrata: RegistryClient;
let atDistribution: RegistryClient;
let work: string;
let disk: Buffer;
let skopeoVersion: [number, number];

/** skopeo, with no stored credentials, TLS verification off for the loopback registries. */
const skopeo = (args: readonly string[]) =>
  run("skopeo", args, { env: { REGISTRY_AUTH_FILE: join(work, "no-auth.json") }, timeoutMs: 100_000 });

async function copy(from: string, to: string, extra: readonly string[] = []) {
  return skopeo(["copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false", ...extra, from, to]);
}

async function chunked(client: RegistryClient, repo: string, ref: string): Promise<ChunkedDiskDescription> {
  const description = await fetchDisk(client, repo, ref);
  assert.equal(description.layout, "chunked");
  return description as ChunkedDiskDescription;
}

/** Pulls `repo:ref` as a raw disk and returns its sha256. */
async function pulledDigest(
  client: RegistryClient,
  repo: string,
  ref: string,
  name: string,
): Promise<string> {
  const out = join(work, name);
  await pullDisk(client, repo, ref, out, { format: "raw", cacheDir: join(work, `cache-${name}`) });
  return sha256(await readFile(out));
}

/** The index as a copier that knows no artifactType or subject writes it. */
function withoutNewerFields(bytes: Buffer): string {
  const index = JSON.parse(bytes.toString()) as Record<string, unknown> & {
    manifests: Record<string, unknown>[];
  };
  delete index.artifactType;
  delete index.subject;
  for (const child of index.manifests) delete child.artifactType;
  return JSON.stringify(index);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-disk-chunked-peer-"));
  strata = await startStrata();
  distribution = await startDistribution();
  atStrata = new RegistryClient({ registry: strata.host, insecure: true });
  atDistribution = new RegistryClient({ registry: distribution.host, insecure: true });
  disk = Buffer.concat([
    noise("peer/0", 3 * MiB),
    Buffer.alloc(2 * MiB),
    Buffer.from("boot loader configuration\n".repeat(100_000)),
    noise("peer/1", MiB),
  ]);
  disk = Buffer.concat([disk, Buffer.alloc(MiB - (disk.length % MiB))]);
  await writeFile(join(work, "disk.raw"), disk);
  const version = (await runOk("skopeo", ["--version"])).stdout;
  const m = /(\d+)\.(\d+)/.exec(version);
  skopeoVersion = [Number(m?.[1] ?? 0), Number(m?.[2] ?? 0)];
});
after(async () => {
  await strata?.stop();
  await distribution?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("chunked disks and CNCF Distribution", () => {
  it("pushes a chunked disk to Distribution and pulls the same disk back", async () => {
    const layer = Buffer.from("image layer");
    const image = imageManifest(EMPTY_CONFIG, [layer]);
    for (const blob of [EMPTY_CONFIG, layer])
      await atDistribution.putBlob("vm/disk", { digest: digestOf(blob), size: blob.length, bytes: blob });
    await atDistribution.putManifest("vm/disk", "image", image, MediaType.ImageManifest);
    const source = { digest: digestOf(image), size: image.length, mediaType: MediaType.ImageManifest };
    const pushed = await pushChunkedDisk(
      atDistribution,
      "vm/disk",
      join(work, "disk.raw"),
      { boot: "bios", source },
      { tag: "v1" },
    );
    // No referrers API in Distribution 2.8: listed in the fallback tag's index instead.
    assert.equal(pushed.referrers, "tag");
    const fallback = await atDistribution.getManifest("vm/disk", `sha256-${source.digest.slice(7)}`, [
      MediaType.ImageIndex,
    ]);
    assert.deepEqual(
      (JSON.parse(fallback.bytes.toString()) as { manifests: { digest: string }[] }).manifests.map(
        (m) => m.digest,
      ),
      [pushed.digest],
    );
    const d = await chunked(atDistribution, "vm/disk", "v1");
    assert.equal(d.digest, pushed.digest);
    assert.equal(d.subject?.digest, source.digest);
    assert.equal(await pulledDigest(atDistribution, "vm/disk", "v1", "from-distribution.raw"), sha256(disk));
  });

  it("is copied by skopeo copy --all from Strata to Distribution and back, assembling to the same disk", async () => {
    const pushed: PushChunkedResult = await pushChunkedDisk(
      atStrata,
      "vm/disk",
      join(work, "disk.raw"),
      {
        boot: "uefi",
      },
      { tag: "v1" },
    );
    const original = await atStrata.getManifest("vm/disk", "v1", [MediaType.ImageIndex]);
    assert.equal(original.digest, pushed.digest);

    const there = await copy(
      `docker://${strata.host}/vm/disk:v1`,
      `docker://${distribution.host}/vm/copy:v1`,
    );
    assert.equal(there.code, 0, there.stderr);
    const copied = await atDistribution.getManifest("vm/copy", "v1", [MediaType.ImageIndex]);
    const keepsNewerFields = skopeoVersion[0] > 1 || skopeoVersion[1] >= 16;
    if (keepsNewerFields) assert.equal(copied.digest, pushed.digest);
    else assert.equal(copied.bytes.toString(), withoutNewerFields(original.bytes));
    // The children, and so the index blob and every chunk, keep their digests.
    const source = await chunked(atStrata, "vm/disk", "v1");
    const copy1 = await chunked(atDistribution, "vm/copy", "v1");
    assert.equal(copy1.chunked.indexManifest.digest, source.chunked.indexManifest.digest);
    assert.deepEqual(
      copy1.chunked.parts.map((p) => p.digest),
      source.chunked.parts.map((p) => p.digest),
    );
    assert.equal(copy1.rawDigest, sha256(disk));
    assert.equal(await pulledDigest(atDistribution, "vm/copy", "v1", "copied.raw"), sha256(disk));

    const back = await copy(`docker://${distribution.host}/vm/copy:v1`, `docker://${strata.host}/vm/back:v1`);
    assert.equal(back.code, 0, back.stderr);
    const returned = await chunked(atStrata, "vm/back", "v1");
    assert.equal(returned.digest, copied.digest);
    assert.equal(await pulledDigest(atStrata, "vm/back", "v1", "back.raw"), sha256(disk));
  });

  it("is refused by skopeo --preserve-digests only where skopeo would rewrite its index", async () => {
    const result = await copy(
      `docker://${strata.host}/vm/disk:v1`,
      `docker://${distribution.host}/vm/preserved:v1`,
      ["--preserve-digests"],
    );
    const keepsNewerFields = skopeoVersion[0] > 1 || skopeoVersion[1] >= 16;
    if (keepsNewerFields) {
      assert.equal(result.code, 0, result.stderr);
      const copied = await atDistribution.getManifest("vm/preserved", "v1", [MediaType.ImageIndex]);
      assert.equal(copied.digest, (await fetchDisk(atStrata, "vm/disk", "v1")).digest);
    } else {
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /we cannot modify it: \\?"Instructed to preserve digests/);
    }
  });

  it("takes a second version with delta chunks, pulled with and without the first cached, and copied by skopeo", async () => {
    const v2 = Buffer.from(disk);
    for (const at of [200_000, 2 * MiB + 10_000, 5 * MiB + 300_000])
      noise(`peer-edit-${at}`, 900).copy(v2, at);
    await writeFile(join(work, "v2.raw"), v2);
    const cacheDir = join(work, "delta-push-cache");
    await pushChunkedDisk(
      atDistribution,
      "vm/delta",
      join(work, "disk.raw"),
      { boot: "bios" },
      { tag: "v1", cacheDir },
    );
    const second = await pushChunkedDisk(
      atDistribution,
      "vm/delta",
      join(work, "v2.raw"),
      { boot: "bios" },
      { tag: "v2", base: "v1", cacheDir },
    );
    assert.ok(second.stats.chunksDelta >= 3, `${second.stats.chunksDelta} deltas`);
    assert.equal(second.stats.chunksSent, second.stats.chunksDelta);
    // With the first version cached: the pull downloads the deltas only.
    const cached = join(work, "delta-pull-cache");
    await pullDisk(atDistribution, "vm/delta", "v1", join(work, "d1.raw"), {
      format: "raw",
      cacheDir: cached,
    });
    const { stats } = await pullChunkedDisk(
      atDistribution,
      "vm/delta",
      await chunked(atDistribution, "vm/delta", "v2"),
      join(work, "d2.raw"),
      { cacheDir: cached },
    );
    assert.equal(stats.chunksSent, second.stats.chunksDelta);
    assert.equal(sha256(await readFile(join(work, "d2.raw"))), sha256(v2));
    // Without it: the base chunks come too.
    assert.equal(await pulledDigest(atDistribution, "vm/delta", "v2", "d2-cold.raw"), sha256(v2));
    // skopeo copies the disk with its deltas' bases to Strata, where it assembles alone.
    const copied = await copy(
      `docker://${distribution.host}/vm/delta:v2`,
      `docker://${strata.host}/vm/delta-copy:v2`,
    );
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(await pulledDigest(atStrata, "vm/delta-copy", "v2", "d2-copied.raw"), sha256(v2));
  });
});
