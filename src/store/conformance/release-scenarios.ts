// Scenarios of the MetadataStore conformance suite for reading references the other way and
// releasing content: which manifests name given digests (in one repository or any), links of
// many digests at once, and the deletes that free what a removed manifest alone used — never a
// manifest or link that a tag, another manifest of the repository or a commit in progress needs.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe } from "node:test";
import { type Digest, digestOf } from "../../oci/index.ts";
import type { Holder, MetadataStore, NewManifest } from "../types.ts";

type Scenario = (title: string, body: (store: MetadataStore) => Promise<void>) => void;

const IMAGE = "application/vnd.oci.image.manifest.v1+json";
const INDEX = "application/vnd.oci.image.index.v1+json";
const HOUR = 3_600_000;

const randomDigest = (): Digest => digestOf(randomBytes(16));
const randomDigests = (n: number): Digest[] => Array.from({ length: n }, randomDigest);

function manifest(references: readonly Digest[], mediaType = IMAGE): NewManifest {
  return { digest: randomDigest(), mediaType, size: 100, references };
}

const sorted = (digests: Iterable<string>): string[] => [...digests].sort();
const pairs = (holders: readonly Holder[]): string[] =>
  holders.map((h) => `${h.manifest} ${h.digest}`).sort();

export function releaseScenarios(scenario: Scenario): void {
  describe("holders and releasing content", () => {
    scenario("holders name the manifests that refer to digests, in a repository or in any", async (store) => {
      const [shared, onlyA, absent] = randomDigests(3) as [Digest, Digest, Digest];
      const a = manifest([shared, onlyA]);
      const b = manifest([shared]);
      const index = manifest([a.digest, b.digest], INDEX);
      await store.manifests.put("one", a);
      await store.manifests.put("one", index);
      await store.manifests.put("two", b);
      // The same manifest in a second repository is one holder, not two.
      await store.manifests.put("two", a);
      assert.deepEqual(
        pairs(await store.references.holders([shared, onlyA, absent])),
        sorted([`${a.digest} ${shared}`, `${b.digest} ${shared}`, `${a.digest} ${onlyA}`]),
      );
      assert.deepEqual(
        pairs(await store.references.holders([shared, a.digest], "one")),
        sorted([`${a.digest} ${shared}`, `${index.digest} ${a.digest}`]),
      );
      assert.deepEqual(await store.references.holders([absent]), []);
      assert.deepEqual(await store.references.holders([]), []);
    });

    scenario("holders and getMany answer for more digests than one query takes", async (store) => {
      const many = randomDigests(1200);
      const big = manifest(many);
      await store.manifests.put("big", big);
      const held = await store.references.holders([...many, ...many]);
      assert.equal(held.length, many.length);
      assert.ok(held.every((h) => h.manifest === big.digest));
      const linked = many.filter((_, i) => i % 40 === 0);
      for (const [i, digest] of linked.entries()) await store.blobs.link("big", { digest, size: i + 1 });
      await store.blobs.link("other", { digest: many[1] as Digest, size: 5 });
      const got = await store.blobs.getMany("big", many);
      assert.deepEqual(
        got.sort((x, y) => x.size - y.size),
        linked.map((digest, i) => ({ digest, size: i + 1 })),
      );
      assert.deepEqual(await store.blobs.getMany("none", many), []);
    });

    scenario(
      "unlinkUnreferenced keeps what a manifest of the repository names or a claim holds",
      async (store) => {
        const [used, free, claimed, elsewhere, unlinked] = randomDigests(5) as [
          Digest,
          Digest,
          Digest,
          Digest,
          Digest,
        ];
        for (const digest of [used, free, claimed, elsewhere])
          await store.blobs.link("app", { digest, size: 1 });
        await store.manifests.put("app", manifest([used]));
        // A manifest of another repository naming `elsewhere` does not keep app's link.
        await store.manifests.put("other", manifest([elsewhere]));
        await store.blobs.link("other", { digest: free, size: 1 });
        const claim = await store.claims.take([claimed]);
        const now = new Date();
        assert.deepEqual(
          sorted(
            await store.blobs.unlinkUnreferenced("app", [used, free, claimed, elsewhere, unlinked], now),
          ),
          sorted([free, elsewhere]),
        );
        assert.deepEqual(
          sorted((await store.blobs.getMany("app", [used, free, claimed, elsewhere])).map((b) => b.digest)),
          sorted([used, claimed]),
        );
        assert.deepEqual(await store.blobs.get("other", free), { digest: free, size: 1 }, "other links stay");
        // Once the claim has expired (or ended) it keeps nothing.
        const later = new Date(now.getTime() + 2 * HOUR);
        assert.deepEqual(await store.blobs.unlinkUnreferenced("app", [claimed], later), [claimed]);
        await store.claims.release(claim);
        assert.deepEqual(await store.blobs.unlinkUnreferenced("app", [], now), []);
      },
    );

    scenario("deleteUnreferenced deletes an index and the children only it names", async (store) => {
      const [layerA, layerB, layerC] = randomDigests(3) as [Digest, Digest, Digest];
      const a = manifest([layerA]);
      const b = manifest([layerB]);
      const c = manifest([layerC]);
      const tagged = manifest([layerC]);
      const claimed = manifest([layerC]);
      const doomed = manifest([a.digest, b.digest, c.digest, tagged.digest, claimed.digest], INDEX);
      const keeper = manifest([b.digest], INDEX);
      for (const m of [a, b, c, claimed, doomed, keeper]) await store.manifests.put("app", m);
      await store.manifests.put("app", tagged, "keep-me");
      await store.manifests.put("other", a);
      const claim = await store.claims.take([claimed.digest]);
      const now = new Date();
      // The index is named by nothing: it goes. Its children, asked for in the same call, go in
      // the next round, except the one another index names, the tagged one and the claimed one.
      const all = [doomed.digest, a.digest, b.digest, c.digest, tagged.digest, claimed.digest];
      assert.deepEqual(
        sorted(await store.manifests.deleteUnreferenced("app", all, now)),
        sorted([doomed.digest, a.digest, c.digest]),
      );
      for (const gone of [doomed, a, c])
        assert.equal(await store.manifests.get("app", gone.digest), undefined);
      for (const kept of [b, tagged, claimed, keeper])
        assert.notEqual(await store.manifests.get("app", kept.digest), undefined);
      assert.notEqual(
        await store.manifests.get("other", a.digest),
        undefined,
        "other repositories keep theirs",
      );
      assert.equal((await store.manifests.resolve("app", "keep-me"))?.digest, tagged.digest);
      // The references of the deleted manifests are gone with them: their layers are free.
      assert.deepEqual(
        pairs(await store.references.holders([layerA, layerB, layerC], "app")),
        sorted([`${b.digest} ${layerB}`, `${tagged.digest} ${layerC}`, `${claimed.digest} ${layerC}`]),
      );
      // A manifest named by another keeps it even when asked for first.
      assert.deepEqual(await store.manifests.deleteUnreferenced("app", [b.digest], now), []);
      assert.deepEqual(
        sorted(await store.manifests.deleteUnreferenced("app", [keeper.digest, b.digest], now)),
        sorted([keeper.digest, b.digest]),
      );
      await store.claims.release(claim);
      assert.deepEqual(await store.manifests.deleteUnreferenced("app", [claimed.digest], now), [
        claimed.digest,
      ]);
      assert.deepEqual(await store.manifests.deleteUnreferenced("app", [randomDigest()], now), []);
    });
  });
}
