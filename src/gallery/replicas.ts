// Replication targets of versions: one row per version and site (gallery_replicas), whose
// existence makes the site a target. Publishing (and copying into a gallery) adds the
// definition's `replicateTo` sites; a publisher sets them later; a site dropped from the targets
// or a purged version leaves its rows in `removing` until the copy is gone. The copying itself is
// replicate/'s reconciler, which reads and updates these rows.
import {
  type Actor,
  type Db,
  type GalleryContext,
  audit,
  inTransaction,
  iso,
  readableGalleryNames,
  requireRole,
} from "./context.ts";
import type { ReplicasTable } from "./db/schema.ts";
import { GalleryError, q } from "./errors.ts";
import type { ReplicaState, ReplicaStatus } from "./model.ts";
import { REPLICA_STATES } from "./model.ts";
import { mustLoadVersionRow, type VersionKey } from "./version-rows.ts";

/** Throws INVALID naming the unknown sites and the configured ones; returns the names deduplicated. */
export function checkSites(ctx: GalleryContext, sites: readonly string[], field = "sites"): string[] {
  const unknown = sites.filter((s) => !ctx.sites.has(s));
  if (unknown.length > 0) {
    const known = [...ctx.sites.keys()];
    throw new GalleryError(
      "INVALID",
      `Unknown site${unknown.length === 1 ? "" : "s"} in ${field}: ${unknown.map(q).join(", ")} (configured: ${known.length === 0 ? "none" : known.map(q).join(", ")})`,
      { detail: { unknown, configured: known } },
    );
  }
  return [...new Set(sites)];
}

export function toReplicaStatus(ctx: GalleryContext, row: ReplicasTable): ReplicaStatus {
  const region = ctx.sites.get(row.site)?.region;
  const state = row.state as ReplicaState;
  return {
    gallery: row.gallery,
    image: row.image,
    version: row.version,
    site: row.site,
    ...(region === undefined ? {} : { region }),
    digest: row.digest,
    state,
    bytesDone: Number(row.bytes_done),
    bytesTotal: Number(row.bytes_total),
    attempts: row.attempts,
    ...(row.error === null ? {} : { error: row.error }),
    ...(state === "failed" ? { nextAttemptAt: iso(Number(row.next_at)) } : {}),
    updatedAt: iso(Number(row.updated_at)),
    ...(row.completed_at === null ? {} : { completedAt: iso(Number(row.completed_at)) }),
  };
}

/**
 * Makes `sites` the targets of a version in the caller's transaction: new ones pending, dropped
 * ones removing, a site named again while its copy was being removed pending again. Returns the
 * targets before (removing ones not counted).
 */
export async function writeTargets(
  ctx: GalleryContext,
  trx: Db,
  key: VersionKey & { digest: string },
  sites: readonly string[],
): Promise<string[]> {
  const now = ctx.now();
  const rows = await trx
    .selectFrom("gallery_replicas")
    .selectAll()
    .where("gallery", "=", key.gallery)
    .where("image", "=", key.image)
    .where("version", "=", key.version)
    .execute();
  const before = rows.filter((r) => r.state !== "removing").map((r) => r.site);
  for (const row of rows) {
    const wanted = sites.includes(row.site);
    const next = wanted ? (row.state === "removing" ? "pending" : undefined) : "removing";
    if (next === undefined || next === row.state) continue;
    await trx
      .updateTable("gallery_replicas")
      .set({ state: next, next_at: now, attempts: 0, error: null, updated_at: now })
      .where("gallery", "=", key.gallery)
      .where("image", "=", key.image)
      .where("version", "=", key.version)
      .where("site", "=", row.site)
      .execute();
  }
  for (const site of sites) {
    if (rows.some((r) => r.site === site)) continue;
    await trx
      .insertInto("gallery_replicas")
      .values({
        gallery: key.gallery,
        image: key.image,
        version: key.version,
        site,
        digest: key.digest,
        state: "pending",
        bytes_total: 0,
        bytes_done: 0,
        attempts: 0,
        next_at: now,
        error: null,
        updated_at: now,
        completed_at: null,
        lifecycle: null,
      })
      .onConflict((oc) => oc.columns(["gallery", "image", "version", "site"]).doNothing())
      .execute();
  }
  return before;
}

/** The copies of one version, by site name. */
export async function replicaRows(db: Db, key: VersionKey): Promise<ReplicasTable[]> {
  return db
    .selectFrom("gallery_replicas")
    .selectAll()
    .where("gallery", "=", key.gallery)
    .where("image", "=", key.image)
    .where("version", "=", key.version)
    .orderBy("site")
    .execute();
}

export function replicaOps(ctx: GalleryContext) {
  return {
    /** Sets a version's target sites (publisher); unknown sites change nothing. */
    async set(actor: Actor, key: VersionKey, sites: readonly string[]): Promise<ReplicaStatus[]> {
      const wanted = checkSites(ctx, sites);
      await inTransaction(ctx, async (trx) => {
        await requireRole(ctx, trx, actor, key.gallery, "publisher");
        const row = await mustLoadVersionRow(trx, key.gallery, key.image, key.version);
        if (row.state === "deleted" && wanted.length > 0)
          throw new GalleryError(
            "CONFLICT",
            `Version ${q(`${key.gallery}/${key.image}:${key.version}`)} is deleted; restore it before replicating it`,
          );
        const before = await writeTargets(ctx, trx, { ...key, digest: row.digest }, wanted);
        if (before.length !== wanted.length || before.some((s) => !wanted.includes(s)))
          await audit(ctx, trx, actor, {
            action: "version.replication.set",
            gallery: key.gallery,
            image: key.image,
            version: key.version,
            before: { sites: [...before].sort() },
            after: { sites: [...wanted].sort() },
          });
      });
      ctx.replicasChanged();
      return (await replicaRows(ctx.db, key)).map((r) => toReplicaStatus(ctx, r));
    },

    /** A version's copies per site (readers). */
    async status(actor: Actor, key: VersionKey): Promise<ReplicaStatus[]> {
      await requireRole(ctx, ctx.db, actor, key.gallery, "reader");
      await mustLoadVersionRow(ctx.db, key.gallery, key.image, key.version);
      return (await replicaRows(ctx.db, key)).map((r) => toReplicaStatus(ctx, r));
    },

    /** Every copy of the galleries the caller may read, optionally of one gallery or in one state. */
    async list(
      actor: Actor,
      filter: { gallery?: string; image?: string; state?: string },
    ): Promise<ReplicaStatus[]> {
      if (filter.state !== undefined && !(REPLICA_STATES as readonly string[]).includes(filter.state))
        throw new GalleryError(
          "INVALID",
          `Unknown replication state ${q(filter.state)} (one of: ${REPLICA_STATES.join(", ")})`,
        );
      let galleries: string[];
      if (filter.gallery !== undefined) {
        await requireRole(ctx, ctx.db, actor, filter.gallery, "reader");
        galleries = [filter.gallery];
      } else galleries = await readableGalleryNames(ctx, actor);
      if (galleries.length === 0) return [];
      let query = ctx.db
        .selectFrom("gallery_replicas")
        .selectAll()
        .where("gallery", "in", galleries)
        .orderBy("gallery")
        .orderBy("image")
        .orderBy("version")
        .orderBy("site")
        .limit(5000);
      if (filter.image !== undefined) query = query.where("image", "=", filter.image);
      if (filter.state !== undefined) query = query.where("state", "=", filter.state);
      return (await query.execute()).map((r) => toReplicaStatus(ctx, r));
    },
  };
}
