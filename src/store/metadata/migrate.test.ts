// Migration sets on SQLite: pending migrations apply in one transaction, so a failing one leaves
// the schema as it was, and a later start applies the whole set.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import SqliteDatabase from "better-sqlite3";
import type { Kysely, Migration } from "kysely";
import { connect } from "./connect.ts";
import { migrateSet, type MigrationSet } from "./migrate.ts";

function createTable(name: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable(name).addColumn("id", "text").execute();
    },
  };
}

function tables(path: string): string[] {
  const raw = new SqliteDatabase(path, { readonly: true });
  try {
    const rows = raw.prepare("select name from sqlite_master where type = 'table' order by name").all();
    return (rows as { name: string }[]).map((r) => r.name);
  } finally {
    raw.close();
  }
}

describe("migrateSet (SQLite)", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-migrate-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("applies nothing of a set whose migration fails, and all of it once fixed", async () => {
    const path = join(dir, "meta.db");
    const broken: MigrationSet = {
      name: "test",
      table: "test_migration",
      migrations: () => ({
        "0001_a": createTable("a"),
        "0002_b": {
          async up(db: Kysely<unknown>) {
            await db.schema.createTable("b").addColumn("id", "text").execute();
            throw new Error("disk on fire");
          },
        },
      }),
    };
    const first = connect(`sqlite:${path}`);
    await assert.rejects(migrateSet(first.db, first.dialect, broken), (error: Error) => {
      assert.match(error.message, /^Cannot migrate the test database: migration "0002_b" failed/);
      return true;
    });
    await first.release();
    assert.deepEqual(tables(path), []);

    const fixed: MigrationSet = {
      ...broken,
      migrations: () => ({ "0001_a": createTable("a"), "0002_b": createTable("b") }),
    };
    const second = connect(`sqlite:${path}`);
    await migrateSet(second.db, second.dialect, fixed);
    // Current now: a second open finds nothing to do.
    await migrateSet(second.db, second.dialect, fixed);
    await second.release();
    assert.deepEqual(tables(path), ["a", "b", "test_migration", "test_migration_lock"]);
  });
});
