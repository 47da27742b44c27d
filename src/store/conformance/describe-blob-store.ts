// Conformance suite of BlobStore (and its optional BlobDeleter / BlobLister capabilities). Every
// backend runs it in a few lines; after each test it checks that nothing was left behind.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { digestOf } from "../../oci/index.ts";
import { type BlobInfo, type BlobStore, canDelete, canList } from "../types.ts";
import { chunked, collect, content, failing, rejectsWithCode } from "./fixtures.ts";

export interface BlobStoreHarness {
  readonly store: BlobStore;
  /** Temporary files or objects still present; must be none once a test's writes have ended. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

export function describeBlobStore(options: { name?: string; create: () => Promise<BlobStoreHarness> }): void {
  const scenario = (title: string, body: (store: BlobStore) => Promise<void>): void => {
    it(title, async () => {
      const harness = await options.create();
      try {
        await body(harness.store);
        assert.deepEqual(await harness.leftovers(), [], "the test left temporary files behind");
      } finally {
        await harness.close();
      }
    });
  };

  const listed = async (store: BlobStore): Promise<BlobInfo[]> => {
    if (!canList(store)) return [];
    const all: BlobInfo[] = [];
    // Digest and size only: the listed write time is checked by the tests that need it.
    for await (const blob of store.list()) all.push({ digest: blob.digest, size: blob.size });
    return all;
  };

  describe(`BlobStore conformance${options.name === undefined ? "" : `: ${options.name}`}`, () => {
    describe("writing", () => {
      scenario("stores bytes with an expected digest and size and reads them back", async (store) => {
        const c = content(1000);
        assert.deepEqual(await store.put({ digest: c.digest, size: c.size }, c.bytes), {
          digest: c.digest,
          size: 1000,
        });
        assert.deepEqual(await store.stat(c.digest), { digest: c.digest, size: 1000 });
        assert.deepEqual(await store.read(c.digest, 1000), c.bytes);
        assert.deepEqual(await collect(await store.open(c.digest)), c.bytes);
      });

      scenario("stores a multi-megabyte stream arriving in small chunks", async (store) => {
        const c = content(3 * 1024 * 1024 + 17);
        const blob = await store.put({ digest: c.digest, size: c.size }, chunked(c.bytes, 10_000));
        assert.deepEqual(blob, { digest: c.digest, size: c.size });
        assert.ok((await collect(await store.open(c.digest))).equals(c.bytes));
      });

      scenario(
        "computes the digest when none is expected (sha256 by default, sha512 on request)",
        async (store) => {
          const c = content(300);
          assert.deepEqual(await store.put({}, chunked(c.bytes, 7)), { digest: c.digest, size: 300 });
          const d512 = digestOf(c.bytes, "sha512");
          assert.deepEqual(await store.put({ algorithm: "sha512" }, c.bytes), { digest: d512, size: 300 });
          assert.deepEqual(await store.read(d512, 300), c.bytes);
        },
      );

      scenario("stores the empty blob", async (store) => {
        const empty = digestOf(new Uint8Array(0));
        assert.deepEqual(await store.put({ digest: empty, size: 0 }, new Uint8Array(0)), {
          digest: empty,
          size: 0,
        });
        assert.deepEqual(await store.stat(empty), { digest: empty, size: 0 });
        assert.equal((await store.read(empty, 0)).length, 0);
      });

      scenario("accepts a Uint8Array that is a view into a larger buffer", async (store) => {
        const c = content(100);
        const backing = Buffer.concat([Buffer.alloc(50, 1), c.bytes, Buffer.alloc(50, 2)]);
        const view = new Uint8Array(backing.buffer, backing.byteOffset + 50, 100);
        assert.deepEqual(await store.put({ digest: c.digest }, view), { digest: c.digest, size: 100 });
      });

      scenario("stores a blob put twice once", async (store) => {
        const c = content(500);
        await store.put({ digest: c.digest }, c.bytes);
        assert.deepEqual(await store.put({ digest: c.digest, size: c.size }, chunked(c.bytes, 100)), {
          digest: c.digest,
          size: 500,
        });
        if (canList(store)) assert.deepEqual(await listed(store), [{ digest: c.digest, size: 500 }]);
      });

      scenario("10 concurrent puts of one blob all succeed and store it once", async (store) => {
        const c = content(256 * 1024);
        const results = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.put({ digest: c.digest, size: c.size }, chunked(c.bytes, 8192)),
          ),
        );
        for (const result of results) assert.deepEqual(result, { digest: c.digest, size: c.size });
        assert.ok((await store.read(c.digest, c.size)).equals(c.bytes));
        if (canList(store)) assert.deepEqual(await listed(store), [{ digest: c.digest, size: c.size }]);
      });
    });

    describe("bad input stores nothing", () => {
      scenario("rejects a wrong digest with DIGEST_INVALID naming both digests", async (store) => {
        const c = content(100);
        const claimed = digestOf("something else");
        const error = await rejectsWithCode(
          store.put({ digest: claimed }, chunked(c.bytes, 10)),
          "DIGEST_INVALID",
        );
        assert.ok(error.message.includes(claimed) && error.message.includes(c.digest), error.message);
        assert.match(error.message, /^Cannot store blob "sha256:[a-f0-9]{64}": digest mismatch: expected /);
        assert.equal(await store.stat(claimed), undefined);
        assert.equal(await store.stat(c.digest), undefined);
        assert.deepEqual(await listed(store), []);
      });

      scenario("rejects a body shorter than the expected size with SIZE_INVALID", async (store) => {
        const c = content(100);
        await rejectsWithCode(
          store.put({ digest: c.digest, size: 101 }, c.bytes),
          "SIZE_INVALID",
          /expected 101 bytes, got 100/,
        );
        assert.equal(await store.stat(c.digest), undefined);
      });

      scenario("rejects a body longer than the expected size with SIZE_INVALID", async (store) => {
        const c = content(100);
        await rejectsWithCode(
          store.put({ digest: c.digest, size: 99 }, chunked(c.bytes, 10)),
          "SIZE_INVALID",
        );
        assert.equal(await store.stat(c.digest), undefined);
      });

      scenario("stops a body over maxSize with TOO_LARGE", async (store) => {
        const c = content(64 * 1024);
        const body = chunked(c.bytes, 1024);
        await rejectsWithCode(store.put({ maxSize: 4096 }, body), "TOO_LARGE", /limit of 4096 bytes/);
        assert.equal(await store.stat(c.digest), undefined);
        assert.equal(body.destroyed, false, "the body is left to its owner");
        assert.deepEqual(await listed(store), []);
      });

      scenario("rejects an invalid expected size before reading", async (store) => {
        const c = content(10);
        await rejectsWithCode(store.put({ size: -1 }, c.bytes), "SIZE_INVALID");
        await rejectsWithCode(store.put({ size: 1.5 }, c.bytes), "SIZE_INVALID");
        assert.equal(await store.stat(c.digest), undefined);
      });

      scenario("fails with the body's own error when the body breaks midway", async (store) => {
        const c = content(100_000);
        const reset = new Error("connection reset by peer");
        await assert.rejects(
          store.put({ digest: c.digest, size: c.size }, failing(c.bytes, 40_000, reset)),
          reset,
        );
        assert.equal(await store.stat(c.digest), undefined);
        assert.deepEqual(await listed(store), []);
      });

      scenario("fails when the body ends prematurely without an error", async (store) => {
        const c = content(1000);
        const body = new Readable({ read() {} });
        body.push(c.bytes.subarray(0, 10));
        setImmediate(() => body.destroy());
        await assert.rejects(store.put({ digest: c.digest, size: c.size }, body));
        assert.equal(await store.stat(c.digest), undefined);
      });
    });

    describe("reading", () => {
      scenario("reports unknown blobs as undefined or BLOB_UNKNOWN", async (store) => {
        const unknown = digestOf("never stored");
        assert.equal(await store.stat(unknown), undefined);
        await rejectsWithCode(store.open(unknown), "BLOB_UNKNOWN");
        await rejectsWithCode(store.read(unknown, 10), "BLOB_UNKNOWN");
      });

      scenario("serves inclusive byte ranges", async (store) => {
        const c = content(1000);
        await store.put({ digest: c.digest }, c.bytes);
        assert.deepEqual(
          await collect(await store.open(c.digest, { start: 0, end: 0 })),
          c.bytes.subarray(0, 1),
        );
        assert.deepEqual(
          await collect(await store.open(c.digest, { start: 10, end: 19 })),
          c.bytes.subarray(10, 20),
        );
        assert.deepEqual(
          await collect(await store.open(c.digest, { start: 999, end: 999 })),
          c.bytes.subarray(999),
        );
        assert.deepEqual(await collect(await store.open(c.digest, { start: 0, end: 999 })), c.bytes);
      });

      scenario("rejects ranges outside the blob with RANGE_INVALID", async (store) => {
        const c = content(100);
        await store.put({ digest: c.digest }, c.bytes);
        await rejectsWithCode(
          store.open(c.digest, { start: 0, end: 100 }),
          "RANGE_INVALID",
          /outside its 100 bytes/,
        );
        await rejectsWithCode(store.open(c.digest, { start: 50, end: 40 }), "RANGE_INVALID");
        await rejectsWithCode(store.open(c.digest, { start: -1, end: 5 }), "RANGE_INVALID");
      });

      scenario("refuses to read a blob larger than maxSize whole", async (store) => {
        const c = content(100);
        await store.put({ digest: c.digest }, c.bytes);
        await rejectsWithCode(store.read(c.digest, 99), "TOO_LARGE", /100 bytes, more than the limit of 99/);
      });
    });

    describe("optional capabilities", () => {
      scenario("deletes a blob (BlobDeleter)", async (store) => {
        if (!canDelete(store)) return;
        const c = content(10);
        await store.put({ digest: c.digest }, c.bytes);
        assert.equal(await store.delete(c.digest), true);
        assert.equal(await store.stat(c.digest), undefined);
        assert.equal(await store.delete(c.digest), false);
        await rejectsWithCode(store.open(c.digest), "BLOB_UNKNOWN");
        await store.put({ digest: c.digest }, c.bytes);
        assert.deepEqual(await store.stat(c.digest), { digest: c.digest, size: 10 });
      });

      scenario("lists every stored blob once (BlobLister)", async (store) => {
        if (!canList(store)) return;
        const blobs = [content(1), content(2), content(3)];
        for (const c of blobs) await store.put({}, c.bytes);
        const d512 = (await store.put({ algorithm: "sha512" }, blobs[0]?.bytes ?? Buffer.alloc(0))).digest;
        const all = (await listed(store)).map((b) => `${b.digest} ${b.size}`).sort();
        const want = [...blobs.map((c) => `${c.digest} ${c.size}`), `${d512} 1`].sort();
        assert.deepEqual(all, want);
      });
    });
  });
}
