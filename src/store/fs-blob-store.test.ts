// The filesystem blob pool: the conformance suite, plus its layout, atomic visibility, adoption
// of verified files and the sweep of stale temporary files.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { digestHex } from "../oci/index.ts";
import { content, rejectsWithCode } from "./conformance/fixtures.ts";
import { describeBlobStore } from "./conformance/describe-blob-store.ts";
import { createFsBlobStore } from "./fs-blob-store.ts";

async function files(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

/** Waits for a condition the code under test reaches asynchronously (no fixed sleep). */
async function until(condition: () => Promise<boolean>, limit = 5000): Promise<void> {
  const deadline = Date.now() + limit;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("Condition not reached");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describeBlobStore({
  name: "filesystem",
  async create() {
    const root = await mkdtemp(join(tmpdir(), "strata-blobs-"));
    return {
      store: createFsBlobStore({ root }),
      leftovers: () => files(join(root, "tmp")),
      close: () => rm(root, { recursive: true, force: true }),
    };
  },
});

describe("createFsBlobStore", () => {
  let root = "";
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "strata-blobs-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("keeps a blob at blobs/<alg>/<first two hex>/<hex>", async () => {
    const store = createFsBlobStore({ root });
    const c = content(42);
    await store.put({ digest: c.digest }, c.bytes);
    const hex = digestHex(c.digest);
    assert.equal((await stat(join(root, "blobs", "sha256", hex.slice(0, 2), hex))).size, 42);
    assert.deepEqual(await files(join(root, "tmp")), []);
  });

  it("shows a blob only once it is complete and verified", async () => {
    const store = createFsBlobStore({ root });
    const c = content(100_000);
    const body = new PassThrough();
    const put = store.put({ digest: c.digest, size: c.size }, body);
    body.write(c.bytes.subarray(0, 50_000));
    await until(async () => (await files(join(root, "tmp"))).length === 1);
    assert.equal(await store.stat(c.digest), undefined, "half a blob is not visible");
    body.end(c.bytes.subarray(50_000));
    await put;
    assert.deepEqual(await store.stat(c.digest), { digest: c.digest, size: c.size });
    assert.deepEqual(await files(join(root, "tmp")), []);
  });

  it("adopts a verified file by rename, or drops it when the blob exists", async () => {
    const store = createFsBlobStore({ root });
    const c = content(300);
    const first = join(root, "first");
    const second = join(root, "second");
    await writeFile(first, c.bytes);
    await writeFile(second, c.bytes);
    await store.adopt(first, { digest: c.digest, size: c.size });
    await store.adopt(second, { digest: c.digest, size: c.size });
    await assert.rejects(stat(first), { code: "ENOENT" });
    await assert.rejects(stat(second), { code: "ENOENT" });
    assert.deepEqual(await store.read(c.digest, 300), c.bytes);
  });

  it("sweeps temporary files older than the cutoff and keeps newer ones", async () => {
    const store = createFsBlobStore({ root });
    await mkdir(join(root, "tmp"), { recursive: true });
    const stale = join(root, "tmp", "stale");
    const fresh = join(root, "tmp", "fresh");
    await writeFile(stale, "crashed write");
    await writeFile(fresh, "write in progress");
    const hourAgo = new Date(Date.now() - 3600_000);
    await utimes(stale, hourAgo, hourAgo);
    assert.equal(await store.sweepTemp(new Date(Date.now() - 60_000)), 1);
    assert.deepEqual(await files(join(root, "tmp")), [fresh]);
    await rm(fresh);
  });

  it("lists only well-formed blob paths", async () => {
    const dir = await mkdtemp(join(tmpdir(), "strata-blobs-"));
    try {
      const store = createFsBlobStore({ root: dir });
      const c = content(5);
      await store.put({}, c.bytes);
      const hex = digestHex(c.digest);
      await writeFile(join(dir, "blobs", "sha256", hex.slice(0, 2), "not-a-digest"), "x");
      await mkdir(join(dir, "blobs", "md5"), { recursive: true });
      const listed = [];
      for await (const blob of store.list()) listed.push(blob);
      assert.deepEqual(
        listed.map((b) => ({ digest: b.digest, size: b.size })),
        [{ digest: c.digest, size: 5 }],
      );
      assert.ok(listed.every((b) => b.modifiedAt instanceof Date));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("translates verification failures into StoreError with the cause kept", async () => {
    const store = createFsBlobStore({ root });
    const c = content(10);
    const error = await rejectsWithCode(
      store.put({ size: 3 }, c.bytes),
      "SIZE_INVALID",
      /^Cannot store blob: /,
    );
    assert.equal((error.cause as Error).name, "OciFormatError");
  });
});
