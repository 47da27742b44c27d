// Upload sessions over the filesystem and SQLite: the upload suite, plus the on-disk layout.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { describeUploadStore } from "./conformance/describe-upload-store.ts";
import { content } from "./conformance/fixtures.ts";
import { uploadHarness } from "./conformance/upload-harness.ts";

async function sqliteHarness(options: { clock?: () => Date } = {}) {
  const root = await mkdtemp(join(tmpdir(), "strata-uploads-"));
  const dbDir = await mkdtemp(join(tmpdir(), "strata-meta-"));
  return uploadHarness(root, `sqlite:${join(dbDir, "meta.db")}`, {
    ...options,
    dispose: () => rm(dbDir, { recursive: true, force: true }),
  });
}

describeUploadStore({ name: "filesystem + SQLite", create: sqliteHarness });

describe("createUploadStore", () => {
  it("keeps an upload's bytes in uploads/<id> and moves them into the pool on commit", async () => {
    const h = await sqliteHarness();
    try {
      const c = content(1234);
      const session = await h.uploads.append(await h.uploads.create("app"), c.bytes);
      assert.equal((await stat(join(h.root, "uploads", session.id))).size, 1234);
      await h.uploads.commit(session, { digest: c.digest });
      assert.deepEqual(await readdir(join(h.root, "uploads")), []);
      assert.deepEqual(await h.blobs.stat(c.digest), { digest: c.digest, size: 1234 });
    } finally {
      await h.close();
    }
  });
});
