// Garbage collection over the filesystem pool and SQLite metadata: referenced blobs stay,
// unreferenced blobs older than the grace window go, young ones stay, a dry run removes nothing,
// and a commit in progress (a claim) keeps its blob whatever the grace window.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { digestOf, type Digest } from "../oci/index.ts";
import { createFsBlobStore, type FsBlobStore } from "./fs-blob-store.ts";
import { collectGarbage } from "./gc.ts";
import { createMetadataStore } from "./metadata/create-metadata-store.ts";
import { blobPath } from "./paths.ts";
import { StoreError } from "./errors.ts";
import type { MetadataStore } from "./types.ts";

const HOUR = 3_600_000;
let dir: string;
let blobs: FsBlobStore;
let meta: MetadataStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-gc-"));
  blobs = createFsBlobStore({ root: dir });
  meta = await createMetadataStore(`sqlite:${join(dir, "meta.db")}`);
});
afterEach(async () => {
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

async function blob(ageMs: number): Promise<{ digest: Digest; size: number }> {
  const bytes = randomBytes(1000);
  const info = await blobs.put({ digest: digestOf(bytes) }, bytes);
  const when = new Date(Date.now() - ageMs);
  await utimes(blobPath(dir, info.digest), when, when);
  return info;
}

describe("collectGarbage", () => {
  it("keeps linked blobs and what manifests name, removes old unreferenced blobs", async () => {
    const linked = await blob(2 * HOUR);
    const layer = await blob(2 * HOUR);
    const manifest = await blob(2 * HOUR);
    const orphan = await blob(2 * HOUR);
    const young = await blob(0);
    await meta.blobs.link("team/app", linked);
    await meta.manifests.put("team/app", {
      digest: manifest.digest,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: manifest.size,
      references: [layer.digest],
    });
    const report = await collectGarbage(blobs, meta, { graceMs: HOUR });
    assert.deepEqual(report.removed, [{ digest: orphan.digest, size: orphan.size }]);
    assert.equal(report.kept, 3);
    assert.equal(report.young, 1);
    assert.equal(report.removedBytes, orphan.size);
    assert.equal(await blobs.stat(orphan.digest), undefined);
    for (const kept of [linked, layer, manifest, young]) assert.ok(await blobs.stat(kept.digest));
  });

  it("removes nothing on a dry run", async () => {
    const orphan = await blob(2 * HOUR);
    const report = await collectGarbage(blobs, meta, { graceMs: HOUR, dryRun: true });
    assert.equal(report.dryRun, true);
    assert.deepEqual(
      report.removed.map((r) => r.digest),
      [orphan.digest],
    );
    assert.ok(await blobs.stat(orphan.digest));
  });

  it("keeps an old blob pushed again during collection", async () => {
    const old = await blob(2 * HOUR);
    // Pushing the same content refreshes the blob's time, as a push racing the collector would.
    const bytes = Buffer.from(await blobs.read(old.digest, old.size));
    await blobs.put({ digest: old.digest }, bytes);
    const report = await collectGarbage(blobs, meta, { graceMs: HOUR });
    assert.deepEqual(report.removed, []);
    assert.ok(await blobs.stat(old.digest));
  });

  it("removes a blob once its repository unlinks it and it ages out", async () => {
    const once = await blob(2 * HOUR);
    await meta.blobs.link("team/app", once);
    assert.equal((await collectGarbage(blobs, meta, { graceMs: HOUR })).removed.length, 0);
    await meta.blobs.unlink("team/app", once.digest);
    assert.equal((await collectGarbage(blobs, meta, { graceMs: HOUR })).removed.length, 1);
  });

  it("keeps a blob claimed by a push even with no grace window, until the push links it", async () => {
    const old = await blob(2 * HOUR);
    const claim = await meta.claims.take([old.digest]);
    // The pool already has the bytes: the push's own copy is dropped, the old file stays.
    await blobs.put({ digest: old.digest }, Buffer.from(await blobs.read(old.digest, old.size)));
    await utimes(blobPath(dir, old.digest), new Date(0), new Date(0));
    assert.deepEqual((await collectGarbage(blobs, meta, { graceMs: 0 })).removed, []);
    await meta.blobs.link("team/app", old, { claim });
    await meta.claims.release(claim);
    assert.deepEqual((await collectGarbage(blobs, meta, { graceMs: 0 })).removed, []);
    assert.equal(digestOf(await blobs.read(old.digest, old.size)), old.digest);
  });

  it("a push that claims after a collection removed its blob writes it again", async () => {
    const bytes = randomBytes(1000);
    const old = await blobs.put({ digest: digestOf(bytes) }, bytes);
    await utimes(blobPath(dir, old.digest), new Date(0), new Date(0));
    assert.equal((await collectGarbage(blobs, meta, { graceMs: 0 })).removed.length, 1);
    const claim = await meta.claims.take([old.digest]);
    await blobs.put({ digest: old.digest }, bytes);
    await meta.blobs.link("team/app", old, { claim });
    await meta.claims.release(claim);
    assert.deepEqual((await collectGarbage(blobs, meta, { graceMs: 0 })).removed, []);
    assert.ok((await blobs.read(old.digest, old.size)).equals(bytes));
  });

  it("stops honouring a claim left by a crashed push once it expires; the late link fails", async () => {
    const old = await blob(3 * HOUR);
    const claim = await meta.claims.take([old.digest]);
    const later = () => new Date(Date.now() + 2 * HOUR);
    assert.equal((await collectGarbage(blobs, meta, { graceMs: HOUR })).removed.length, 0);
    assert.equal((await collectGarbage(blobs, meta, { graceMs: HOUR, now: later })).removed.length, 1);
    await assert.rejects(
      meta.blobs.link("team/app", old, { claim }),
      (error) => error instanceof StoreError && error.code === "BLOB_UNKNOWN",
    );
    assert.equal(await meta.blobs.get("team/app", old.digest), undefined);
  });
});
