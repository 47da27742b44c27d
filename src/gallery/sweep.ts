// The sweep: applies scheduled revocations once their time has come (recording them) and purges
// deleted versions whose restore window has ended, with their registry tags.
import type { Digest } from "../oci/index.ts";
import { type Actor, type GalleryContext, audit, inTransaction } from "./context.ts";

const DAY = 86_400_000;

export function sweepOps(ctx: GalleryContext) {
  const db = ctx.db;

  /** Deletes a purged version's manifest unless another version or a tag still names it. */
  async function dropIfUnheld(repository: string, digest: string): Promise<void> {
    const [gallery, image] = repository.split("/") as [string, string];
    const pinned = await db
      .selectFrom("gallery_versions")
      .select("version")
      .where("gallery", "=", gallery)
      .where("image", "=", image)
      .where("digest", "=", digest)
      .executeTakeFirst();
    if (pinned !== undefined) return;
    let last: string | undefined;
    for (;;) {
      const tags = await ctx.meta.tags.list(repository, { n: 1000, ...(last === undefined ? {} : { last }) });
      for (const tag of tags) {
        if ((await ctx.meta.manifests.resolve(repository, tag))?.digest === digest) return;
      }
      if (tags.length < 1000) break;
      last = tags.at(-1);
    }
    await ctx.meta.manifests.delete(repository, digest as Digest);
  }
  /** Applies due scheduled revocations and purges deletions whose restore window ended. */
  return async function sweep(): Promise<{ revoked: number; purged: number }> {
    const now = ctx.now();
    const system: Actor = { user: "system" };
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
        await audit(ctx, trx, system, {
          action: "version.revoked.scheduled",
          gallery: row.gallery,
          image: row.image,
          version: row.version,
          before: { state: row.state },
          after: { state: "revoked" },
        });
      });
    }
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
          await audit(ctx, trx, system, {
            action: "version.purged",
            gallery: row.gallery,
            image: row.image,
            version: row.version,
          });
        }
      });
      // The version's tag goes too, and its manifest when nothing else in the repository holds
      // it, so garbage collection can reclaim what no other repository or manifest needs.
      const repository = `${row.gallery}/${row.image}`;
      await ctx.meta.tags.delete(repository, row.version);
      await dropIfUnheld(repository, row.digest);
    }
    return { revoked: due.length, purged };
  };
}
