// Suite of UploadStore, run over each metadata backend. After each test it checks that nothing
// was left behind: no upload files, no temporary files, no session rows.
import assert from "node:assert/strict";
import { rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type Digest, digestOf } from "../../oci/index.ts";
import type { BlobStore, MetadataStore, UploadSession, UploadStore } from "../types.ts";
import { chunked, content, failing, rejectsWithCode } from "./fixtures.ts";

export interface UploadStoreHarness {
  readonly uploads: UploadStore;
  readonly blobs: BlobStore;
  readonly meta: MetadataStore;
  /** The data directory (uploads in `<root>/uploads`). */
  readonly root: string;
  /**
   * A new upload store (real clock) over a new metadata store on the same root and database, as
   * after a restart or on another node.
   */
  restart(): Promise<UploadStore>;
  /** Upload files (`uploads/<id>`), temporary files (`tmp/<name>`) and session rows still present. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

export interface UploadStoreSuiteOptions {
  readonly name?: string;
  create(options: { clock?: () => Date }): Promise<UploadStoreHarness>;
}

const REPO = "library/app";

export function describeUploadStore(options: UploadStoreSuiteOptions): void {
  const scenario = (
    title: string,
    body: (h: UploadStoreHarness) => Promise<void>,
    createOptions: { clock?: () => Date } = {},
  ): void => {
    it(title, async () => {
      const harness = await options.create(createOptions);
      try {
        await body(harness);
        assert.deepEqual(await harness.leftovers(), [], "the test left upload state behind");
      } finally {
        await harness.close();
      }
    });
  };

  /** Appends the content in `parts` chunks through the public API. */
  const appendAll = async (uploads: UploadStore, session: UploadSession, bytes: Buffer, parts: number) => {
    let current = session;
    const step = Math.ceil(bytes.length / parts);
    for (let i = 0; i < bytes.length; i += step) {
      const piece = bytes.subarray(i, i + step);
      current = await uploads.append(current, chunked(piece, 4096), { offset: i, length: piece.length });
      assert.equal(current.offset, i + piece.length);
    }
    return current;
  };

  const absent = async (h: UploadStoreHarness, ...digests: Digest[]) => {
    for (const digest of digests)
      assert.equal(await h.blobs.stat(digest), undefined, `${digest} must not be stored`);
  };

  describe(`UploadStore${options.name === undefined ? "" : `: ${options.name}`}`, () => {
    describe("sessions", () => {
      scenario("create and get a session in its repository only", async ({ uploads }) => {
        const session = await uploads.create(REPO);
        assert.equal(session.repository, REPO);
        assert.equal(session.offset, 0);
        assert.deepEqual(await uploads.get(REPO, session.id), session);
        assert.equal(await uploads.get("other/repo", session.id), undefined);
        assert.equal(await uploads.get(REPO, "00000000-0000-4000-8000-000000000000"), undefined);
        assert.equal(await uploads.get(REPO, "../../etc/passwd"), undefined);
        await uploads.cancel(session);
        assert.equal(await uploads.get(REPO, session.id), undefined);
      });

      scenario("cancel ends the session; later appends and commits find it unknown", async ({ uploads }) => {
        const c = content(10);
        const session = await uploads.append(await uploads.create(REPO), c.bytes);
        await uploads.cancel(session);
        await uploads.cancel(session);
        await rejectsWithCode(uploads.append(session, c.bytes), "UPLOAD_UNKNOWN", /unknown or has expired/);
        await rejectsWithCode(uploads.commit(session, { digest: c.digest }), "UPLOAD_UNKNOWN");
      });

      scenario("a session object naming another repository is refused", async ({ uploads }) => {
        const session = await uploads.create(REPO);
        await rejectsWithCode(
          uploads.append({ ...session, repository: "other" }, Buffer.from("x")),
          "UPLOAD_UNKNOWN",
        );
        await uploads.cancel(session);
      });
    });

    describe("commit", () => {
      scenario("appends chunks and commits them into the pool, linked to the repository", async (h) => {
        const c = content(1024 * 1024 + 3);
        const session = await appendAll(h.uploads, await h.uploads.create(REPO), c.bytes, 4);
        assert.equal((await h.uploads.get(REPO, session.id))?.offset, c.size);
        assert.equal(await h.meta.blobs.get(REPO, c.digest), undefined);
        assert.deepEqual(await h.uploads.commit(session, { digest: c.digest, size: c.size }), {
          digest: c.digest,
          size: c.size,
        });
        assert.ok((await h.blobs.read(c.digest, c.size)).equals(c.bytes));
        assert.deepEqual(await h.meta.blobs.get(REPO, c.digest), { digest: c.digest, size: c.size });
        assert.equal(await h.uploads.get(REPO, session.id), undefined);
      });

      scenario("commits with a last body, or with the whole body at once", async (h) => {
        const c = content(5000);
        const session = await h.uploads.append(await h.uploads.create(REPO), c.bytes.subarray(0, 2000));
        assert.deepEqual(
          await h.uploads.commit(session, { digest: c.digest }, chunked(c.bytes.subarray(2000), 999)),
          {
            digest: c.digest,
            size: 5000,
          },
        );
        const d = content(70);
        assert.deepEqual(
          await h.uploads.commit(await h.uploads.create(REPO), { digest: d.digest }, d.bytes),
          {
            digest: d.digest,
            size: 70,
          },
        );
        assert.ok((await h.blobs.read(c.digest, 5000)).equals(c.bytes));
      });

      scenario("commits an empty upload", async (h) => {
        const empty = digestOf(new Uint8Array(0));
        assert.deepEqual(await h.uploads.commit(await h.uploads.create(REPO), { digest: empty, size: 0 }), {
          digest: empty,
          size: 0,
        });
      });

      scenario("commits with sha512 (hashing the file again)", async (h) => {
        const c = content(3000);
        const d512 = digestOf(c.bytes, "sha512");
        const session = await appendAll(h.uploads, await h.uploads.create(REPO), c.bytes, 3);
        assert.deepEqual(await h.uploads.commit(session, { digest: d512 }), { digest: d512, size: 3000 });
        assert.ok((await h.blobs.read(d512, 3000)).equals(c.bytes));
      });

      scenario("commits a blob the pool already has (stored once)", async (h) => {
        const c = content(4000);
        await h.blobs.put({ digest: c.digest }, c.bytes);
        const session = await h.uploads.append(await h.uploads.create(REPO), c.bytes);
        assert.deepEqual(await h.uploads.commit(session, { digest: c.digest }), {
          digest: c.digest,
          size: 4000,
        });
        assert.ok((await h.blobs.read(c.digest, 4000)).equals(c.bytes));
      });
    });

    describe("bad input stores nothing", () => {
      scenario("a wrong digest ends the session with DIGEST_INVALID", async (h) => {
        const c = content(2000);
        const claimed = digestOf("not these bytes");
        const session = await appendAll(h.uploads, await h.uploads.create(REPO), c.bytes, 2);
        const error = await rejectsWithCode(h.uploads.commit(session, { digest: claimed }), "DIGEST_INVALID");
        assert.equal(
          error.message,
          `Cannot commit upload "${session.id}": digest mismatch: expected ${claimed}, got ${c.digest}`,
        );
        assert.equal(await h.uploads.get(REPO, session.id), undefined);
        await absent(h, claimed, c.digest);
      });

      scenario("a wrong size ends the session with SIZE_INVALID", async (h) => {
        const c = content(100);
        const session = await h.uploads.append(await h.uploads.create(REPO), c.bytes);
        await rejectsWithCode(
          h.uploads.commit(session, { digest: c.digest, size: 99 }),
          "SIZE_INVALID",
          /expected 99 bytes, got 100/,
        );
        assert.equal(await h.uploads.get(REPO, session.id), undefined);
        await absent(h, c.digest);
      });

      scenario("an upload over maxSize at commit fails with TOO_LARGE", async (h) => {
        const c = content(100);
        const session = await h.uploads.append(await h.uploads.create(REPO), c.bytes);
        await rejectsWithCode(h.uploads.commit(session, { digest: c.digest, maxSize: 50 }), "TOO_LARGE");
        await absent(h, c.digest);
      });

      scenario("a chunk at the wrong offset fails with RANGE_INVALID and changes nothing", async (h) => {
        const c = content(200);
        const session = await h.uploads.append(await h.uploads.create(REPO), c.bytes.subarray(0, 100));
        await rejectsWithCode(
          h.uploads.append(session, c.bytes.subarray(100), { offset: 50 }),
          "RANGE_INVALID",
          /offset 50 does not match the 100 bytes received/,
        );
        await rejectsWithCode(
          h.uploads.append({ ...session, offset: 0 }, c.bytes.subarray(100)),
          "RANGE_INVALID",
        );
        assert.equal((await h.uploads.get(REPO, session.id))?.offset, 100);
        const done = await h.uploads.append(session, c.bytes.subarray(100), { offset: 100 });
        assert.deepEqual(await h.uploads.commit(done, { digest: c.digest }), { digest: c.digest, size: 200 });
      });

      scenario("a chunk shorter or longer than its announced length leaves no partial bytes", async (h) => {
        const c = content(3000);
        let session = await h.uploads.append(await h.uploads.create(REPO), c.bytes.subarray(0, 1000));
        await rejectsWithCode(
          h.uploads.append(session, c.bytes.subarray(1000, 1500), { length: 1000 }),
          "SIZE_INVALID",
          /chunk size mismatch: expected 1000 bytes, got 500/,
        );
        await rejectsWithCode(
          h.uploads.append(session, chunked(c.bytes.subarray(1000), 100), { length: 1000 }),
          "SIZE_INVALID",
          /larger than the expected 1000 bytes/,
        );
        assert.equal((await h.uploads.get(REPO, session.id))?.offset, 1000);
        session = await h.uploads.append(session, c.bytes.subarray(1000), { length: 2000 });
        assert.deepEqual(await h.uploads.commit(session, { digest: c.digest }), {
          digest: c.digest,
          size: 3000,
        });
      });

      scenario(
        "a chunk taking the upload over maxSize fails with TOO_LARGE and leaves the body",
        async (h) => {
          const c = content(64 * 1024);
          const session = await h.uploads.append(await h.uploads.create(REPO), c.bytes.subarray(0, 1000));
          const body = chunked(c.bytes.subarray(1000), 1024);
          await rejectsWithCode(
            h.uploads.append(session, body, { maxSize: 8192 }),
            "TOO_LARGE",
            /limit of 8192 bytes/,
          );
          assert.equal(body.destroyed, false, "the body is left to its owner");
          assert.equal((await h.uploads.get(REPO, session.id))?.offset, 1000);
          const empty = await h.uploads.commit(session, { digest: digestOf(c.bytes.subarray(0, 1000)) });
          assert.equal(empty.size, 1000);
        },
      );

      scenario("a body that breaks midway fails with its error; the upload continues", async (h) => {
        const c = content(100_000);
        const session = await h.uploads.append(await h.uploads.create(REPO), c.bytes.subarray(0, 10_000));
        const reset = new Error("connection reset by peer");
        await assert.rejects(
          h.uploads.append(session, failing(c.bytes.subarray(10_000), 30_000, reset)),
          reset,
        );
        assert.equal((await h.uploads.get(REPO, session.id))?.offset, 10_000);
        const done = await h.uploads.append(session, chunked(c.bytes.subarray(10_000)));
        assert.deepEqual(await h.uploads.commit(done, { digest: c.digest, size: c.size }), {
          digest: c.digest,
          size: c.size,
        });
      });

      scenario("a last body that breaks at commit stores nothing", async (h) => {
        const c = content(50_000);
        const session = await h.uploads.create(REPO);
        await assert.rejects(
          h.uploads.commit(session, { digest: c.digest }, failing(c.bytes, 20_000)),
          /connection reset/,
        );
        await absent(h, c.digest);
        assert.equal((await h.uploads.get(REPO, session.id))?.offset, 0);
        await h.uploads.cancel(session);
      });

      scenario("invalid chunk options are refused", async (h) => {
        const session = await h.uploads.create(REPO);
        await rejectsWithCode(h.uploads.append(session, Buffer.from("x"), { length: -1 }), "SIZE_INVALID");
        await rejectsWithCode(h.uploads.append(session, Buffer.from("x"), { maxSize: 1.5 }), "SIZE_INVALID");
        await h.uploads.cancel(session);
      });
    });

    describe("restarts and concurrency", () => {
      scenario("an upload survives a restart: continue appending and commit", async (h) => {
        const c = content(200_000);
        const before = await appendAll(
          h.uploads,
          await h.uploads.create(REPO),
          c.bytes.subarray(0, 120_000),
          2,
        );
        const restarted = await h.restart();
        const found = await restarted.get(REPO, before.id);
        assert.equal(found?.offset, 120_000);
        assert.ok(found !== undefined);
        const after = await restarted.append(found, chunked(c.bytes.subarray(120_000)), { offset: 120_000 });
        assert.deepEqual(await restarted.commit(after, { digest: c.digest, size: c.size }), {
          digest: c.digest,
          size: c.size,
        });
        assert.ok((await h.blobs.read(c.digest, c.size)).equals(c.bytes));
      });

      scenario("an upload appended elsewhere is hashed from disk at commit", async (h) => {
        const c = content(30_000);
        const first = await h.uploads.append(await h.uploads.create(REPO), c.bytes.subarray(0, 10_000));
        const other = await h.restart();
        const second = await other.append(first, c.bytes.subarray(10_000, 20_000));
        const third = await h.uploads.append(second, c.bytes.subarray(20_000));
        assert.deepEqual(await h.uploads.commit(third, { digest: c.digest }), {
          digest: c.digest,
          size: 30_000,
        });
      });

      scenario("concurrent chunks at one offset: one wins, the other gets RANGE_INVALID", async (h) => {
        const a = content(5000);
        const b = content(5000);
        const session = await h.uploads.create(REPO);
        const results = await Promise.allSettled([
          h.uploads.append(session, a.bytes),
          h.uploads.append(session, b.bytes),
        ]);
        const won = results.filter((r) => r.status === "fulfilled");
        assert.equal(won.length, 1);
        const lost = results.find((r) => r.status === "rejected");
        assert.equal((lost?.reason as { code?: string } | undefined)?.code, "RANGE_INVALID");
        const winner = results[0]?.status === "fulfilled" ? a : b;
        assert.deepEqual(await h.uploads.commit(session, { digest: winner.digest }), {
          digest: winner.digest,
          size: 5000,
        });
      });
    });

    describe("expiry", () => {
      const hourAgo = Date.now() - 3600_000;
      scenario(
        "expire removes sessions not touched since the cutoff, and old orphan files",
        async (h) => {
          const stale = await h.uploads.append(await h.uploads.create(REPO), Buffer.from("stale"));
          const freshStore = await h.restart();
          const fresh = await freshStore.create(REPO);
          const orphan = join(h.root, "uploads", "11111111-2222-4333-8444-555555555555");
          const newOrphan = join(h.root, "uploads", "66666666-2222-4333-8444-555555555555");
          await writeFile(orphan, "left by a crash");
          await writeFile(newOrphan, "file of a session being created");
          await utimes(orphan, new Date(hourAgo), new Date(hourAgo));
          const cutoff = new Date(Date.now() - 60_000);
          assert.equal(await h.uploads.expire(cutoff), 1);
          assert.equal(await h.uploads.get(REPO, stale.id), undefined);
          await rejectsWithCode(h.uploads.append(stale, Buffer.from("more")), "UPLOAD_UNKNOWN");
          assert.notEqual(await h.uploads.get(REPO, fresh.id), undefined);
          assert.deepEqual(
            (await h.leftovers())
              .filter((l) => l.includes("uploads"))
              .map((l) => l.slice(-36))
              .sort(),
            [fresh.id, newOrphan.slice(-36)].sort(),
          );
          assert.equal(await h.uploads.expire(cutoff), 0);
          await freshStore.cancel(fresh);
          await rm(newOrphan);
        },
        { clock: () => new Date(hourAgo) },
      );
    });
  });
}
