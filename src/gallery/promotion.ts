// Promotion: channel moves that may need approval (restricted channels), rollbacks, copies
// into other galleries (approvals when the target gallery asks for them), and applying an
// approved request.
import type { ChannelKey, channelOps } from "./channels.ts";
import { type Actor, type GalleryContext, emit, inTransaction, requireRole } from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import { mustLoadGallery } from "./galleries.ts";
import { type imageOps, mustLoadImage } from "./images.ts";
import type { ApprovalRequest, Channel, ImageVersion } from "./model.ts";
import { requestOps } from "./requests.ts";
import { toVersion } from "./rows.ts";
import type { ChannelRollback, ChannelSet, Promote } from "./schemas.ts";
import { mustLoadVersionRow } from "./version-rows.ts";
import type { versionOps } from "./versions.ts";

export type MoveOutcome =
  | { readonly status: "moved"; readonly channel: Channel }
  | { readonly status: "pending"; readonly request: ApprovalRequest };

export type PromoteOutcome =
  | { readonly status: "done"; readonly version?: ImageVersion; readonly channel?: Channel }
  | { readonly status: "pending"; readonly request: ApprovalRequest };

export function promotionOps(
  ctx: GalleryContext,
  ops: {
    images: ReturnType<typeof imageOps>;
    versions: ReturnType<typeof versionOps>;
    channels: ReturnType<typeof channelOps>;
  },
) {
  const { images, versions, channels } = ops;
  const db = ctx.db;
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
      // Applied before (a resumed request): the move is in the history already.
      const done = await db
        .selectFrom("gallery_channel_history")
        .select("seq")
        .where("gallery", "=", request.target.gallery)
        .where("image", "=", request.target.image)
        .where("channel", "=", request.target.channel)
        .where("request", "=", request.id)
        .executeTakeFirst();
      if (done !== undefined) return;
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
    // Setting the version it already has changes only the configuration, without a history entry.
    const channel = await channels.move(actor, key, plan.version, "set", {
      configure,
      sameVersionConfigures: true,
    });
    return { status: "moved", channel };
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
    const { gallery: _g, repository: _r, createdAt: _c, createdBy: _b, replicateTo, ...definition } = source;
    try {
      await images.define(
        actor,
        toGallery,
        replicateTo === undefined ? definition : { ...definition, replicateTo: [...replicateTo] },
      );
    } catch (error) {
      if (!(error instanceof GalleryError) || error.code !== "CONFLICT") throw error;
    }
  }

  return {
    setChannel,
    rollback,
    promote,
    resumeInterrupted: requests.resumeInterrupted,
    requests: { list: requests.list, get: requests.get, approve: requests.approve, reject: requests.reject },
  };
}
