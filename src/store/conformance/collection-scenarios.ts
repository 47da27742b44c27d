// Scenarios of the MetadataStore conformance suite for garbage collection and commits: what
// removeIfUnreferenced keeps, how claims keep digests and end, and the protocol raced many
// times over a model of the pool (a set of present digests), where a collector deletes and a
// committer claims, rewrites what is missing and records — the end state must never name a
// missing digest.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe } from "node:test";
import { type Digest, digestOf } from "../../oci/index.ts";
import { StoreError } from "../errors.ts";
import type { MetadataStore } from "../types.ts";

type Scenario = (title: string, body: (store: MetadataStore) => Promise<void>) => void;

function randomDigest(): Digest {
  return digestOf(randomBytes(16));
}

const IMAGE = "application/vnd.oci.image.manifest.v1+json";
const HOUR = 3_600_000;

/** Asks the store to remove each digest; returns those whose `remove` ran. */
async function sweep(store: MetadataStore, digests: readonly Digest[], at = new Date()): Promise<Digest[]> {
  const removed: Digest[] = [];
  for (const digest of digests) {
    const ran = await store.references.removeIfUnreferenced(digest, at, () => {
      removed.push(digest);
      return Promise.resolve(true);
    });
    assert.equal(ran, removed.includes(digest));
  }
  return removed;
}

function isBlobUnknown(error: unknown): boolean {
  return error instanceof StoreError && error.code === "BLOB_UNKNOWN";
}

export function collectionScenarios(scenario: Scenario): void {
  describe("garbage collection and claims", () => {
    scenario("removes only what no link, manifest, reference or claim names", async (store) => {
      const [linked, manifest, layer, claimed, free] = Array.from({ length: 5 }, randomDigest) as Digest[] &
        [Digest, Digest, Digest, Digest, Digest];
      await store.blobs.link("app", { digest: linked, size: 1 });
      await store.manifests.put("app", { digest: manifest, mediaType: IMAGE, size: 2, references: [layer] });
      const claim = await store.claims.take([claimed]);
      assert.deepEqual(await sweep(store, [linked, manifest, layer, claimed, free]), [free]);
      for (const digest of [linked, manifest, layer]) assert.ok((await store.references.all()).has(digest));
      await store.claims.release(claim);
      assert.deepEqual(await sweep(store, [claimed]), [claimed]);
    });

    scenario("unlinking and deleting a manifest make its digests collectable", async (store) => {
      const [blob, manifest, layer] = [randomDigest(), randomDigest(), randomDigest()];
      await store.blobs.link("app", { digest: blob, size: 1 });
      await store.manifests.put(
        "app",
        { digest: manifest, mediaType: IMAGE, size: 2, references: [layer] },
        "v1",
      );
      await store.blobs.unlink("app", blob);
      await store.manifests.delete("app", manifest);
      assert.deepEqual(await sweep(store, [blob, manifest, layer]), [blob, manifest, layer]);
      assert.deepEqual(await store.references.all(), new Set());
    });

    scenario("a manifest named by two repositories keeps its references until both go", async (store) => {
      const m = { digest: randomDigest(), mediaType: IMAGE, size: 3, references: [randomDigest()] };
      await store.manifests.put("one", m);
      await store.manifests.put("two", m);
      await store.manifests.delete("one", m.digest);
      assert.deepEqual(await sweep(store, [m.digest, ...m.references]), []);
      await store.manifests.delete("two", m.digest);
      assert.deepEqual(await sweep(store, [m.digest, ...m.references]), [m.digest, ...m.references]);
    });

    scenario("a recorded link or manifest ends its claim", async (store) => {
      const blob = randomDigest();
      const m = { digest: randomDigest(), mediaType: IMAGE, size: 3, references: [blob] };
      const blobClaim = await store.claims.take([blob]);
      await store.blobs.link("app", { digest: blob, size: 1 }, { claim: blobClaim });
      const manifestClaim = await store.claims.take([m.digest, blob]);
      await store.manifests.put("app", m, "v1", { claim: manifestClaim });
      await store.blobs.unlink("app", blob);
      await store.manifests.delete("app", m.digest);
      // No claim is left to keep them, although neither was released.
      assert.deepEqual(await sweep(store, [blob, m.digest]), [blob, m.digest]);
    });

    scenario("a removal that did not remove leaves the claim and keeps the digest", async (store) => {
      const digest = randomDigest();
      const claim = await store.claims.take([digest]);
      const later = new Date(Date.now() + 2 * HOUR);
      const ran = await store.references.removeIfUnreferenced(digest, later, () => Promise.resolve(false));
      assert.equal(ran, false);
      await store.blobs.link("app", { digest, size: 1 }, { claim });
      assert.deepEqual(await store.blobs.get("app", digest), { digest, size: 1 });
    });

    scenario("an expired claim keeps nothing, and recording under it fails", async (store) => {
      const blob = randomDigest();
      const m = { digest: randomDigest(), mediaType: IMAGE, size: 3, references: [randomDigest()] };
      const blobClaim = await store.claims.take([blob]);
      const manifestClaim = await store.claims.take([m.digest, ...m.references]);
      const later = new Date(Date.now() + 2 * HOUR);
      assert.deepEqual(await sweep(store, [blob, m.references[0] as Digest], later), [blob, m.references[0]]);
      await assert.rejects(
        store.blobs.link("app", { digest: blob, size: 1 }, { claim: blobClaim }),
        isBlobUnknown,
      );
      await assert.rejects(store.manifests.put("app", m, "v1", { claim: manifestClaim }), isBlobUnknown);
      assert.equal(await store.blobs.get("app", blob), undefined);
      assert.equal(await store.manifests.get("app", m.digest), undefined);
      assert.equal(await store.manifests.resolve("app", "v1"), undefined);
      assert.equal(await store.repositories.exists("app"), false);
      await store.claims.release(manifestClaim);
    });

    scenario("expire drops claims past their time and only those", async (store) => {
      const [short, long] = [randomDigest(), randomDigest()];
      await store.claims.take([short], { ttlMs: 1000 });
      const kept = await store.claims.take([long]);
      assert.equal(await store.claims.expire(new Date(Date.now() + 60_000)), 1);
      assert.deepEqual(await sweep(store, [short, long]), [short]);
      await store.claims.release(kept);
    });

    scenario("a claim asked for while a removal runs waits until the removal is done", async (store) => {
      const digest = randomDigest();
      let claimed = false;
      let claimedDuringRemoval = false;
      let claiming: Promise<unknown> = Promise.resolve();
      await store.references.removeIfUnreferenced(digest, new Date(), async () => {
        claiming = store.claims.take([digest]).then((claim) => {
          claimed = true;
          return store.claims.release(claim);
        });
        // Give a claim that did not wait every chance to be granted before the removal ends.
        for (let i = 0; i < 20 && !claimed; i++) await new Promise((r) => setTimeout(r, 5));
        claimedDuringRemoval = claimed;
        return true;
      });
      await claiming;
      assert.equal(claimedDuringRemoval, false);
      assert.equal(claimed, true);
    });

    scenario("racing commits and removals never record a missing digest", async (store) => {
      await raceProtocol(store, store, 15);
    });
  });
}

/**
 * Commits and removals of a few digests, raced for `rounds` rounds over a model of the pool.
 * A blob commit claims its digest, writes it when it is missing (or keeps the present copy, as
 * the pool does), then links it; a manifest commit claims its digest and the one it names,
 * writes its own bytes, checks the named digest is there (as the registry does) and records the
 * manifest; a collector removes digests when the store lets it. Whatever is recorded must be in
 * the pool at the end of every round.
 */
export async function raceProtocol(
  committer: MetadataStore,
  collector: MetadataStore,
  rounds: number,
): Promise<void> {
  const pool = new Set<string>();
  const digests = Array.from({ length: 3 }, randomDigest);
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  const pause = async (n: number): Promise<void> => {
    for (let t = 0; t < n; t++) await tick();
  };
  for (let round = 0; round < rounds; round++) {
    const repo = `race/r${round}`;
    const manifests: Digest[] = [];
    const blobCommits = digests.map(async (digest, i) => {
      const claim = await committer.claims.take([digest]);
      try {
        if (!pool.has(digest)) {
          await tick();
          pool.add(digest);
        }
        await pause((round + i) % 3);
        await committer.blobs.link(repo, { digest, size: 1 }, { claim });
      } finally {
        await committer.claims.release(claim);
      }
    });
    const manifestCommits = digests.map(async (digest, i) => {
      await pause((round + i + 1) % 4);
      const m = { digest: randomDigest(), mediaType: IMAGE, size: 1, references: [digest] };
      const claim = await committer.claims.take([m.digest, digest]);
      try {
        pool.add(m.digest);
        if (!pool.has(digest)) return;
        await pause((round + i) % 2);
        await committer.manifests.put(repo, m, undefined, { claim });
        manifests.push(m.digest);
      } finally {
        await committer.claims.release(claim);
      }
    });
    const removals = [...digests, ...digests].map(async (digest, i) => {
      await pause((round + i) % 5);
      await collector.references.removeIfUnreferenced(digest, new Date(), async () => {
        await tick();
        return pool.delete(digest);
      });
    });
    await Promise.all([...blobCommits, ...manifestCommits, ...removals]);
    for (const digest of await committer.references.all()) {
      assert.ok(pool.has(digest), `round ${round}: ${digest} is recorded but was removed`);
    }
    for (const digest of digests) await committer.blobs.unlink(repo, digest);
    for (const digest of manifests) {
      await committer.manifests.delete(repo, digest);
      pool.delete(digest);
    }
  }
}
