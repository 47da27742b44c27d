// The metadata store over SQLite: the conformance suite, plus URL forms, reopening (migrations
// run once, data kept) and the pragmas the store relies on.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import SqliteDatabase from "better-sqlite3";
import { digestOf } from "../../oci/index.ts";
import { describeMetadataStore } from "../conformance/describe-metadata-store.ts";
import { type Migration, sql } from "kysely";
import { connect } from "./connect.ts";
import { createMetadataStore } from "./create-metadata-store.ts";
import { migrateSet } from "./migrate.ts";
import { migrations } from "./migrations.ts";

describeMetadataStore({
  name: "SQLite",
  async create() {
    const dir = await mkdtemp(join(tmpdir(), "strata-meta-"));
    return {
      store: await createMetadataStore(`sqlite:${join(dir, "meta.db")}`),
      leftovers: async () => (await readdir(dir)).filter((name) => name !== "meta.db"),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

describe("createMetadataStore (SQLite)", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-meta-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reopens a database with its data and without migrating again", async () => {
    const url = `sqlite:${join(dir, "reopen", "meta.db")}`;
    const digest = digestOf("m");
    const first = await createMetadataStore(url);
    await first.manifests.put("app", { digest, mediaType: "m", size: 1, references: [] }, "v1");
    await first.close();
    const second = await createMetadataStore(url);
    assert.equal((await second.manifests.resolve("app", "v1"))?.digest, digest);
    await second.close();
    const raw = new SqliteDatabase(join(dir, "reopen", "meta.db"));
    try {
      assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
      const applied = raw.prepare("select name from strata_migration order by name").all() as {
        name: string;
      }[];
      assert.deepEqual(
        applied.map((r) => r.name),
        ["0001_initial", "0002_collection"],
      );
    } finally {
      raw.close();
    }
  });

  it("keeps what manifests stored before the collection schema name", async () => {
    const url = `sqlite:${join(dir, "upgrade", "meta.db")}`;
    const { db, dialect, release } = connect<unknown>(url);
    const layer = digestOf("layer");
    const manifest = digestOf("manifest");
    try {
      await migrateSet(db, dialect, {
        name: "metadata",
        table: "strata_migration",
        migrations: (d) => ({ "0001_initial": migrations(d)["0001_initial"] as Migration }),
      });
      await sql`insert into manifests (repository, digest, media_type, size, refs, created_at)
        values ('app', ${manifest}, 'm', 1, ${JSON.stringify([layer, layer])}, 0)`.execute(db);
    } finally {
      await release();
    }
    const store = await createMetadataStore(url);
    try {
      assert.ok((await store.references.all()).has(layer));
      const removed = await store.references.removeIfUnreferenced(layer, new Date(), () =>
        Promise.resolve(true),
      );
      assert.equal(removed, false, "a layer of an existing manifest is kept after the upgrade");
      await store.manifests.delete("app", manifest);
      assert.equal(
        await store.references.removeIfUnreferenced(layer, new Date(), () => Promise.resolve(true)),
        true,
      );
    } finally {
      await store.close();
    }
  });

  it("accepts sqlite:///absolute paths and in-memory databases", async () => {
    const absolute = await createMetadataStore(`sqlite://${join(dir, "abs.db")}`);
    await absolute.blobs.link("x", { digest: digestOf("x"), size: 1 });
    await absolute.close();
    assert.ok((await readdir(dir)).includes("abs.db"));
    const memory = await createMetadataStore("sqlite::memory:");
    assert.deepEqual(await memory.repositories.list({}), []);
    await memory.close();
  });

  it("rejects unsupported URLs without echoing credentials", async () => {
    await assert.rejects(createMetadataStore("mysql://root:secret@db/x"), (error: Error) => {
      assert.match(error.message, /^Unsupported database URL "mysql:": expected sqlite:PATH or postgres:/);
      assert.ok(!error.message.includes("secret"));
      return true;
    });
    await assert.rejects(createMetadataStore("sqlite:"), /the path is missing/);
  });

  it("closing twice is harmless", async () => {
    const store = await createMetadataStore("sqlite::memory:");
    await Promise.all([store.close(), store.close()]);
    await store.close();
  });
});
