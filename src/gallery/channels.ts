// Channels: named pointers of a definition (dev, staging, production, …) at a version, with
// their full history. Every move appends one history entry under a compare-and-set on the
// channel's move count, so concurrent moves form one linear history. Moves of a restricted
// channel go through an approval request instead.
import type { Updateable } from "kysely";
import {
  type Actor,
  type Db,
  type GalleryContext,
  actorName,
  audit,
  emit,
  inTransaction,
  requireRole,
} from "./context.ts";
import type { ChannelsTable } from "./db/schema.ts";
import { GalleryError, q } from "./errors.ts";
import { mustLoadGallery } from "./galleries.ts";
import { mustLoadImage } from "./images.ts";
import { checkChannelName, LATEST, type Channel, type ChannelMove } from "./model.ts";
import { latestVersion } from "./resolve.ts";
import { toChannel, toMove, toVersion } from "./rows.ts";
import type { ChannelRollback, ChannelSet } from "./schemas.ts";
import { mustLoadVersionRow } from "./version-rows.ts";

export interface ChannelKey {
  readonly gallery: string;
  readonly image: string;
  readonly channel: string;
}

class Retry extends Error {}

/**
 * PostgreSQL errors that only say another transaction got there first (serialization failure,
 * deadlock, a unique key taken meanwhile): the move is tried again.
 */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "40001" || code === "40P01" || code === "23505";
}
const MAX_ATTEMPTS = 50;

/** The channel's configuration columns a move or a set changes; none for what is not given. */
function configColumns(configure: { restricted?: boolean; approvals?: number } | undefined) {
  return {
    ...(configure?.restricted === undefined ? {} : { restricted: configure.restricted ? 1 : 0 }),
    ...(configure?.approvals === undefined ? {} : { approvals: configure.approvals }),
  };
}

/** Updates the channel only if no one moved it since `seq` was read; else the move retries. */
async function updateAtSeq(
  db: Db,
  key: ChannelKey,
  seq: number,
  values: Updateable<ChannelsTable>,
): Promise<void> {
  const updated = await db
    .updateTable("gallery_channels")
    .set(values)
    .where("gallery", "=", key.gallery)
    .where("image", "=", key.image)
    .where("name", "=", key.channel)
    .where("seq", "=", seq)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) throw new Retry();
}

async function loadChannelRow(db: Db, key: ChannelKey) {
  return db
    .selectFrom("gallery_channels")
    .selectAll()
    .where("gallery", "=", key.gallery)
    .where("image", "=", key.image)
    .where("name", "=", key.channel)
    .executeTakeFirst();
}

export async function mustLoadChannel(db: Db, key: ChannelKey): Promise<Channel> {
  const row = await loadChannelRow(db, key);
  if (row === undefined) {
    throw new GalleryError(
      "NOT_FOUND",
      `Channel ${q(key.channel)} of ${q(`${key.gallery}/${key.image}`)} does not exist`,
      {
        detail: { ...key },
      },
    );
  }
  return toChannel(row);
}

/** Checks that the version exists and may be pointed at (published, not past EOL). */
export async function checkMovable(
  ctx: GalleryContext,
  db: Db,
  key: ChannelKey,
  version: string,
): Promise<string> {
  const g = await mustLoadGallery(db, key.gallery);
  if (version === LATEST) {
    const latest = await latestVersion(ctx, db, {
      gallery: key.gallery,
      image: key.image,
      restoreDays: g.restoreDays,
    });
    if (latest === undefined)
      throw new GalleryError("NOT_FOUND", `${q(`${key.gallery}/${key.image}`)} has no latest version`);
    return latest.version;
  }
  const row = await mustLoadVersionRow(db, key.gallery, key.image, version);
  const state = toVersion(row, ctx.now(), g.restoreDays).state;
  if (state !== "published") {
    throw new GalleryError(
      "CONFLICT",
      `Version ${q(`${key.gallery}/${key.image}:${version}`)} is ${state}; a channel may point only at a published version`,
    );
  }
  return version;
}

export function channelOps(ctx: GalleryContext) {
  /**
   * Moves the channel (creating it if needed) in its own transaction, retrying when another
   * move won the compare-and-set. Returns the channel after the move.
   */
  async function move(
    actor: Actor,
    key: ChannelKey,
    version: string,
    action: ChannelMove["action"],
    options: {
      request?: string;
      configure?: { restricted?: boolean; approvals?: number };
      /**
       * When the channel already points at `version`: apply only the configuration, with no
       * history entry (an idempotent set). Decided on the row this transaction read, so a
       * concurrent move in between is never mistaken for "already there".
       */
      sameVersionConfigures?: boolean;
    } = {},
  ): Promise<Channel> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        return await inTransaction(ctx, async (trx) => {
          const now = ctx.now();
          const row = await loadChannelRow(trx, key);
          if (row !== undefined && row.version === version && options.sameVersionConfigures === true) {
            const changes = configColumns(options.configure);
            if (Object.keys(changes).length === 0) return mustLoadChannel(trx, key);
            await updateAtSeq(trx, key, row.seq, changes);
            await audit(ctx, trx, actor, {
              action: "channel.configured",
              gallery: key.gallery,
              image: key.image,
              target: key.channel,
              before: { restricted: row.restricted !== 0, approvals: row.approvals },
              after: options.configure ?? {},
            });
            return mustLoadChannel(trx, key);
          }
          const seq = (row?.seq ?? 0) + 1;
          const previous = row?.version ?? null;
          if (row === undefined) {
            const inserted = await trx
              .insertInto("gallery_channels")
              .values({
                gallery: key.gallery,
                image: key.image,
                name: key.channel,
                version,
                restricted: options.configure?.restricted === true ? 1 : 0,
                approvals: options.configure?.approvals ?? 1,
                seq,
                updated_at: now,
                updated_by: actorName(actor),
              })
              .onConflict((oc) => oc.columns(["gallery", "image", "name"]).doNothing())
              .executeTakeFirst();
            if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) throw new Retry();
          } else {
            await updateAtSeq(trx, key, row.seq, {
              version,
              seq,
              updated_at: now,
              updated_by: actorName(actor),
              ...configColumns(options.configure),
            });
          }
          const history = await trx
            .insertInto("gallery_channel_history")
            .values({
              gallery: key.gallery,
              image: key.image,
              channel: key.channel,
              seq,
              version,
              previous,
              action,
              actor: actorName(actor),
              at: now,
              request: options.request ?? null,
            })
            .onConflict((oc) => oc.columns(["gallery", "image", "channel", "seq"]).doNothing())
            .executeTakeFirst();
          if (Number(history.numInsertedOrUpdatedRows ?? 0) === 0) throw new Retry();
          const after = await mustLoadChannel(trx, key);
          const versionRow = await mustLoadVersionRow(trx, key.gallery, key.image, version);
          await audit(ctx, trx, actor, {
            action: `channel.${action}`,
            gallery: key.gallery,
            image: key.image,
            version,
            target: key.channel,
            before:
              row === undefined
                ? null
                : { version: previous, restricted: row.restricted !== 0, approvals: row.approvals },
            after: { version, restricted: after.restricted, approvals: after.approvals, seq },
          });
          await emit(
            ctx,
            trx,
            {
              type: "version.promoted",
              gallery: key.gallery,
              image: key.image,
              version,
              digest: versionRow.digest,
              data: {
                channel: key.channel,
                previous,
                action,
                ...(options.request === undefined ? {} : { request: options.request }),
              },
            },
            actor,
          );
          return after;
        });
      } catch (error) {
        if (!(error instanceof Retry) && !isTransient(error)) throw error;
      }
    }
    throw new GalleryError("CONFLICT", `Channel ${q(key.channel)} is being moved by others; try again`);
  }

  return {
    move,

    async list(actor: Actor, gallery: string, image: string): Promise<Channel[]> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      await mustLoadImage(ctx.db, gallery, image);
      const rows = await ctx.db
        .selectFrom("gallery_channels")
        .selectAll()
        .where("gallery", "=", gallery)
        .where("image", "=", image)
        .orderBy("name")
        .execute();
      return rows.map(toChannel);
    },

    async get(actor: Actor, key: ChannelKey): Promise<Channel> {
      await requireRole(ctx, ctx.db, actor, key.gallery, "reader");
      return mustLoadChannel(ctx.db, key);
    },

    async history(actor: Actor, key: ChannelKey): Promise<ChannelMove[]> {
      await requireRole(ctx, ctx.db, actor, key.gallery, "reader");
      await mustLoadChannel(ctx.db, key);
      const rows = await ctx.db
        .selectFrom("gallery_channel_history")
        .selectAll()
        .where("gallery", "=", key.gallery)
        .where("image", "=", key.image)
        .where("channel", "=", key.channel)
        .orderBy("seq", "desc")
        .execute();
      return rows.map(toMove);
    },

    /** What a set or rollback would need: the target version and whether approval is due. */
    async plan(
      actor: Actor,
      key: ChannelKey,
      input: ChannelSet,
    ): Promise<{ version: string; restricted: boolean; approvals: number; existing: Channel | undefined }> {
      checkChannelName(key.channel);
      await requireRole(ctx, ctx.db, actor, key.gallery, "publisher");
      await mustLoadImage(ctx.db, key.gallery, key.image);
      const existingRow = await loadChannelRow(ctx.db, key);
      const existing = existingRow === undefined ? undefined : toChannel(existingRow);
      const reconfigures =
        (input.restricted !== undefined && input.restricted !== (existing?.restricted ?? false)) ||
        (input.approvals !== undefined && input.approvals !== (existing?.approvals ?? 1));
      if (reconfigures) await requireRole(ctx, ctx.db, actor, key.gallery, "admin");
      const version = await checkMovable(ctx, ctx.db, key, input.version);
      return {
        version,
        restricted: existing?.restricted ?? false,
        approvals: input.approvals ?? existing?.approvals ?? 1,
        existing,
      };
    },

    /** The version a rollback goes back to: `to`, or the one before the current. */
    async rollbackTarget(actor: Actor, key: ChannelKey, input: ChannelRollback): Promise<string> {
      await requireRole(ctx, ctx.db, actor, key.gallery, "publisher");
      const channel = await mustLoadChannel(ctx.db, key);
      const history = await ctx.db
        .selectFrom("gallery_channel_history")
        .select(["version"])
        .where("gallery", "=", key.gallery)
        .where("image", "=", key.image)
        .where("channel", "=", key.channel)
        .orderBy("seq", "desc")
        .execute();
      const pointed = new Set(history.map((h) => h.version).filter((v): v is string => v !== null));
      let target: string | undefined;
      if (input.to !== undefined) {
        if (!pointed.has(input.to)) {
          throw new GalleryError("INVALID", `Channel ${q(key.channel)} never pointed at ${q(input.to)}`);
        }
        target = input.to;
      } else {
        target = history.map((h) => h.version).find((v) => v !== null && v !== channel.version) ?? undefined;
        if (target === undefined)
          throw new GalleryError(
            "CONFLICT",
            `Channel ${q(key.channel)} has no earlier version to roll back to`,
          );
      }
      if (target === channel.version)
        throw new GalleryError("CONFLICT", `Channel ${q(key.channel)} already points at ${q(target)}`);
      return checkMovable(ctx, ctx.db, key, target);
    },
  };
}
