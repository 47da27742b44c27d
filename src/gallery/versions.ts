// Image versions: publishing pins one manifest or index digest under a Major.Minor.Patch
// number, once; afterwards only the EOL date, exclude-from-latest and the lifecycle state
// change (deprecate, revoke, delete, restore).
import type { Transaction } from "kysely";
import {
  type Actor,
  type Db,
  type GalleryContext,
  actorName,
  audit,
  emit,
  inTransaction,
  iso,
  requireRole,
  roleOf,
} from "./context.ts";
import { baseDigestOf, copyInto, resolveFrom } from "./content.ts";
import { parseDate, parseFutureDate } from "./dates.ts";
import type { GalleryDatabase, VersionsTable } from "./db/schema.ts";
import { GalleryError, q } from "./errors.ts";
import { mustLoadGallery } from "./galleries.ts";
import { mustLoadImage } from "./images.ts";
import type { Approval, ImageVersion } from "./model.ts";
import { latestVersion, resolveDigest, versionRow, versionRows } from "./resolve.ts";
import { toVersion } from "./rows.ts";
import type { Deprecate, Revoke, VersionPublish, VersionUpdate } from "./schemas.ts";
import { parseVersionNumber } from "./semver.ts";

const DAY = 86_400_000;

export interface PublishResult {
  readonly version: ImageVersion;
  /** False when the same version with the same content already existed (a no-op). */
  readonly created: boolean;
}

export interface RevokeResult {
  readonly revoked: readonly ImageVersion[];
  /** Versions built on a revoked one that the caller may not revoke (no publisher role). */
  readonly skipped: readonly { gallery: string; image: string; version: string }[];
}

export async function mustLoadVersionRow(
  db: Db,
  gallery: string,
  image: string,
  version: string,
): Promise<VersionsTable> {
  parseVersionNumber(version);
  const row = await versionRow(db, gallery, image, version);
  if (row === undefined) {
    throw new GalleryError("NOT_FOUND", `Version ${q(`${gallery}/${image}:${version}`)} does not exist`, {
      detail: { gallery, image, version },
    });
  }
  return row;
}

export function versionOps(ctx: GalleryContext) {
  async function view(db: Db, gallery: string, row: VersionsTable): Promise<ImageVersion> {
    const g = await mustLoadGallery(db, gallery);
    return toVersion(row, ctx.now(), g.restoreDays);
  }

  async function reload(db: Db, gallery: string, image: string, version: string): Promise<ImageVersion> {
    return view(db, gallery, await mustLoadVersionRow(db, gallery, image, version));
  }

  /**
   * Inserts a version row for content already in the repository; the registry tag follows.
   * Exactly one of concurrent inserts of a number wins; the others see what won.
   */
  async function insertVersion(
    actor: Actor,
    target: { gallery: string; image: string },
    input: VersionPublish & {
      digest: string;
      mediaType: string;
      baseDigest: string | undefined;
      approvals?: readonly Approval[];
    },
    eol: number | null,
    action: string,
  ): Promise<PublishResult> {
    const number = parseVersionNumber(input.version);
    const { gallery, image } = target;
    const outcome = await inTransaction(ctx, async (trx) => {
      const now = ctx.now();
      const metadata = Object.fromEntries(
        Object.entries({
          changelog: input.changelog,
          buildId: input.buildId,
          sourceRevision: input.sourceRevision,
          owner: input.owner,
        }).filter(([, v]) => v !== undefined),
      );
      const inserted = await trx
        .insertInto("gallery_versions")
        .values({
          gallery,
          image,
          version: input.version,
          major: number.major,
          minor: number.minor,
          patch: number.patch,
          digest: input.digest,
          media_type: input.mediaType,
          metadata: JSON.stringify(metadata),
          base_digest: input.baseDigest ?? null,
          state: "published",
          eol,
          exclude_from_latest: input.excludeFromLatest === true ? 1 : 0,
          approvals: JSON.stringify(input.approvals ?? []),
          deprecation: null,
          revoke_reason: null,
          revoke_at: null,
          revoked_by: null,
          deleted_at: null,
          deleted_by: null,
          state_before_delete: null,
          created_at: now,
          published_by: actorName(actor),
        })
        .onConflict((oc) => oc.columns(["gallery", "image", "version"]).doNothing())
        .executeTakeFirst();
      const row = await mustLoadVersionRow(trx, gallery, image, input.version);
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return { row, created: false };
      const version = await view(trx, gallery, row);
      await audit(ctx, trx, actor, { action, gallery, image, version: input.version, after: version });
      await emit(
        ctx,
        trx,
        { type: "version.published", gallery, image, version: input.version, digest: input.digest },
        actor,
      );
      return { row, created: true };
    });
    if (!outcome.created) {
      if (outcome.row.digest !== input.digest) {
        throw new GalleryError(
          "CONFLICT",
          `Version ${q(`${gallery}/${image}:${input.version}`)} already exists with other content: ${outcome.row.digest}, not ${input.digest}`,
          {
            detail: {
              gallery,
              image,
              version: input.version,
              existing: outcome.row.digest,
              offered: input.digest,
            },
          },
        );
      }
      return { version: await view(ctx.db, gallery, outcome.row), created: false };
    }
    // The version number becomes an (immutable) tag of the repository, for listings and clients.
    const record = await ctx.meta.manifests.get(`${gallery}/${image}`, input.digest as never);
    if (record !== undefined) {
      const { repository: _r, createdAt: _c, ...manifest } = record;
      await ctx.meta.manifests.put(`${gallery}/${image}`, manifest, input.version);
    }
    return { version: await view(ctx.db, gallery, outcome.row), created: true };
  }

  async function transition(
    actor: Actor,
    key: { gallery: string; image: string; version: string },
    role: "publisher" | "admin",
    change: (trx: Transaction<GalleryDatabase>, row: VersionsTable, before: ImageVersion) => Promise<string>,
  ): Promise<ImageVersion> {
    return inTransaction(ctx, async (trx) => {
      await requireRole(ctx, trx, actor, key.gallery, role);
      const row = await mustLoadVersionRow(trx, key.gallery, key.image, key.version);
      const before = await view(trx, key.gallery, row);
      const action = await change(trx, row, before);
      const after = await reload(trx, key.gallery, key.image, key.version);
      await audit(ctx, trx, actor, { action, ...key, before, after });
      return after;
    });
  }

  const where = (trx: Db, key: { gallery: string; image: string; version: string }) =>
    trx
      .updateTable("gallery_versions")
      .where("gallery", "=", key.gallery)
      .where("image", "=", key.image)
      .where("version", "=", key.version);

  const ops = {
    async publish(
      actor: Actor,
      gallery: string,
      image: string,
      input: VersionPublish,
    ): Promise<PublishResult> {
      parseVersionNumber(input.version);
      await requireRole(ctx, ctx.db, actor, gallery, "publisher");
      await mustLoadImage(ctx.db, gallery, image);
      const eol = input.eol === undefined ? null : parseFutureDate("eol", input.eol, ctx.now());
      const record = await resolveFrom(ctx, input.from, (repo, ref) => resolveDigest(ctx, repo, ref));
      const existing = await versionRow(ctx.db, gallery, image, input.version);
      if (existing !== undefined && existing.digest !== record.digest) {
        throw new GalleryError(
          "CONFLICT",
          `Version ${q(`${gallery}/${image}:${input.version}`)} already exists with other content: ${existing.digest}, not ${record.digest}`,
          {
            detail: {
              gallery,
              image,
              version: input.version,
              existing: existing.digest,
              offered: record.digest,
            },
          },
        );
      }
      // Content first (links, no tag), then the row: a losing publisher leaves no tag behind.
      await copyInto(ctx, record, `${gallery}/${image}`);
      const baseDigest = await baseDigestOf(ctx, record);
      return insertVersion(
        actor,
        { gallery, image },
        { ...input, digest: record.digest, mediaType: record.mediaType, baseDigest },
        eol,
        "version.published",
      );
    },

    /** Copies a version into another gallery's definition of the same name (used by promotion). */
    async copy(
      actor: Actor,
      source: { gallery: string; image: string; version: string },
      targetGallery: string,
      approvals: readonly Approval[],
    ): Promise<PublishResult> {
      const row = await mustLoadVersionRow(ctx.db, source.gallery, source.image, source.version);
      const record = await ctx.meta.manifests.get(`${source.gallery}/${source.image}`, row.digest as never);
      if (record === undefined)
        throw new GalleryError("NOT_FOUND", `Content ${q(row.digest)} of the version is missing`);
      await mustLoadImage(ctx.db, targetGallery, source.image);
      await copyInto(ctx, record, `${targetGallery}/${source.image}`);
      const metadata = JSON.parse(row.metadata) as Record<string, string>;
      const eol = row.eol !== null && row.eol > ctx.now() ? row.eol : null;
      return insertVersion(
        actor,
        { gallery: targetGallery, image: source.image },
        {
          version: row.version,
          from: `${source.gallery}/${source.image}@${row.digest}`,
          ...metadata,
          excludeFromLatest: row.exclude_from_latest !== 0,
          digest: row.digest,
          mediaType: row.media_type,
          baseDigest: row.base_digest ?? undefined,
          approvals,
        },
        eol,
        "version.copied",
      );
    },

    async list(
      actor: Actor,
      gallery: string,
      image: string,
      options: { includeDeleted?: boolean } = {},
    ): Promise<ImageVersion[]> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      await mustLoadImage(ctx.db, gallery, image);
      const g = await mustLoadGallery(ctx.db, gallery);
      const now = ctx.now();
      return (await versionRows(ctx.db, gallery, image))
        .map((r) => toVersion(r, now, g.restoreDays))
        .filter((v) => options.includeDeleted === true || v.state !== "deleted");
    },

    async get(actor: Actor, gallery: string, image: string, version: string): Promise<ImageVersion> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      return reload(ctx.db, gallery, image, version);
    },

    async latest(actor: Actor, gallery: string, image: string): Promise<ImageVersion> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      await mustLoadImage(ctx.db, gallery, image);
      const g = await mustLoadGallery(ctx.db, gallery);
      const latest = await latestVersion(ctx, ctx.db, { gallery, image, restoreDays: g.restoreDays });
      if (latest === undefined) {
        throw new GalleryError(
          "NOT_FOUND",
          `Image definition ${q(`${gallery}/${image}`)} has no published version for latest`,
        );
      }
      return latest;
    },

    async update(
      actor: Actor,
      key: { gallery: string; image: string; version: string },
      patch: VersionUpdate,
    ): Promise<ImageVersion> {
      const eol =
        patch.eol === undefined
          ? undefined
          : patch.eol === null
            ? null
            : parseFutureDate("eol", patch.eol, ctx.now());
      return transition(actor, key, "publisher", async (trx, row, before) => {
        if (before.state === "deleted")
          throw new GalleryError("CONFLICT", `Version ${q(key.version)} is deleted; restore it first`);
        await where(trx, key)
          .set({
            ...(eol === undefined ? {} : { eol }),
            ...(patch.excludeFromLatest === undefined
              ? {}
              : { exclude_from_latest: patch.excludeFromLatest ? 1 : 0 }),
          })
          .execute();
        void row;
        return "version.updated";
      });
    },

    async deprecate(
      actor: Actor,
      key: { gallery: string; image: string; version: string },
      input: Deprecate,
    ): Promise<ImageVersion> {
      if (input.replacement !== undefined) parseVersionNumber(input.replacement);
      const result = await transition(actor, key, "publisher", async (trx, _row, before) => {
        if (before.state !== "published") {
          throw new GalleryError(
            "CONFLICT",
            `Version ${q(key.version)} is ${before.state}; only a published version can be deprecated`,
          );
        }
        if (input.replacement !== undefined) {
          const replacement = await mustLoadVersionRow(trx, key.gallery, key.image, input.replacement);
          if (replacement.version === key.version || replacement.state !== "published") {
            throw new GalleryError(
              "INVALID",
              `Replacement ${q(input.replacement)} is not another published version`,
            );
          }
        }
        const deprecation = {
          reason: input.reason ?? "",
          ...(input.replacement === undefined ? {} : { replacement: input.replacement }),
          at: iso(ctx.now()),
        };
        await where(trx, key)
          .set({ state: "deprecated", deprecation: JSON.stringify(deprecation) })
          .execute();
        await emit(
          ctx,
          trx,
          { type: "version.deprecated", ...key, digest: before.digest, data: deprecation },
          actor,
        );
        return "version.deprecated";
      });
      return result;
    },

    async revoke(
      actor: Actor,
      key: { gallery: string; image: string; version: string },
      input: Revoke,
    ): Promise<RevokeResult> {
      const now = ctx.now();
      const at = input.at === undefined ? now : Math.max(parseDate("at", input.at), now);
      const revoked: ImageVersion[] = [];
      const skipped: { gallery: string; image: string; version: string }[] = [];
      const seen = new Set<string>();
      const queue: { key: typeof key; reason: string }[] = [{ key, reason: input.reason }];
      while (queue.length > 0) {
        const next = queue.shift();
        if (next === undefined) break;
        const id = `${next.key.gallery}/${next.key.image}:${next.key.version}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const first = revoked.length === 0 && skipped.length === 0;
        if (
          !first &&
          (await roleOf(ctx, ctx.db, actor, next.key.gallery).then((r) => r === undefined || r === "reader"))
        ) {
          skipped.push(next.key);
          continue;
        }
        const after = await transition(actor, next.key, "publisher", async (trx, _row, before) => {
          if (before.state === "revoked" || before.state === "deleted") {
            if (first) throw new GalleryError("CONFLICT", `Version ${q(id)} is already ${before.state}`);
            return "version.revoked";
          }
          await where(trx, next.key)
            .set({
              revoke_reason: next.reason,
              revoke_at: at,
              revoked_by: actorName(actor),
              ...(at <= now ? { state: "revoked" } : {}),
            })
            .execute();
          await emit(
            ctx,
            trx,
            {
              type: "version.revoked",
              ...next.key,
              digest: before.digest,
              data: { reason: next.reason, effectiveAt: iso(at) },
            },
            actor,
          );
          return "version.revoked";
        });
        revoked.push(after);
        if (input.cascade === true) {
          const children = await ctx.db
            .selectFrom("gallery_versions")
            .select(["gallery", "image", "version"])
            .where("base_digest", "=", after.digest)
            .execute();
          for (const child of children) {
            queue.push({ key: child, reason: `base image ${id} revoked: ${input.reason}`.slice(0, 1000) });
          }
        }
      }
      return { revoked, skipped };
    },

    async delete(
      actor: Actor,
      key: { gallery: string; image: string; version: string },
      options: { force?: boolean } = {},
    ): Promise<ImageVersion> {
      const role = options.force === true ? "admin" : "publisher";
      return transition(actor, key, role, async (trx, row, before) => {
        if (before.state === "deleted")
          throw new GalleryError("CONFLICT", `Version ${q(key.version)} is already deleted`);
        const now = ctx.now();
        if (options.force !== true && (row.eol === null || row.eol > now)) {
          throw new GalleryError(
            "DENIED",
            `Version ${q(`${key.gallery}/${key.image}:${key.version}`)} cannot be deleted before its end of life (${row.eol === null ? "none set" : iso(row.eol).slice(0, 10)}); an admin may force it`,
            { detail: { ...key, eol: row.eol === null ? null : iso(row.eol) } },
          );
        }
        await where(trx, key)
          .set({
            state: "deleted",
            state_before_delete: row.state,
            deleted_at: now,
            deleted_by: actorName(actor),
          })
          .execute();
        await emit(
          ctx,
          trx,
          { type: "version.deleted", ...key, digest: before.digest, data: { force: options.force === true } },
          actor,
        );
        return options.force === true ? "version.deleted.forced" : "version.deleted";
      });
    },

    async restore(
      actor: Actor,
      key: { gallery: string; image: string; version: string },
    ): Promise<ImageVersion> {
      return transition(actor, key, "publisher", async (trx, row, before) => {
        if (before.state !== "deleted" || row.deleted_at === null) {
          throw new GalleryError("CONFLICT", `Version ${q(key.version)} is ${before.state}, not deleted`);
        }
        const g = await mustLoadGallery(trx, key.gallery);
        if (row.deleted_at + g.restoreDays * DAY <= ctx.now()) {
          throw new GalleryError(
            "DENIED",
            `Version ${q(key.version)} can no longer be restored: its ${g.restoreDays}-day window ended`,
          );
        }
        await where(trx, key)
          .set({
            state: row.state_before_delete ?? "published",
            state_before_delete: null,
            deleted_at: null,
            deleted_by: null,
          })
          .execute();
        await emit(ctx, trx, { type: "version.restored", ...key, digest: before.digest }, actor);
        return "version.restored";
      });
    },
  };
  return ops;
}
