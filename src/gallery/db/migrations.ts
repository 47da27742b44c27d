// The gallery's schema migrations, applied in name order with their own bookkeeping table
// (gallery_migration). As in the registry's schema, PostgreSQL key columns use the "C"
// collation so names compare by bytes on both backends.
import { type Kysely, type Migration, sql } from "kysely";
import type { Dialect } from "../../store/index.ts";

export function galleryMigrations(dialect: Dialect): Record<string, Migration> {
  const key = dialect === "postgres" ? sql`text collate "C"` : sql`text`;
  const autoId = dialect === "postgres" ? sql`bigserial` : sql`integer`;
  return {
    "0001_gallery": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("gallery_galleries")
          .addColumn("name", key, (c) => c.primaryKey())
          .addColumn("description", "text", (c) => c.notNull())
          .addColumn("mode", "text", (c) => c.notNull())
          .addColumn("approvals", "integer", (c) => c.notNull())
          .addColumn("restore_days", "integer", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("gallery_members")
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("user_name", key, (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("gallery_members_pk", ["gallery", "user_name"])
          .execute();
        await db.schema
          .createTable("gallery_images")
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("name", key, (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("metadata", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("gallery_images_pk", ["gallery", "name"])
          .execute();
        await db.schema
          .createTable("gallery_versions")
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("image", key, (c) => c.notNull())
          .addColumn("version", key, (c) => c.notNull())
          .addColumn("major", "bigint", (c) => c.notNull())
          .addColumn("minor", "bigint", (c) => c.notNull())
          .addColumn("patch", "bigint", (c) => c.notNull())
          .addColumn("digest", key, (c) => c.notNull())
          .addColumn("media_type", "text", (c) => c.notNull())
          .addColumn("metadata", "text", (c) => c.notNull())
          .addColumn("base_digest", key)
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("eol", "bigint")
          .addColumn("exclude_from_latest", "integer", (c) => c.notNull())
          .addColumn("approvals", "text", (c) => c.notNull())
          .addColumn("deprecation", "text")
          .addColumn("revoke_reason", "text")
          .addColumn("revoke_at", "bigint")
          .addColumn("revoked_by", "text")
          .addColumn("deleted_at", "bigint")
          .addColumn("deleted_by", "text")
          .addColumn("state_before_delete", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("published_by", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("gallery_versions_pk", ["gallery", "image", "version"])
          .execute();
        await db.schema
          .createIndex("gallery_versions_digest")
          .on("gallery_versions")
          .column("digest")
          .execute();
        await db.schema
          .createIndex("gallery_versions_base")
          .on("gallery_versions")
          .column("base_digest")
          .execute();
        await db.schema
          .createTable("gallery_channels")
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("image", key, (c) => c.notNull())
          .addColumn("name", key, (c) => c.notNull())
          .addColumn("version", key)
          .addColumn("restricted", "integer", (c) => c.notNull())
          .addColumn("approvals", "integer", (c) => c.notNull())
          .addColumn("seq", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("updated_by", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("gallery_channels_pk", ["gallery", "image", "name"])
          .execute();
        await db.schema
          .createTable("gallery_channel_history")
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("image", key, (c) => c.notNull())
          .addColumn("channel", key, (c) => c.notNull())
          .addColumn("seq", "bigint", (c) => c.notNull())
          .addColumn("version", key)
          .addColumn("previous", key)
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("request", "text")
          .addPrimaryKeyConstraint("gallery_channel_history_pk", ["gallery", "image", "channel", "seq"])
          .execute();
        await db.schema
          .createTable("gallery_requests")
          .addColumn("id", key, (c) => c.primaryKey())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("image", key, (c) => c.notNull())
          .addColumn("version", key, (c) => c.notNull())
          .addColumn("target_gallery", key, (c) => c.notNull())
          .addColumn("target_image", key, (c) => c.notNull())
          .addColumn("target_channel", key)
          .addColumn("requested_by", "text", (c) => c.notNull())
          .addColumn("requested_at", "bigint", (c) => c.notNull())
          .addColumn("required", "integer", (c) => c.notNull())
          .addColumn("approvals", "text", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("revision", "integer", (c) => c.notNull())
          .addColumn("decided_by", "text")
          .addColumn("decided_at", "bigint")
          .addColumn("reason", "text")
          .execute();
        await db.schema
          .createTable("gallery_audit")
          .addColumn("id", autoId, (c) => c.primaryKey())
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("image", key)
          .addColumn("version", key)
          .addColumn("target", "text")
          .addColumn("before", "text")
          .addColumn("after", "text")
          .execute();
        await db.schema
          .createIndex("gallery_audit_gallery")
          .on("gallery_audit")
          .columns(["gallery", "id"])
          .execute();
        await db.schema
          .createTable("gallery_deliveries")
          .addColumn("id", key, (c) => c.primaryKey())
          .addColumn("webhook", "text", (c) => c.notNull())
          .addColumn("event", "text", (c) => c.notNull())
          .addColumn("payload", "text", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull())
          .addColumn("next_at", "bigint", (c) => c.notNull())
          .addColumn("claimed_until", "bigint", (c) => c.notNull())
          .addColumn("last_status", "integer")
          .addColumn("last_error", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("delivered_at", "bigint")
          .execute();
        await db.schema
          .createIndex("gallery_deliveries_due")
          .on("gallery_deliveries")
          .columns(["state", "next_at"])
          .execute();
      },
    },
    "0002_delivery_gallery": {
      // Deliveries name their gallery, so the log is shown only to those who may read it.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("gallery_deliveries").addColumn("gallery", key).execute();
        await db.schema
          .createIndex("gallery_deliveries_gallery")
          .on("gallery_deliveries")
          .columns(["gallery", "created_at"])
          .execute();
      },
    },
    "0003_policy_decisions": {
      // The policy decision log: every decision that was not a plain allow (denied, warned, or
      // allowed with audit failures), pruned to a bounded retention (policy-log.ts).
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("gallery_policy_decisions")
          .addColumn("id", autoId, (c) => c.primaryKey())
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("point", "text", (c) => c.notNull())
          .addColumn("outcome", "text", (c) => c.notNull())
          .addColumn("reference", "text", (c) => c.notNull())
          .addColumn("repository", key, (c) => c.notNull())
          .addColumn("digest", "text", (c) => c.notNull())
          .addColumn("gallery", key)
          .addColumn("user_name", "text")
          .addColumn("policies", "text", (c) => c.notNull())
          .addColumn("failures", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("gallery_policy_decisions_at")
          .on("gallery_policy_decisions")
          .columns(["at"])
          .execute();
      },
    },
    "0004_replicas_and_pulls": {
      // Replication targets with their status per site (replicate/), and pulls counted per
      // version, site and day in batches (usage/).
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("gallery_replicas")
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("image", key, (c) => c.notNull())
          .addColumn("version", key, (c) => c.notNull())
          .addColumn("site", key, (c) => c.notNull())
          .addColumn("digest", "text", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("bytes_total", "bigint", (c) => c.notNull())
          .addColumn("bytes_done", "bigint", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull())
          .addColumn("next_at", "bigint", (c) => c.notNull())
          .addColumn("error", "text")
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("completed_at", "bigint")
          .addPrimaryKeyConstraint("gallery_replicas_pk", ["gallery", "image", "version", "site"])
          .execute();
        await db.schema
          .createIndex("gallery_replicas_due")
          .on("gallery_replicas")
          .columns(["state", "next_at"])
          .execute();
        await db.schema
          .createTable("gallery_pulls")
          .addColumn("gallery", key, (c) => c.notNull())
          .addColumn("image", key, (c) => c.notNull())
          .addColumn("version", key, (c) => c.notNull())
          .addColumn("site", key, (c) => c.notNull())
          .addColumn("day", "bigint", (c) => c.notNull())
          .addColumn("count", "bigint", (c) => c.notNull())
          .addColumn("last_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("gallery_pulls_pk", ["gallery", "image", "version", "site", "day"])
          .execute();
      },
    },
    "0005_version_restored_at": {
      // When a version was last restored, so retention's delete rules start afresh from it
      // (retention.ts); versions restored before are read from the audit log once.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("gallery_versions").addColumn("restored_at", "bigint").execute();
        await sql`update gallery_versions set restored_at = (
          select max(a.at) from gallery_audit a
          where a.gallery = gallery_versions.gallery and a.image = gallery_versions.image
            and a.version = gallery_versions.version and a.action = 'version.restored')`.execute(db);
      },
    },
    "0006_replicas_lifecycle": {
      // The lifecycle (state, deprecation, revocation) last mirrored to a Strata site, so the
      // reconciler finds copies whose source changed since without asking the site.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("gallery_replicas").addColumn("lifecycle", "text").execute();
      },
    },
    "0007_paging_indexes": {
      // Large galleries: a definition's versions paged by number (version-page.ts), and every
      // filter of the audit log answered from an index that starts with the gallery and ends with
      // the id it pages by (audit-log.ts). On PostgreSQL the actor and action compare by bytes
      // ("C"), as keys do, so an action prefix is an index range there too.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createIndex("gallery_versions_order")
          .on("gallery_versions")
          .columns(["gallery", "image", "major", "minor", "patch"])
          .execute();
        if (dialect === "postgres") {
          await sql`alter table gallery_audit alter column actor type text collate "C",
            alter column action type text collate "C"`.execute(db);
        }
        const audit: [string, string[]][] = [
          ["gallery_audit_image", ["gallery", "image", "id"]],
          ["gallery_audit_version", ["gallery", "version", "id"]],
          ["gallery_audit_actor", ["gallery", "actor", "id"]],
          ["gallery_audit_action", ["gallery", "action", "id"]],
          ["gallery_audit_at", ["gallery", "at", "id"]],
        ];
        for (const [name, columns] of audit)
          await db.schema.createIndex(name).on("gallery_audit").columns(columns).execute();
      },
    },
  };
}
