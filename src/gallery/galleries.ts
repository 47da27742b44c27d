// Galleries: top-level namespaces with members, roles, an enforcement mode, the approvals a
// copy into them needs and how long deleted versions stay restorable.
import { publicKeyPem } from "../sign/index.ts";
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
import { checkComponentName, checkRole, type Gallery, type GalleryKeys, type Role } from "./model.ts";
import { toGallery } from "./rows.ts";
import type { GalleryCreate, GalleryUpdate } from "./schemas.ts";

export const DEFAULT_RESTORE_DAYS = 30;

export async function loadGallery(db: Db, name: string): Promise<Gallery | undefined> {
  const row = await db
    .selectFrom("gallery_galleries")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const members = await db
    .selectFrom("gallery_members")
    .select(["user_name", "role"])
    .where("gallery", "=", name)
    .orderBy("user_name")
    .execute();
  return toGallery(row, members);
}

export async function mustLoadGallery(db: Db, name: string): Promise<Gallery> {
  const gallery = await loadGallery(db, name);
  if (gallery === undefined)
    throw new GalleryError("NOT_FOUND", `Gallery ${q(name)} does not exist`, { detail: { gallery: name } });
  return gallery;
}

/**
 * A gallery as the caller sees it: a caller who reads it only as anonymous callers may (not a
 * member) is not shown its members' names.
 */
function shownTo(actor: Actor, gallery: Gallery): Gallery {
  if (actor.anonymousReader !== true) return gallery;
  if (actor.user !== undefined && gallery.members[actor.user] !== undefined) return gallery;
  return { ...gallery, members: {} };
}

export function galleryOps(ctx: GalleryContext) {
  return {
    async create(actor: Actor, input: GalleryCreate): Promise<Gallery> {
      if (ctx.authEnabled && actor.user === undefined)
        throw new GalleryError("UNAUTHORIZED", "Authentication required");
      const name = checkComponentName("gallery", input.name);
      const members: Record<string, Role> = {};
      for (const [user, role] of Object.entries(input.members ?? {})) members[user] = checkRole(role);
      if (actor.user !== undefined) members[actor.user] = "admin";
      return inTransaction(ctx, async (trx) => {
        const now = ctx.now();
        const inserted = await trx
          .insertInto("gallery_galleries")
          .values({
            name,
            description: input.description ?? "",
            mode: input.mode ?? "enforce",
            approvals: input.approvals ?? 0,
            restore_days: input.restoreDays ?? DEFAULT_RESTORE_DAYS,
            created_at: now,
            created_by: actorName(actor),
          })
          .onConflict((oc) => oc.column("name").doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
          throw new GalleryError("CONFLICT", `Gallery ${q(name)} already exists`, {
            detail: { gallery: name },
          });
        }
        for (const [user, role] of Object.entries(members)) {
          await trx.insertInto("gallery_members").values({ gallery: name, user_name: user, role }).execute();
        }
        const gallery = await mustLoadGallery(trx, name);
        await audit(ctx, trx, actor, { action: "gallery.created", gallery: name, after: gallery });
        return gallery;
      });
    },

    async list(actor: Actor): Promise<Gallery[]> {
      let names: string[];
      if (!ctx.authEnabled || actor.anonymousReader === true) {
        names = (await ctx.db.selectFrom("gallery_galleries").select("name").orderBy("name").execute()).map(
          (r) => r.name,
        );
      } else {
        if (actor.user === undefined) throw new GalleryError("UNAUTHORIZED", "Authentication required");
        names = (
          await ctx.db
            .selectFrom("gallery_members")
            .select("gallery")
            .where("user_name", "=", actor.user)
            .orderBy("gallery")
            .execute()
        ).map((r) => r.gallery);
      }
      const out: Gallery[] = [];
      for (const name of names) {
        const gallery = await loadGallery(ctx.db, name);
        if (gallery !== undefined) out.push(shownTo(actor, gallery));
      }
      return out;
    },

    async get(actor: Actor, name: string): Promise<Gallery> {
      await requireRole(ctx, ctx.db, actor, name, "reader");
      return shownTo(actor, await mustLoadGallery(ctx.db, name));
    },

    /** The public keys the gallery trusts, and whether it signs what it receives (readers). */
    async keys(actor: Actor, name: string): Promise<GalleryKeys> {
      await requireRole(ctx, ctx.db, actor, name, "reader");
      await mustLoadGallery(ctx.db, name);
      const signing = ctx.signing.get(name);
      const now = ctx.now();
      return {
        gallery: name,
        signs: signing?.key !== undefined,
        keys: (signing?.trusted ?? []).map((k) => ({
          keyId: k.keyId,
          signing: k.keyId === signing?.key?.keyId,
          ...(k.notAfter === undefined
            ? {}
            : { notAfter: k.notAfter.toISOString(), expired: k.notAfter.getTime() <= now }),
          publicKey: publicKeyPem(k.publicKey),
        })),
      };
    },

    async update(actor: Actor, name: string, patch: GalleryUpdate): Promise<Gallery> {
      return inTransaction(ctx, async (trx) => {
        await requireRole(ctx, trx, actor, name, "admin");
        const before = await mustLoadGallery(trx, name);
        await trx
          .updateTable("gallery_galleries")
          .set({
            ...(patch.description === undefined ? {} : { description: patch.description }),
            ...(patch.mode === undefined ? {} : { mode: patch.mode }),
            ...(patch.approvals === undefined ? {} : { approvals: patch.approvals }),
            ...(patch.restoreDays === undefined ? {} : { restore_days: patch.restoreDays }),
          })
          .where("name", "=", name)
          .execute();
        const after = await mustLoadGallery(trx, name);
        await audit(ctx, trx, actor, { action: "gallery.updated", gallery: name, before, after });
        return after;
      });
    },

    /** Sets a member's role, or removes the member when role is undefined. */
    async setMember(actor: Actor, name: string, user: string, role: Role | undefined): Promise<Gallery> {
      if (user.length === 0 || user.length > 128)
        throw new GalleryError("INVALID", `Invalid user name ${q(user)}`);
      return inTransaction(ctx, async (trx) => {
        await requireRole(ctx, trx, actor, name, "admin");
        const before = await mustLoadGallery(trx, name);
        const admins = Object.entries(before.members).filter(([u, r]) => r === "admin" && u !== user);
        if (ctx.authEnabled && role !== "admin" && before.members[user] === "admin" && admins.length === 0) {
          throw new GalleryError("CONFLICT", `User ${q(user)} is the last admin of gallery ${q(name)}`);
        }
        await trx
          .deleteFrom("gallery_members")
          .where("gallery", "=", name)
          .where("user_name", "=", user)
          .execute();
        if (role !== undefined) {
          await trx
            .insertInto("gallery_members")
            .values({ gallery: name, user_name: user, role: checkRole(role) })
            .execute();
        }
        const after = await mustLoadGallery(trx, name);
        await audit(ctx, trx, actor, {
          action: role === undefined ? "member.removed" : "member.set",
          gallery: name,
          target: user,
          before: before.members[user] ?? null,
          after: role ?? null,
        });
        return after;
      });
    },

    /** Removes a gallery that has no image definitions (admin). Its audit log is kept. */
    async remove(actor: Actor, name: string): Promise<Gallery> {
      return inTransaction(ctx, async (trx) => {
        await requireRole(ctx, trx, actor, name, "admin");
        const before = await mustLoadGallery(trx, name);
        const images = await trx
          .selectFrom("gallery_images")
          .select("name")
          .where("gallery", "=", name)
          .execute();
        if (images.length > 0) {
          throw new GalleryError(
            "CONFLICT",
            `Gallery ${q(name)} still has image definitions (${images
              .slice(0, 5)
              .map((i) => q(i.name))
              .join(", ")}${images.length > 5 ? ", …" : ""}); remove them first`,
          );
        }
        await trx.deleteFrom("gallery_members").where("gallery", "=", name).execute();
        await trx.deleteFrom("gallery_galleries").where("name", "=", name).execute();
        await audit(ctx, trx, actor, { action: "gallery.removed", gallery: name, before });
        return before;
      });
    },
  };
}
