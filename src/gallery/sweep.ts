// The sweep: applies scheduled revocations once their time has come (recording them), the
// retention rules of every definition that has them (retention-run.ts), and purges deleted
// versions whose restore window has ended, with their registry tags and what only they used in
// their repository (release.ts).
import type { Digest } from "../oci/index.ts";
import { type GalleryContext, SYSTEM, audit, inTransaction } from "./context.ts";
import { releaseContent } from "./release.ts";

const DAY = 86_400_000;

export interface SweepResult {
  readonly revoked: number;
  /** Versions the retention rules deprecated and deleted, and their failures. */
  readonly deprecated: number;
  readonly deleted: number;
  readonly retentionFailed: number;
  readonly purged: number;
}

export function sweepOps(
  ctx: GalleryContext,
  retention: () => Promise<{ deprecated: number; deleted: number; failed: number }>,
) {
  const db = ctx.db;
  /** Applies due scheduled revocations and retention, and purges deletions whose restore window ended. */
  return async function sweep(): Promise<SweepResult> {
    const now = ctx.now();
    const due = await db
      .selectFrom("gallery_versions")
      .selectAll()
      .where("revoke_at", "<=", now)
      .where("state", "in", ["published", "deprecated"])
      .execute();
    for (const row of due) {
      await inTransaction(ctx, async (trx) => {
        await trx
          .updateTable("gallery_versions")
          .set({ state: "revoked" })
          .where("gallery", "=", row.gallery)
          .where("image", "=", row.image)
          .where("version", "=", row.version)
          .where("state", "=", row.state)
          .execute();
        await audit(ctx, trx, SYSTEM, {
          action: "version.revoked.scheduled",
          gallery: row.gallery,
          image: row.image,
          version: row.version,
          before: { state: row.state },
          after: { state: "revoked" },
        });
      });
    }
    // Retention is isolated per definition: one that fails is logged and counted, not thrown.
    const retained = await retention();
    const deleted = await db
      .selectFrom("gallery_versions")
      .innerJoin("gallery_galleries", "gallery_galleries.name", "gallery_versions.gallery")
      .select([
        "gallery_versions.gallery",
        "gallery_versions.image",
        "gallery_versions.version",
        "gallery_versions.digest",
        "gallery_versions.deleted_at",
        "gallery_galleries.restore_days",
      ])
      .where("gallery_versions.state", "=", "deleted")
      .execute();
    let purged = 0;
    for (const row of deleted) {
      if (row.deleted_at === null || row.deleted_at + row.restore_days * DAY > now) continue;
      await inTransaction(ctx, async (trx) => {
        const gone = await trx
          .deleteFrom("gallery_versions")
          .where("gallery", "=", row.gallery)
          .where("image", "=", row.image)
          .where("version", "=", row.version)
          .where("state", "=", "deleted")
          .executeTakeFirst();
        if (Number(gone.numDeletedRows) > 0) {
          purged++;
          // Its copies at other sites go too: the reconciler removes them, then their rows.
          await trx
            .updateTable("gallery_replicas")
            .set({ state: "removing", next_at: now, attempts: 0, error: null, updated_at: now })
            .where("gallery", "=", row.gallery)
            .where("image", "=", row.image)
            .where("version", "=", row.version)
            .execute();
          await audit(ctx, trx, SYSTEM, {
            action: "version.purged",
            gallery: row.gallery,
            image: row.image,
            version: row.version,
          });
        }
      });
      // The version's tag goes too, and its manifest, child manifests and blob links when nothing
      // else in the repository needs them, so garbage collection can reclaim what no other
      // repository links or names.
      const repository = `${row.gallery}/${row.image}`;
      await ctx.meta.tags.delete(repository, row.version);
      const released = await releaseContent(ctx, repository, row.digest as Digest);
      ctx.log.debug({ repository, version: row.version, ...released }, "purged version released");
    }
    if (purged > 0) ctx.replicasChanged();
    return {
      revoked: due.length,
      deprecated: retained.deprecated,
      deleted: retained.deleted,
      retentionFailed: retained.failed,
      purged,
    };
  };
}
