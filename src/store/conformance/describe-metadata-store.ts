// Conformance suite of MetadataStore. Each backend (SQLite, PostgreSQL) runs it in a few lines;
// after each test the store is closed and the harness checks that nothing was left behind
// (open connections, journal files).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { type Digest, digestOf } from "../../oci/index.ts";
import type { MetadataStore, NewManifest, UploadRow } from "../types.ts";
import { collectionScenarios } from "./collection-scenarios.ts";
import { releaseScenarios } from "./release-scenarios.ts";

export interface MetadataStoreHarness {
  readonly store: MetadataStore;
  /** What the closed store left behind (connections, files); must be none. */
  leftovers(): Promise<string[]>;
  /** Removes the database. */
  dispose(): Promise<void>;
}

function randomDigest(): Digest {
  return digestOf(randomBytes(16));
}

function manifest(fields: Partial<NewManifest> = {}): NewManifest {
  return {
    digest: randomDigest(),
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    size: 512,
    references: [randomDigest(), randomDigest()],
    ...fields,
  };
}

function upload(fields: Partial<UploadRow> = {}): UploadRow {
  const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  return {
    id: randomBytes(8).toString("hex"),
    repository: "library/app",
    offset: 0,
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
}

export function describeMetadataStore(options: {
  name?: string;
  create: () => Promise<MetadataStoreHarness>;
}): void {
  const scenario = (title: string, body: (store: MetadataStore) => Promise<void>): void => {
    it(title, async () => {
      const harness = await options.create();
      try {
        try {
          await body(harness.store);
        } finally {
          await harness.store.close();
        }
        assert.deepEqual(await harness.leftovers(), [], "the closed store left something behind");
      } finally {
        await harness.dispose();
      }
    });
  };

  describe(`MetadataStore conformance${options.name === undefined ? "" : `: ${options.name}`}`, () => {
    describe("repositories", () => {
      scenario("starts empty", async (store) => {
        assert.deepEqual(await store.repositories.list({}), []);
        assert.equal(await store.repositories.exists("library/app"), false);
      });

      scenario("are created by linking a blob or putting a manifest", async (store) => {
        await store.blobs.link("one", { digest: randomDigest(), size: 1 });
        await store.manifests.put("two", manifest());
        assert.equal(await store.repositories.exists("one"), true);
        assert.equal(await store.repositories.exists("two"), true);
        assert.equal(await store.repositories.exists("three"), false);
      });

      scenario("list in byte order with n/last pagination", async (store) => {
        const names = ["b", "a/z", "a", "B", "_x", "a-b", "ä", "a/b/c"];
        for (const name of names) await store.blobs.link(name, { digest: randomDigest(), size: 1 });
        const sorted = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        assert.deepEqual(await store.repositories.list({}), sorted);
        assert.deepEqual(await store.repositories.list({ n: 3 }), sorted.slice(0, 3));
        assert.deepEqual(await store.repositories.list({ n: 3, last: sorted[2] ?? "" }), sorted.slice(3, 6));
        assert.deepEqual(await store.repositories.list({ last: sorted[6] ?? "" }), sorted.slice(7));
        assert.deepEqual(await store.repositories.list({ last: sorted.at(-1) ?? "" }), []);
        assert.deepEqual(await store.repositories.list({ last: "zzz" }), ["ä"], "bytes, not locale order");
        assert.deepEqual(await store.repositories.list({ n: 0 }), []);
        assert.deepEqual(await store.repositories.list({ last: "a" }), sorted.slice(sorted.indexOf("a") + 1));
      });
    });

    describe("blob links", () => {
      scenario("link, get, unlink, idempotently", async (store) => {
        const digest = randomDigest();
        await store.blobs.link("app", { digest, size: 1234 });
        await store.blobs.link("app", { digest, size: 1234 });
        assert.deepEqual(await store.blobs.get("app", digest), { digest, size: 1234 });
        assert.equal(await store.blobs.get("other", digest), undefined);
        assert.equal(await store.blobs.unlink("app", digest), true);
        assert.equal(await store.blobs.unlink("app", digest), false);
        assert.equal(await store.blobs.get("app", digest), undefined);
      });

      scenario("counts the repositories linking a digest", async (store) => {
        const digest = randomDigest();
        assert.equal(await store.blobs.linkCount(digest), 0);
        await store.blobs.link("a", { digest, size: 5 });
        await store.blobs.link("b", { digest, size: 5 });
        await store.blobs.link("c", { digest: randomDigest(), size: 5 });
        assert.equal(await store.blobs.linkCount(digest), 2);
        await store.blobs.unlink("a", digest);
        assert.equal(await store.blobs.linkCount(digest), 1);
      });

      scenario("keeps sizes above 4 GiB exactly", async (store) => {
        const digest = randomDigest();
        const size = 2 ** 40 + 7;
        await store.blobs.link("big", { digest, size });
        assert.deepEqual(await store.blobs.get("big", digest), { digest, size });
      });

      scenario("concurrent links of one blob all succeed", async (store) => {
        const digest = randomDigest();
        await Promise.all(Array.from({ length: 10 }, () => store.blobs.link("race", { digest, size: 9 })));
        assert.equal(await store.blobs.linkCount(digest), 1);
      });
    });

    describe("manifests and tags", () => {
      scenario("round-trips every field and omits absent optional ones", async (store) => {
        const subject = randomDigest();
        const full = manifest({
          artifactType: "application/vnd.example.sbom",
          subject,
          annotations: { "org.opencontainers.image.created": "2026-01-01T00:00:00Z", "a.b": 'ü "q"' },
        });
        const bare = manifest({ references: [] });
        const t0 = Date.now();
        await store.manifests.put("app", full);
        await store.manifests.put("app", bare);
        const got = await store.manifests.get("app", full.digest);
        assert.ok(got !== undefined);
        assert.ok(got.createdAt.getTime() >= t0 - 1000 && got.createdAt.getTime() <= Date.now() + 1000);
        assert.deepEqual(got, { ...full, repository: "app", createdAt: got.createdAt });
        const plain = await store.manifests.get("app", bare.digest);
        assert.ok(plain !== undefined);
        assert.deepEqual(plain, { ...bare, repository: "app", createdAt: plain.createdAt });
        assert.equal("subject" in plain || "artifactType" in plain || "annotations" in plain, false);
        assert.equal(await store.manifests.get("other", full.digest), undefined);
      });

      scenario("put is idempotent and keeps the first creation time", async (store) => {
        const m = manifest();
        await store.manifests.put("app", m);
        const first = await store.manifests.get("app", m.digest);
        await store.manifests.put("app", m, "v1");
        assert.deepEqual(await store.manifests.get("app", m.digest), first);
        assert.deepEqual(await store.manifests.resolve("app", "v1"), first);
      });

      scenario("a tag resolves to the manifest last put with it", async (store) => {
        const one = manifest();
        const two = manifest();
        await store.manifests.put("app", one, "latest");
        assert.equal((await store.manifests.resolve("app", "latest"))?.digest, one.digest);
        await store.manifests.put("app", two, "latest");
        assert.equal((await store.manifests.resolve("app", "latest"))?.digest, two.digest);
        assert.equal(
          (await store.manifests.get("app", one.digest))?.digest,
          one.digest,
          "the old manifest stays",
        );
        assert.equal(await store.manifests.resolve("app", "missing"), undefined);
        assert.equal(await store.manifests.resolve("other", "latest"), undefined);
      });

      scenario("tags list in byte order with n/last pagination, per repository", async (store) => {
        const m = manifest();
        const tags = ["v2", "v10", "V1", "latest", "1.0", "_t", "a-b.c"];
        for (const tag of tags) await store.manifests.put("app", m, tag);
        await store.manifests.put("other", m, "zzz");
        const sorted = [...tags].sort();
        assert.deepEqual(await store.tags.list("app", {}), sorted);
        assert.deepEqual(await store.tags.list("app", { n: 2 }), sorted.slice(0, 2));
        assert.deepEqual(await store.tags.list("app", { n: 2, last: sorted[1] ?? "" }), sorted.slice(2, 4));
        assert.deepEqual(await store.tags.list("app", { last: sorted.at(-1) ?? "" }), []);
        assert.deepEqual(await store.tags.list("app", { n: 0 }), []);
        assert.deepEqual(await store.tags.list("nothing", {}), []);
      });

      scenario("deleting a tag keeps its manifest", async (store) => {
        const m = manifest();
        await store.manifests.put("app", m, "t");
        assert.equal(await store.tags.delete("app", "t"), true);
        assert.equal(await store.tags.delete("app", "t"), false);
        assert.equal(await store.manifests.resolve("app", "t"), undefined);
        assert.notEqual(await store.manifests.get("app", m.digest), undefined);
      });

      scenario("deleting a manifest deletes its tags and nothing else", async (store) => {
        const doomed = manifest();
        const kept = manifest();
        await store.manifests.put("app", doomed, "a");
        await store.manifests.put("app", doomed, "b");
        await store.manifests.put("app", kept, "c");
        await store.manifests.put("other", doomed, "a");
        assert.equal(await store.manifests.delete("app", doomed.digest), true);
        assert.equal(await store.manifests.delete("app", doomed.digest), false);
        assert.equal(await store.manifests.get("app", doomed.digest), undefined);
        assert.deepEqual(await store.tags.list("app", {}), ["c"]);
        assert.equal((await store.manifests.resolve("other", "a"))?.digest, doomed.digest);
      });

      scenario("referrers by subject, optionally filtered by artifact type", async (store) => {
        const subject = manifest();
        const sbom = manifest({ subject: subject.digest, artifactType: "application/spdx+json" });
        const sig = manifest({
          subject: subject.digest,
          artifactType: "application/vnd.dev.sigstore.bundle",
        });
        const unrelated = manifest({ subject: randomDigest(), artifactType: "application/spdx+json" });
        for (const m of [subject, sbom, sig, unrelated]) await store.manifests.put("app", m);
        await store.manifests.put("other", manifest({ subject: subject.digest }));
        const all = await store.manifests.referrers("app", subject.digest);
        assert.deepEqual(all.map((r) => r.digest).sort(), [sbom.digest, sig.digest].sort());
        const sboms = await store.manifests.referrers("app", subject.digest, "application/spdx+json");
        assert.deepEqual(
          sboms.map((r) => r.digest),
          [sbom.digest],
        );
        assert.deepEqual(await store.manifests.referrers("app", subject.digest, "none/such"), []);
        assert.deepEqual(await store.manifests.referrers("app", randomDigest()), []);
      });

      scenario("concurrent puts to one tag all succeed and leave one consistent tag", async (store) => {
        const candidates = Array.from({ length: 20 }, () => manifest());
        await Promise.all(candidates.map((m) => store.manifests.put("race", m, "latest")));
        assert.deepEqual(await store.tags.list("race", {}), ["latest"]);
        const winner = await store.manifests.resolve("race", "latest");
        assert.ok(winner !== undefined && candidates.some((m) => m.digest === winner.digest));
        for (const m of candidates) assert.notEqual(await store.manifests.get("race", m.digest), undefined);
      });

      scenario("concurrent puts of one manifest with different tags all succeed", async (store) => {
        const m = manifest();
        await Promise.all(Array.from({ length: 10 }, (_, i) => store.manifests.put("race", m, `t${i}`)));
        assert.equal((await store.tags.list("race", {})).length, 10);
      });
    });

    collectionScenarios(scenario);
    releaseScenarios(scenario);

    describe("upload rows", () => {
      scenario("insert, get and delete keep every field", async (store) => {
        const row = upload({ offset: 2 ** 33 });
        await store.uploads.insert(row);
        assert.deepEqual(await store.uploads.get(row.id), row);
        assert.equal(await store.uploads.count(), 1);
        assert.equal(await store.uploads.delete(row.id), true);
        assert.equal(await store.uploads.delete(row.id), false);
        assert.equal(await store.uploads.get(row.id), undefined);
        assert.equal(await store.uploads.count(), 0);
      });

      scenario("advance is a compare-and-set on the offset", async (store) => {
        const row = upload();
        await store.uploads.insert(row);
        const at = new Date(row.updatedAt.getTime() + 5000);
        assert.equal(await store.uploads.advance(row.id, 0, 100, at), true);
        assert.equal(await store.uploads.advance(row.id, 0, 50, at), false, "a stale offset loses");
        assert.deepEqual(await store.uploads.get(row.id), { ...row, offset: 100, updatedAt: at });
        assert.equal(await store.uploads.advance("unknown", 0, 1, at), false);
        const racers = await Promise.all(
          [1, 2, 3].map((n) => store.uploads.advance(row.id, 100, 100 + n, at)),
        );
        assert.equal(racers.filter(Boolean).length, 1);
        await store.uploads.delete(row.id);
      });

      scenario("olderThan finds sessions not touched since a time", async (store) => {
        const base = Date.UTC(2026, 5, 1);
        const old = upload({ updatedAt: new Date(base - 10_000) });
        const edge = upload({ updatedAt: new Date(base) });
        const young = upload({ updatedAt: new Date(base + 10_000) });
        for (const row of [old, edge, young]) await store.uploads.insert(row);
        assert.deepEqual(await store.uploads.olderThan(new Date(base)), [old]);
        assert.deepEqual(
          (await store.uploads.olderThan(new Date(base + 1))).map((r) => r.id),
          [old.id, edge.id],
        );
        for (const row of [old, edge, young]) await store.uploads.delete(row.id);
      });

      scenario("a duplicate id is refused", async (store) => {
        const row = upload();
        await store.uploads.insert(row);
        await assert.rejects(store.uploads.insert(row));
        await store.uploads.delete(row.id);
      });
    });
  });
}
