// Schema migrations, applied in name order. One schema serves both backends; the only dialect
// difference is that PostgreSQL key columns use the "C" collation, so that names sort and
// compare by bytes (as SQLite's default BINARY collation does) whatever the server's locale.
import { type Kysely, type Migration, sql } from "kysely";
import type { Dialect } from "./schema.ts";

export function migrations(dialect: Dialect): Record<string, Migration> {
  const key = dialect === "postgres" ? sql`text collate "C"` : sql`text`;
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("repositories")
          .addColumn("name", key, (c) => c.primaryKey())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("blob_links")
          .addColumn("repository", key, (c) => c.notNull())
          .addColumn("digest", key, (c) => c.notNull())
          .addColumn("size", "bigint", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("blob_links_pk", ["repository", "digest"])
          .execute();
        await db.schema.createIndex("blob_links_digest").on("blob_links").column("digest").execute();

        await db.schema
          .createTable("manifests")
          .addColumn("repository", key, (c) => c.notNull())
          .addColumn("digest", key, (c) => c.notNull())
          .addColumn("media_type", "text", (c) => c.notNull())
          .addColumn("size", "bigint", (c) => c.notNull())
          .addColumn("artifact_type", "text")
          .addColumn("subject", key)
          .addColumn("annotations", "text")
          .addColumn("refs", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("manifests_pk", ["repository", "digest"])
          .execute();
        await db.schema
          .createIndex("manifests_subject")
          .on("manifests")
          .columns(["repository", "subject"])
          .execute();

        await db.schema
          .createTable("tags")
          .addColumn("repository", key, (c) => c.notNull())
          .addColumn("name", key, (c) => c.notNull())
          .addColumn("digest", key, (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("tags_pk", ["repository", "name"])
          .execute();
        await db.schema.createIndex("tags_digest").on("tags").columns(["repository", "digest"]).execute();

        await db.schema
          .createTable("uploads")
          .addColumn("id", key, (c) => c.primaryKey())
          .addColumn("repository", key, (c) => c.notNull())
          .addColumn("offset", "bigint", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("uploads_updated_at").on("uploads").column("updated_at").execute();
      },
    },

    // Garbage collection checks one digest at a time, inside the lock commits take: whether a
    // link, a manifest, a manifest's reference or a claim names it. Each is one indexed query.
    "0002_collection": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.createIndex("manifests_digest").on("manifests").column("digest").execute();

        await db.schema
          .createTable("manifest_refs")
          .addColumn("repository", key, (c) => c.notNull())
          .addColumn("manifest", key, (c) => c.notNull())
          .addColumn("digest", key, (c) => c.notNull())
          .addPrimaryKeyConstraint("manifest_refs_pk", ["repository", "manifest", "digest"])
          .execute();
        await db.schema.createIndex("manifest_refs_digest").on("manifest_refs").column("digest").execute();
        const { rows } = await sql<{ repository: string; digest: string; refs: string }>`
          select repository, digest, refs from manifests`.execute(db);
        for (const row of rows) {
          for (const ref of new Set(JSON.parse(row.refs) as string[])) {
            await sql`insert into manifest_refs (repository, manifest, digest)
              values (${row.repository}, ${row.digest}, ${ref})`.execute(db);
          }
        }

        await db.schema
          .createTable("blob_claims")
          .addColumn("id", key, (c) => c.notNull())
          .addColumn("digest", key, (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("blob_claims_pk", ["id", "digest"])
          .execute();
        await db.schema.createIndex("blob_claims_digest").on("blob_claims").column("digest").execute();
      },
    },
  };
}
