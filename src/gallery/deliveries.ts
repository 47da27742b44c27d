// The webhook delivery log as callers see it: only the deliveries of galleries they may read,
// and redelivery (a fresh set of attempts) by a gallery's admins.
import { type Actor, type GalleryContext, audit, readableGalleryNames, requireRole } from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import type { Deliverer, Delivery } from "./webhooks.ts";

export function deliveryOps(ctx: GalleryContext, deliverer: Deliverer) {
  return {
    async list(
      actor: Actor,
      filter: { gallery?: string; state?: string; limit?: number },
    ): Promise<Delivery[]> {
      let galleries: string[];
      if (filter.gallery !== undefined) {
        await requireRole(ctx, ctx.db, actor, filter.gallery, "reader");
        galleries = [filter.gallery];
      } else {
        galleries = await readableGalleryNames(ctx, actor);
      }
      return deliverer.list({
        galleries,
        ...(filter.state === undefined ? {} : { state: filter.state }),
        ...(filter.limit === undefined ? {} : { limit: filter.limit }),
      });
    },

    async redeliver(actor: Actor, id: string): Promise<Delivery> {
      const gallery = await deliverer.galleryOf(id);
      const notFound = new GalleryError("NOT_FOUND", `Delivery ${q(id)} does not exist`, { detail: { id } });
      if (gallery === undefined || gallery === null) throw notFound;
      await requireRole(ctx, ctx.db, actor, gallery, "reader").catch((error: unknown) => {
        throw error instanceof GalleryError && error.code === "NOT_FOUND" ? notFound : error;
      });
      await requireRole(ctx, ctx.db, actor, gallery, "admin");
      const before = await deliverer.get(id);
      // The audit entry queues no delivery, so nothing is sent before the answer is read: it
      // shows the delivery queued again; the kick at the end sends it.
      await ctx.db.transaction().execute(async (trx) => {
        await audit(ctx, trx, actor, {
          action: "delivery.redelivered",
          gallery,
          target: id,
          before: { state: before?.state, attempts: before?.attempts },
        });
      });
      await deliverer.redeliver(id);
      const after = await deliverer.get(id);
      deliverer.kick();
      if (after === undefined) throw notFound;
      return after;
    },
  };
}
