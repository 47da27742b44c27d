import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sql } from "kysely";
import { connectDatabase, migrateSet } from "../../store/index.ts";
import { galleryMigrations } from "./migrations.ts";

describe("gallery migrations", () => {
  it("0005 records when versions restored before it were last restored, from the audit log", async () => {
    const dir = await mkdtemp(join(tmpdir(), "strata-gallery-migrations-"));
    const { db, dialect, release } = connectDatabase<Record<string, never>>(`sqlite:${join(dir, "g.db")}`);
    try {
      /** The migrations up to `upTo` (by name). */
      const set = (upTo: string) => ({
        name: "gallery",
        table: "gallery_migration",
        migrations: (d: typeof dialect) =>
          Object.fromEntries(Object.entries(galleryMigrations(d)).filter(([name]) => name <= upTo)),
      });
      // A database as the migrations before 0005 left it, with a restore in its audit log.
      await migrateSet(db, dialect, set("0004_~"));
      for (const version of ["1.0.0", "2.0.0"]) {
        await sql`insert into gallery_versions (gallery, image, version, major, minor, patch, digest,
          media_type, metadata, state, exclude_from_latest, approvals, created_at, published_by)
          values ('g', 'web', ${version}, 1, 0, 0, 'sha256:x', 'm', '{}', 'published', 0, '[]', 1, 'a')`.execute(
          db,
        );
      }
      for (const [version, at] of [
        ["1.0.0", 500],
        ["1.0.0", 700],
        ["2.0.0", 900],
      ] as const) {
        await sql`insert into gallery_audit (at, actor, action, gallery, image, version)
          values (${at}, 'a', ${version === "2.0.0" ? "version.deleted" : "version.restored"}, 'g', 'web', ${version})`.execute(
          db,
        );
      }
      await migrateSet(db, dialect, set("9999"));
      const { rows } = await sql<{
        version: string;
        restored_at: number | null;
      }>`select version, restored_at from gallery_versions order by version`.execute(db);
      assert.deepEqual(
        rows.map((r) => [r.version, r.restored_at === null ? null : Number(r.restored_at)]),
        [
          ["1.0.0", 700],
          ["2.0.0", null],
        ],
      );
    } finally {
      await release();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
