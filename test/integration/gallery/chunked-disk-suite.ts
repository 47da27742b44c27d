// Chunked disks in the gallery: publishing checks a disk is complete (a missing chunk blob or a
// chunk no part lists is refused, and the refusal records nothing); a version reports its bytes,
// total, own and shared with other versions (copies included); garbage collection keeps every
// chunk an index names through its parts; purging a version frees in its repository what only it
// used, so that collection removes exactly the chunks no other version needs, and the version
// left still reads whole. A disk with delta chunks is published when valid and refused when its
// deltas are malformed; purging the version its deltas came from keeps the base chunks they name.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { digestOf, type Digest } from "../../../src/oci/index.ts";
import { collectGarbage, createFsBlobStore, type MetadataStore } from "../../../src/store/index.ts";
import {
  diskSizes,
  makeChunkedDisk,
  makeDeltaDisk,
  partEndingChunk,
  pushChunkedDisk,
  rawChunk,
  readChunkedDisk,
  withIndex,
  withoutPart,
  type ChunkedDisk,
} from "../../helpers/chunked-disk.ts";
import { basic } from "../../helpers/gallery.ts";
import { imageManifest } from "../../helpers/manifests.ts";
import { apiError, type Harness } from "./harness.ts";

const DAY = 86_400_000;
const REPO = "chunks/disk";

/** Sum of the sizes of `digests` in `sizes`. */
const bytesOf = (sizes: ReadonlyMap<Digest, number>, digests: Iterable<Digest>): number =>
  [...digests].reduce((sum, d) => sum + (sizes.get(d) ?? 0), 0);

export function chunkedDiskSuite(h: Harness): void {
  describe("chunked disks", () => {
    // v1 and v2 agree on their first part (eight chunks ending with one that ends a part) and on
    // one chunk after it; each has chunks of its own in its second part.
    const shared = [
      ...Array.from({ length: 7 }, (_, i) => rawChunk(`shared-${i}`, { compressible: i % 2 === 0 })),
      partEndingChunk("shared-end"),
    ];
    const common = rawChunk("common-tail", { compressible: true });
    let v1: ChunkedDisk;
    let v2: ChunkedDisk;
    const meta = (): MetadataStore => h.server.server.meta;
    const pool = () => createFsBlobStore({ root: join(h.server.dataDir, "data") });
    const version = (v: string, gallery = "chunks") =>
      h.api("GET", `/galleries/${gallery}/images/disk/versions/${v}`, undefined, "alice");
    const publish = (v: string, from: string, gallery = "chunks") =>
      h.api("POST", `/galleries/${gallery}/images/disk/versions`, { version: v, from }, "alice");

    before(async () => {
      for (const gallery of ["chunks", "chunks-copy"]) {
        const g = await h.api("POST", "/galleries", { name: gallery, restoreDays: 1 }, "alice");
        assert.equal(g.status, 201, JSON.stringify(g.body));
        const d = await h.api("POST", `/galleries/${gallery}/images`, { name: "disk", kind: "vm" }, "alice");
        assert.equal(d.status, 201, JSON.stringify(d.body));
      }
      v1 = await makeChunkedDisk([
        ...shared,
        common,
        rawChunk("v1-own-a"),
        rawChunk("v1-own-b", { compressible: true }),
        shared[0] as Buffer,
      ]);
      v2 = await makeChunkedDisk([
        ...shared,
        common,
        rawChunk("v2-own-a", { compressible: true }),
        rawChunk("v2-own-b"),
        rawChunk("v2-own-c"),
      ]);
      assert.ok(v1.manifests.length >= 4 && v2.manifests.length >= 4, "two parts each at least");
      assert.equal(v1.artifact.children[1]?.digest, v2.artifact.children[1]?.digest, "a shared part");
    });

    it("publishes a complete chunked disk and refuses one with a chunk missing", async () => {
      for (const [n, disk] of [
        ["1.0.0", v1],
        ["2.0.0", v2],
      ] as const) {
        await pushChunkedDisk(h.server.server.app, REPO, disk, { user: "alice" });
        const published = await publish(n, `${REPO}@${disk.digest}`);
        assert.equal(published.status, 201, JSON.stringify(published.body));
        assert.equal(published.body.digest, disk.digest);
      }

      // A disk whose chunk was deleted from the repository after the push.
      const broken = await makeChunkedDisk([...shared, rawChunk("broken-1"), rawChunk("broken-2")]);
      await pushChunkedDisk(h.server.server.app, REPO, broken, { user: "alice" });
      const lost = broken.chunks.at(-2)?.digest ?? "";
      const deleted = await h.server.server.app.inject({
        method: "DELETE",
        url: `/v2/${REPO}/blobs/${lost}`,
        headers: { authorization: basic("alice") },
      });
      assert.equal(deleted.statusCode, 202, deleted.body);
      const refused = await publish("3.0.0", `${REPO}@${broken.digest}`);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(apiError(refused).code, "INVALID");
      assert.match(
        apiError(refused).message,
        new RegExp(
          `^Chunked disk "${broken.digest}" in "${REPO}" is incomplete: chunk "${lost}" \\(${broken.chunks.length - 1} of ${broken.chunks.length} in its index\\) is missing from the repository; push the disk again`,
        ),
      );

      // A disk whose image index leaves out a part: its chunks are in no part manifest.
      const partless = withoutPart(await makeChunkedDisk([...shared, rawChunk("partless")]), 2);
      await pushChunkedDisk(h.server.server.app, REPO, partless, { user: "alice" });
      const uncovered = await publish("3.0.0", `${REPO}@${partless.digest}`);
      assert.equal(uncovered.status, 400, JSON.stringify(uncovered.body));
      assert.match(
        apiError(uncovered).message,
        new RegExp(
          `cannot be published: Invalid disk index: chunk "?${partless.chunks.at(-1)?.digest}"? is in no part`,
        ),
      );

      // Neither refusal recorded anything: no version, no version tag.
      assert.equal((await version("3.0.0")).status, 404);
      const listed = await h.api(
        "GET",
        "/galleries/chunks/images/disk/versions?deleted=true",
        undefined,
        "alice",
      );
      assert.deepEqual(
        listed.body.map((v: { version: string }) => v.version),
        ["2.0.0", "1.0.0"],
      );
      assert.equal(await meta().manifests.resolve(REPO, "3.0.0"), undefined);
      assert.equal((await h.pull(REPO, "3.0.0")).status, 404);
    });

    it("reports a version's bytes: total, own, and shared with other versions and copies", async () => {
      const s1 = diskSizes(v1);
      const s2 = diskSizes(v2);
      const both = [...s1.keys()].filter((d) => s2.has(d));
      // What the two share, computed from the artifacts: the empty config, the first part
      // manifest, and the chunks of both.
      const sharedChunks = v1.chunks.filter((c) => s2.has(c.digest));
      assert.equal(sharedChunks.length, shared.length + 1);
      const expected = bytesOf(s1, both);
      assert.equal(
        expected,
        bytesOf(
          s1,
          sharedChunks.map((c) => c.digest),
        ) +
          2 +
          (v1.artifact.children[1]?.bytes.length ?? 0),
      );
      for (const [n, sizes] of [
        ["1.0.0", s1],
        ["2.0.0", s2],
      ] as const) {
        const answer = await version(n);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const total = bytesOf(sizes, sizes.keys());
        assert.deepEqual(answer.body.bytes, { total, own: total - expected, shared: expected });
      }

      // A copy of 2.0.0 in another gallery is another version: all of 2.0.0 is shared now, and
      // 1.0.0 still shares what it shares with 2.0.0.
      const copied = await publish("2.0.0", `${REPO}:2.0.0`, "chunks-copy");
      assert.equal(copied.status, 201, JSON.stringify(copied.body));
      const total2 = bytesOf(s2, s2.keys());
      assert.deepEqual((await version("2.0.0")).body.bytes, { total: total2, own: 0, shared: total2 });
      assert.deepEqual((await version("2.0.0", "chunks-copy")).body.bytes, {
        total: total2,
        own: 0,
        shared: total2,
      });
      assert.equal((await version("1.0.0")).body.bytes.shared, expected);

      // A container version whose content nothing else uses shares nothing.
      const defined = await h.api(
        "POST",
        "/galleries/chunks/images",
        { name: "solo", kind: "container" },
        "alice",
      );
      assert.equal(defined.status, 201, JSON.stringify(defined.body));
      const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed: "solo" }));
      const layer = Buffer.from("a layer only this version has");
      for (const blob of [config, layer]) {
        const res = await h.server.server.app.inject({
          method: "POST",
          url: `/v2/chunks/solo/blobs/uploads/?digest=${digestOf(blob)}`,
          headers: { authorization: basic("alice"), "content-type": "application/octet-stream" },
          payload: blob,
        });
        assert.equal(res.statusCode, 201, res.body);
      }
      const manifest = imageManifest(config, [layer]);
      const pushed = await h.server.server.app.inject({
        method: "PUT",
        url: "/v2/chunks/solo/manifests/build-1",
        headers: {
          authorization: basic("alice"),
          "content-type": "application/vnd.oci.image.manifest.v1+json",
        },
        payload: manifest,
      });
      assert.equal(pushed.statusCode, 201, pushed.body);
      const solo = await h.api(
        "POST",
        "/galleries/chunks/images/solo/versions",
        { version: "1.0.0", from: "chunks/solo:build-1" },
        "alice",
      );
      assert.equal(solo.status, 201, JSON.stringify(solo.body));
      const got = await h.api("GET", "/galleries/chunks/images/solo/versions/1.0.0", undefined, "alice");
      const total = manifest.length + config.length + layer.length;
      assert.deepEqual(got.body.bytes, { total, own: total, shared: 0 });
    });

    it("collects no chunk an index names through its parts, even with no link left", async () => {
      const blobs = pool();
      const disk = await makeChunkedDisk([
        rawChunk("gc-only-1"),
        rawChunk("gc-only-2", { compressible: true }),
      ]);
      await pushChunkedDisk(h.server.server.app, "chunks/gc-proof", disk, { user: "alice", tag: "t" });
      // Only the manifests keep the blobs now: the parts their chunks, the index manifest the
      // index blob.
      for (const blob of disk.blobs) await meta().blobs.unlink("chunks/gc-proof", blob.digest);
      await collectGarbage(blobs, meta(), { graceMs: 0 });
      for (const d of diskSizes(disk).keys()) assert.ok(await blobs.stat(d), `${d} is kept`);
      // Without the image index, its parts still name the chunks.
      await meta().manifests.delete("chunks/gc-proof", disk.digest);
      await collectGarbage(blobs, meta(), { graceMs: 0 });
      for (const blob of disk.blobs) assert.ok(await blobs.stat(blob.digest), `${blob.digest} is kept`);
      assert.equal(await blobs.stat(disk.digest), undefined, "the image index itself is collected");
      // Without the parts and the index manifest, the chunks go.
      for (const child of disk.artifact.children)
        await meta().manifests.delete("chunks/gc-proof", child.digest);
      await collectGarbage(blobs, meta(), { graceMs: 0 });
      for (const chunk of disk.chunks) assert.equal(await blobs.stat(chunk.digest), undefined);
    });

    it("purging a version frees what only it used; collection then removes only that", async () => {
      const blobs = pool();
      const deleted = await h.api(
        "DELETE",
        "/galleries/chunks/images/disk/versions/1.0.0?force=true",
        undefined,
        "alice",
      );
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      // Within the restore window nothing goes.
      await h.server.server.gallery.sweep();
      await collectGarbage(blobs, meta(), { graceMs: 0 });
      for (const d of diskSizes(v1).keys()) assert.ok(await blobs.stat(d), `${d} is kept while restorable`);

      h.advance(2 * DAY);
      try {
        assert.ok((await h.server.server.gallery.sweep()).purged >= 1);
      } finally {
        h.advance(-2 * DAY);
      }
      assert.equal((await version("1.0.0")).status, 404);
      const s2 = diskSizes(v2);
      const onlyV1 = [...diskSizes(v1).keys()].filter((d) => !s2.has(d));
      // In the repository: v1's own manifests deleted, its own blobs unlinked; v2's all there.
      for (const m of v1.manifests) {
        const held = await meta().manifests.get(REPO, m.digest);
        assert.equal(held !== undefined, s2.has(m.digest), `manifest ${m.digest}`);
      }
      for (const b of v1.blobs) {
        const linked = await meta().blobs.get(REPO, b.digest);
        assert.equal(linked !== undefined, s2.has(b.digest), `link of ${b.digest}`);
      }

      const report = await collectGarbage(blobs, meta(), { graceMs: 0 });
      const removed = new Set(report.removed.map((r) => r.digest));
      for (const d of onlyV1) {
        assert.ok(removed.has(d), `${d}, only v1's, is collected`);
        assert.equal(await blobs.stat(d), undefined);
      }
      for (const d of s2.keys()) assert.ok(await blobs.stat(d), `${d}, v2's, is kept`);
      assert.ok(
        onlyV1.some((d) => v1.chunks.some((c) => c.digest === d)),
        "v1 had chunks of its own",
      );

      // 2.0.0 reads whole: every blob of its index and parts, and the disk they make.
      const read = await readChunkedDisk(h.server.server.app, REPO, "2.0.0", "alice");
      assert.equal(read.index.digest, v2.index.digest);
      assert.deepEqual([...read.digests].sort(), [...s2.keys()].sort());
      // It no longer shares with 1.0.0, only with its copy.
      const total2 = bytesOf(s2, s2.keys());
      assert.deepEqual((await version("2.0.0")).body.bytes, { total: total2, own: 0, shared: total2 });
    });
  });

  describe("chunked disks with delta chunks", () => {
    const raws = Array.from({ length: 6 }, (_, i) =>
      rawChunk(`delta-base-${i}`, { compressible: i % 2 === 0 }),
    );
    let d1: ChunkedDisk;
    let d2: ChunkedDisk;
    const meta = (): MetadataStore => h.server.server.meta;
    const publish = (v: string, from: string) =>
      h.api("POST", "/galleries/deltas/images/disk/versions", { version: v, from }, "alice");
    const version = (v: string) =>
      h.api("GET", `/galleries/deltas/images/disk/versions/${v}`, undefined, "alice");

    before(async () => {
      const g = await h.api("POST", "/galleries", { name: "deltas", restoreDays: 1 }, "alice");
      assert.equal(g.status, 201, JSON.stringify(g.body));
      const d = await h.api("POST", "/galleries/deltas/images", { name: "disk", kind: "vm" }, "alice");
      assert.equal(d.status, 201, JSON.stringify(d.body));
      d1 = await makeChunkedDisk(raws);
      // Version 2: two chunks changed in a few bytes each, stored as deltas against version 1's.
      const changed = raws.map((raw, i) => {
        if (i !== 1 && i !== 4) return raw;
        const copy = Buffer.from(raw);
        copy.write(`version two of ${i}`, 100);
        return copy;
      });
      d2 = await makeDeltaDisk(d1, changed);
      assert.equal(d2.index.chunks.filter((c) => c.encoding === "delta").length, 2);
    });

    it("publishes a disk with delta chunks and refuses malformed deltas, recording nothing", async () => {
      for (const [n, disk] of [
        ["1.0.0", d1],
        ["2.0.0", d2],
      ] as const) {
        await pushChunkedDisk(h.server.server.app, "deltas/disk", disk, { user: "alice" });
        const published = await publish(n, `deltas/disk@${disk.digest}`);
        assert.equal(published.status, 201, JSON.stringify(published.body));
      }
      const delta = d2.index.chunks.findIndex((c) => c.encoding === "delta");
      const other = d2.index.chunks.findIndex((c, i) => i > delta && c.encoding === "delta");
      const length = d2.index.chunks[delta]!.rawLength;
      const malformed: [
        string,
        (span: { chunk: number; offset: number; length: number }) => object,
        RegExp,
      ][] = [
        [
          "out of range",
          (s) => ({ ...s, chunk: 99 }),
          new RegExp(`delta chunk ${delta} names base chunk 99`),
        ],
        [
          "a delta",
          (s) => ({ ...s, chunk: other }),
          new RegExp(`delta chunk ${delta} names delta chunk ${other}`),
        ],
        [
          "outside",
          (s) => ({ ...s, offset: 1 }),
          new RegExp(`delta chunk ${delta} takes bytes \\[1, ${length + 1}\\)`),
        ],
        ["short", (s) => ({ ...s, length: s.length - 1 }), /add up to \d+ bytes, not its raw length/],
      ];
      for (const [what, edit, message] of malformed) {
        const bad = withIndex(d2, {
          ...d2.index,
          chunks: d2.index.chunks.map((c, i) =>
            i === delta ? { ...c, base: (c.base ?? []).map((span) => edit(span) as typeof span) } : c,
          ),
        });
        await pushChunkedDisk(h.server.server.app, "deltas/disk", bad, { user: "alice" });
        const refused = await publish("3.0.0", `deltas/disk@${bad.digest}`);
        assert.equal(refused.status, 400, `${what}: ${JSON.stringify(refused.body)}`);
        assert.equal(apiError(refused).code, "INVALID");
        assert.match(apiError(refused).message, /cannot be published: Invalid disk index: /);
        assert.match(apiError(refused).message, message, what);
      }
      assert.equal((await version("3.0.0")).status, 404);
      assert.equal(await meta().manifests.resolve("deltas/disk", "3.0.0"), undefined);
    });

    it("keeps the base chunks of a delta when the version they came from is purged", async () => {
      const blobs = createFsBlobStore({ root: join(h.server.dataDir, "data") });
      const deleted = await h.api(
        "DELETE",
        "/galleries/deltas/images/disk/versions/1.0.0?force=true",
        undefined,
        "alice",
      );
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      h.advance(2 * DAY);
      try {
        assert.ok((await h.server.server.gallery.sweep()).purged >= 1);
      } finally {
        h.advance(-2 * DAY);
      }
      const report = await collectGarbage(blobs, meta(), { graceMs: 0 });
      const removed = new Set(report.removed.map((r) => r.digest));
      // Version 1's own index blob went; every blob version 2 names, its deltas' bases included, stayed.
      assert.ok(removed.has(d1.artifact.indexBlob.digest), "version 1's index blob is collected");
      const bases = d2.index.chunks.flatMap((c) =>
        (c.base ?? []).map((s) => d2.index.chunks[s.chunk]!.digest),
      );
      assert.equal(bases.length, 2);
      for (const d of diskSizes(d2).keys()) assert.ok(await blobs.stat(d), `${d}, version 2's, is kept`);
      const read = await readChunkedDisk(h.server.server.app, "deltas/disk", "2.0.0", "alice");
      assert.equal(read.index.digest, d2.index.digest);
      for (const base of bases) assert.ok(read.digests.has(base));
      const total = bytesOf(diskSizes(d2), diskSizes(d2).keys());
      assert.equal((await version("2.0.0")).body.bytes.total, total);
    });
  });
}
