// Image definitions: a repository of a gallery with typed metadata (kind, os, arch, owner,
// labels, and for VM images the hypervisor generation, boot mode and sizing).
import {
  type Actor,
  type Db,
  type GalleryContext,
  actorName,
  audit,
  inTransaction,
  requireRole,
} from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import { checkComponentName, type DefinitionMetadata, type ImageDefinition } from "./model.ts";
import { checkSites } from "./replicas.ts";
import { toDefinition } from "./rows.ts";
import type { ImageDefine, ImageUpdate } from "./schemas.ts";

export async function mustLoadImage(db: Db, gallery: string, name: string): Promise<ImageDefinition> {
  const row = await db
    .selectFrom("gallery_images")
    .selectAll()
    .where("gallery", "=", gallery)
    .where("name", "=", name)
    .executeTakeFirst();
  if (row === undefined) {
    throw new GalleryError("NOT_FOUND", `Image definition ${q(`${gallery}/${name}`)} does not exist`, {
      detail: { gallery, image: name },
    });
  }
  return toDefinition(row);
}

function metadataOf(input: ImageUpdate, kind: string): DefinitionMetadata {
  if (input.vm !== undefined && kind !== "vm") {
    throw new GalleryError("INVALID", `Field "vm" applies only to definitions of kind "vm", not ${q(kind)}`);
  }
  const { description, os, arch, publisher, owner, releaseNotesUrl, labels, vm } = input;
  const { replicateTo, rebuildDays, retention } = input;
  const fields = { description, os, arch, publisher, owner, releaseNotesUrl, labels, vm };
  return Object.fromEntries(
    Object.entries({ ...fields, replicateTo, rebuildDays, retention }).filter(([, v]) => v !== undefined),
  ) as DefinitionMetadata;
}

export function imageOps(ctx: GalleryContext) {
  return {
    async define(actor: Actor, gallery: string, input: ImageDefine): Promise<ImageDefinition> {
      const name = checkComponentName("image definition", input.name);
      const { name: _n, kind, ...rest } = input;
      if (rest.replicateTo !== undefined) checkSites(ctx, rest.replicateTo, "replicateTo");
      const metadata = metadataOf(rest, kind);
      return inTransaction(ctx, async (trx) => {
        await requireRole(ctx, trx, actor, gallery, "publisher");
        const inserted = await trx
          .insertInto("gallery_images")
          .values({
            gallery,
            name,
            kind,
            metadata: JSON.stringify(metadata),
            created_at: ctx.now(),
            created_by: actorName(actor),
          })
          .onConflict((oc) => oc.columns(["gallery", "name"]).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
          throw new GalleryError("CONFLICT", `Image definition ${q(`${gallery}/${name}`)} already exists`);
        }
        const image = await mustLoadImage(trx, gallery, name);
        await audit(ctx, trx, actor, { action: "image.defined", gallery, image: name, after: image });
        return image;
      });
    },

    async list(actor: Actor, gallery: string): Promise<ImageDefinition[]> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      const rows = await ctx.db
        .selectFrom("gallery_images")
        .selectAll()
        .where("gallery", "=", gallery)
        .orderBy("name")
        .execute();
      return rows.map(toDefinition);
    },

    async get(actor: Actor, gallery: string, name: string): Promise<ImageDefinition> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      return mustLoadImage(ctx.db, gallery, name);
    },

    async update(actor: Actor, gallery: string, name: string, patch: ImageUpdate): Promise<ImageDefinition> {
      return inTransaction(ctx, async (trx) => {
        await requireRole(ctx, trx, actor, gallery, "publisher");
        const before = await mustLoadImage(trx, gallery, name);
        const {
          gallery: _g,
          name: _n,
          repository: _r,
          kind,
          createdAt: _c,
          createdBy: _b,
          ...current
        } = before;
        // Only sites named by this change are checked: one removed from the configuration since
        // it was named does not block other changes.
        if (patch.replicateTo !== undefined) checkSites(ctx, patch.replicateTo, "replicateTo");
        const metadata = metadataOf({ ...current, ...patch } as ImageUpdate, kind);
        await trx
          .updateTable("gallery_images")
          .set({ metadata: JSON.stringify(metadata) })
          .where("gallery", "=", gallery)
          .where("name", "=", name)
          .execute();
        const after = await mustLoadImage(trx, gallery, name);
        await audit(ctx, trx, actor, { action: "image.updated", gallery, image: name, before, after });
        return after;
      });
    },

    /** Removes a definition that has no versions (deleted ones included) (admin). */
    async remove(actor: Actor, gallery: string, name: string): Promise<ImageDefinition> {
      return inTransaction(ctx, async (trx) => {
        await requireRole(ctx, trx, actor, gallery, "admin");
        const before = await mustLoadImage(trx, gallery, name);
        const versions = await trx
          .selectFrom("gallery_versions")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("gallery", "=", gallery)
          .where("image", "=", name)
          .executeTakeFirst();
        const count = Number(versions?.n ?? 0);
        if (count > 0) {
          throw new GalleryError(
            "CONFLICT",
            `Image definition ${q(`${gallery}/${name}`)} still has ${count} version${count === 1 ? "" : "s"} (deleted ones included); it can be removed once they are purged`,
          );
        }
        await trx
          .deleteFrom("gallery_channels")
          .where("gallery", "=", gallery)
          .where("image", "=", name)
          .execute();
        await trx
          .deleteFrom("gallery_images")
          .where("gallery", "=", gallery)
          .where("name", "=", name)
          .execute();
        await audit(ctx, trx, actor, { action: "image.removed", gallery, image: name, before });
        return before;
      });
    },
  };
}
