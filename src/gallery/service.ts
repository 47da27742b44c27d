// The gallery service: opens its tables in the metadata database, and offers every operation
// of the model to the API and the CLI — each checks the caller's role, validates its input,
// changes state in one transaction with its audit entry and queued webhook events.
import type { Logger } from "pino";
import { connectDatabase, migrateSet, type BlobStore, type MetadataStore } from "../store/index.ts";
import { auditOps } from "./audit-log.ts";
import { channelOps, mustLoadChannel, type ChannelKey } from "./channels.ts";
import {
  type Actor,
  type GalleryContext,
  type WebhookTarget,
  audit,
  emit,
  inTransaction,
  requireRole,
} from "./context.ts";
import type { GalleryDatabase } from "./db/schema.ts";
import { galleryMigrations } from "./db/migrations.ts";
import { GalleryError, q } from "./errors.ts";
import { galleryOps, mustLoadGallery } from "./galleries.ts";
import { imageOps, mustLoadImage } from "./images.ts";
import type { ApprovalRequest, Channel, ImageVersion } from "./model.ts";
import { createPullPath, type PullPath } from "./pull-path.ts";
import { requestOps } from "./requests.ts";
import { toVersion } from "./rows.ts";
import type { ChannelRollback, ChannelSet, Promote } from "./schemas.ts";
import { createDeliverer, type Deliverer, type DeliveryOptions } from "./webhooks.ts";
import { mustLoadVersionRow, versionOps } from "./versions.ts";

const DAY = 86_400_000;

export interface GalleryServiceDeps {
  readonly meta: MetadataStore;
  readonly blobs: BlobStore;
  readonly log: Logger;
}

export interface GalleryServiceOptions {
  /** The metadata database URL (sqlite:… or postgres://…); the gallery keeps its tables there. */
  readonly database: string;
  readonly authEnabled: boolean;
  readonly webhooks?: readonly WebhookTarget[];
  readonly delivery?: Partial<DeliveryOptions>;
  /** How often scheduled revocations and expired deletions are applied (ms). */
  readonly sweepMs?: number;
  readonly now?: () => number;
}

export type MoveOutcome =
  | { readonly status: "moved"; readonly channel: Channel }
  | { readonly status: "pending"; readonly request: ApprovalRequest };

export type PromoteOutcome =
  | { readonly status: "done"; readonly version?: ImageVersion; readonly channel?: Channel }
  | { readonly status: "pending"; readonly request: ApprovalRequest };

export type GalleryService = Awaited<ReturnType<typeof createGalleryService>>;

export async function createGalleryService(deps: GalleryServiceDeps, options: GalleryServiceOptions) {
  const { db, dialect, release } = connectDatabase<GalleryDatabase>(options.database);
  try {
    await migrateSet(db, dialect, {
      name: "gallery",
      table: "gallery_migration",
      migrations: galleryMigrations,
    });
  } catch (error) {
    await release();
    throw error;
  }
  const ctx: GalleryContext = {
    db,
    dialect,
    meta: deps.meta,
    blobs: deps.blobs,
    log: deps.log,
    now: options.now ?? Date.now,
    authEnabled: options.authEnabled,
    webhooks: options.webhooks ?? [],
    // Called only after the deliverer below exists (after a commit).
    deliveriesQueued: () => deliverer.kick(),
    generation: { value: 0 },
  };
  const deliverer: Deliverer = createDeliverer(ctx, {
    backoffMs: options.delivery?.backoffMs ?? 2000,
    maxAttempts: options.delivery?.maxAttempts ?? 8,
    timeoutMs: options.delivery?.timeoutMs ?? 10_000,
    pollMs: options.delivery?.pollMs ?? 1000,
  });
  const galleries = galleryOps(ctx);
  const images = imageOps(ctx);
  const versions = versionOps(ctx);
  const channels = channelOps(ctx);
  const auditLog = auditOps(ctx);
  const pullPath: PullPath = createPullPath(ctx);

  async function promoted(actor: Actor, version: ImageVersion, data: Record<string, unknown>): Promise<void> {
    await inTransaction(ctx, async (trx) => {
      await emit(
        ctx,
        trx,
        {
          type: "version.promoted",
          gallery: version.gallery,
          image: version.image,
          version: version.version,
          digest: version.digest,
          data,
        },
        actor,
      );
    });
  }

  const requests = requestOps(ctx, async (request) => {
    const approver: Actor = { user: request.approvals.at(-1)?.user };
    if (request.kind === "channel" && request.target.channel !== undefined) {
      await channels.move(
        approver,
        { gallery: request.target.gallery, image: request.target.image, channel: request.target.channel },
        request.version,
        "approved",
        { request: request.id },
      );
      return;
    }
    const result = await versions.copy(approver, request, request.target.gallery, request.approvals);
    await promoted(approver, result.version, { from: request.gallery, request: request.id });
  });

  async function setChannel(actor: Actor, key: ChannelKey, input: ChannelSet): Promise<MoveOutcome> {
    const plan = await channels.plan(actor, key, input);
    const configure = {
      ...(input.restricted === undefined ? {} : { restricted: input.restricted }),
      ...(input.approvals === undefined ? {} : { approvals: input.approvals }),
    };
    if (plan.existing?.restricted === true && plan.existing.version !== plan.version) {
      const request = await requests.create(actor, {
        kind: "channel",
        gallery: key.gallery,
        image: key.image,
        version: plan.version,
        target: { gallery: key.gallery, image: key.image, channel: key.channel },
        required: plan.approvals,
      });
      return { status: "pending", request };
    }
    if (plan.existing !== undefined && plan.existing.version === plan.version) {
      // Same version: only the configuration changes, without a history entry.
      const channel = await inTransaction(ctx, async (trx) => {
        await trx
          .updateTable("gallery_channels")
          .set({
            ...(configure.restricted === undefined ? {} : { restricted: configure.restricted ? 1 : 0 }),
            ...(configure.approvals === undefined ? {} : { approvals: configure.approvals }),
          })
          .where("gallery", "=", key.gallery)
          .where("image", "=", key.image)
          .where("name", "=", key.channel)
          .execute();
        await audit(ctx, trx, actor, {
          action: "channel.configured",
          gallery: key.gallery,
          image: key.image,
          target: key.channel,
          before: { restricted: plan.existing?.restricted, approvals: plan.existing?.approvals },
          after: configure,
        });
        return mustLoadChannel(trx, key);
      });
      return { status: "moved", channel };
    }
    return { status: "moved", channel: await channels.move(actor, key, plan.version, "set", { configure }) };
  }

  async function rollback(actor: Actor, key: ChannelKey, input: ChannelRollback): Promise<MoveOutcome> {
    const target = await channels.rollbackTarget(actor, key, input);
    const channel = await channels.get(actor, key);
    if (channel.restricted) {
      const request = await requests.create(actor, {
        kind: "channel",
        gallery: key.gallery,
        image: key.image,
        version: target,
        target: { ...key },
        required: channel.approvals,
      });
      return { status: "pending", request };
    }
    return { status: "moved", channel: await channels.move(actor, key, target, "rollback") };
  }

  async function promote(actor: Actor, input: Promote): Promise<PromoteOutcome> {
    const source = { gallery: input.gallery, image: input.image, version: input.version };
    if (input.toGallery === undefined) {
      if (input.channel === undefined)
        throw new GalleryError("INVALID", "Promote needs a channel, a target gallery, or both");
      const outcome = await setChannel(
        actor,
        { gallery: input.gallery, image: input.image, channel: input.channel },
        { version: input.version },
      );
      return outcome.status === "moved" ? { status: "done", channel: outcome.channel } : outcome;
    }
    if (input.toGallery === input.gallery)
      throw new GalleryError("INVALID", `Version is already in gallery ${q(input.gallery)}`);
    await requireRole(ctx, db, actor, input.gallery, "reader");
    await requireRole(ctx, db, actor, input.toGallery, "publisher");
    const sourceGallery = await mustLoadGallery(db, input.gallery);
    const row = await mustLoadVersionRow(db, input.gallery, input.image, input.version);
    const state = toVersion(row, ctx.now(), sourceGallery.restoreDays).state;
    if (state !== "published") {
      throw new GalleryError(
        "CONFLICT",
        `Version ${q(`${input.gallery}/${input.image}:${input.version}`)} is ${state}; only a published version can be promoted`,
      );
    }
    await ensureDefinition(actor, input.gallery, input.image, input.toGallery);
    const target = await mustLoadGallery(db, input.toGallery);
    if (target.approvals > 0) {
      const request = await requests.create(actor, {
        kind: "copy",
        ...source,
        target: { gallery: input.toGallery, image: input.image },
        required: target.approvals,
      });
      return { status: "pending", request };
    }
    const copied = await versions.copy(actor, source, input.toGallery, []);
    await promoted(actor, copied.version, { from: input.gallery });
    if (input.channel !== undefined) {
      const outcome = await setChannel(
        actor,
        { gallery: input.toGallery, image: input.image, channel: input.channel },
        { version: input.version },
      );
      if (outcome.status === "pending") return outcome;
      return { status: "done", version: copied.version, channel: outcome.channel };
    }
    return { status: "done", version: copied.version };
  }

  /** A copy lands in the target gallery's definition of the same name, created if missing. */
  async function ensureDefinition(
    actor: Actor,
    fromGallery: string,
    image: string,
    toGallery: string,
  ): Promise<void> {
    try {
      await mustLoadImage(db, toGallery, image);
      return;
    } catch (error) {
      if (!(error instanceof GalleryError) || error.code !== "NOT_FOUND") throw error;
    }
    const source = await mustLoadImage(db, fromGallery, image);
    const { gallery: _g, repository: _r, createdAt: _c, createdBy: _b, ...definition } = source;
    try {
      await images.define(actor, toGallery, definition);
    } catch (error) {
      if (!(error instanceof GalleryError) || error.code !== "CONFLICT") throw error;
    }
  }

  /** Applies due scheduled revocations and purges deletions whose restore window ended. */
  async function sweep(): Promise<{ revoked: number; purged: number }> {
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
      // The version's tag goes too, so garbage collection can reclaim content nothing else holds.
      await deps.meta.tags.delete(`${row.gallery}/${row.image}`, row.version);
    }
    return { revoked: due.length, purged };
  }

  const sweepTimer = setInterval(() => {
    sweep().catch((err: unknown) => deps.log.error({ err }, "gallery sweep failed"));
  }, options.sweepMs ?? 60_000);
  sweepTimer.unref();

  return {
    authEnabled: options.authEnabled,
    galleries,
    images,
    versions,
    channels: {
      list: channels.list,
      get: channels.get,
      history: channels.history,
      set: setChannel,
      rollback,
    },
    promote,
    requests: { list: requests.list, get: requests.get, approve: requests.approve, reject: requests.reject },
    audit: auditLog,
    deliveries: deliverer,
    pullPath,
    sweep,
    async close(): Promise<void> {
      clearInterval(sweepTimer);
      await deliverer.stop();
      await release();
    },
  };
}
