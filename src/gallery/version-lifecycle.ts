// The lifecycle of a published version: EOL and exclude-from-latest changes, deprecation,
// revocation (now or scheduled, optionally cascading to versions built on it), soft deletion
// and restore. Each is one transaction with its audit entry and webhook event.
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
import { parseDate, parseFutureDate } from "./dates.ts";
import type { GalleryDatabase, VersionsTable } from "./db/schema.ts";
import { GalleryError, q } from "./errors.ts";
import { mustLoadGallery } from "./galleries.ts";
import type { ImageVersion } from "./model.ts";
import type { Deprecate, Revoke, VersionUpdate } from "./schemas.ts";
import { parseVersionNumber } from "./semver.ts";
import { mustLoadVersionRow, reloadVersion, viewVersion } from "./version-rows.ts";

const DAY = 86_400_000;

export interface RevokeResult {
  readonly revoked: readonly ImageVersion[];
  /** Versions built on a revoked one that the caller may not revoke (no publisher role). */
  readonly skipped: readonly { gallery: string; image: string; version: string }[];
}

/**
 * A change the definition's retention rules make (retention-run.ts): the rule, why, and a check
 * run first in the change's transaction that throws when the rule no longer applies.
 */
export interface RetentionCause {
  readonly rule: string;
  readonly reason: string;
  readonly guard: (trx: Transaction<GalleryDatabase>) => Promise<void>;
}

/** The role a change needs, and the retention rule that makes it, if one does. */
interface Access {
  readonly role: "publisher" | "admin";
  readonly cause?: RetentionCause | undefined;
}

export function versionLifecycleOps(ctx: GalleryContext) {
  async function transition(
    actor: Actor,
    key: { gallery: string; image: string; version: string },
    access: Access,
    change: (trx: Transaction<GalleryDatabase>, row: VersionsTable, before: ImageVersion) => Promise<string>,
  ): Promise<ImageVersion> {
    return inTransaction(ctx, async (trx) => {
      await requireRole(ctx, trx, actor, key.gallery, access.role);
      await access.cause?.guard(trx);
      const row = await mustLoadVersionRow(trx, key.gallery, key.image, key.version);
      const before = await viewVersion(ctx, trx, key.gallery, row);
      const action = await change(trx, row, before);
      const after = await reloadVersion(ctx, trx, key);
      // A change made by retention names its rule in the audit entry.
      const cause = access.cause;
      const retention = cause === undefined ? {} : { retention: { rule: cause.rule, reason: cause.reason } };
      await audit(ctx, trx, actor, { action, ...key, before, after: { ...after, ...retention } });
      return after;
    });
  }

  const where = (trx: Db, key: { gallery: string; image: string; version: string }) =>
    trx
      .updateTable("gallery_versions")
      .where("gallery", "=", key.gallery)
      .where("image", "=", key.image)
      .where("version", "=", key.version);

  return {
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
      return transition(actor, key, { role: "publisher" }, async (trx, row, before) => {
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
      options: { retention?: RetentionCause } = {},
    ): Promise<ImageVersion> {
      if (input.replacement !== undefined) parseVersionNumber(input.replacement);
      const access = { role: "publisher", cause: options.retention } as const;
      const result = await transition(actor, key, access, async (trx, _row, before) => {
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
        const after = await transition(actor, next.key, { role: "publisher" }, async (trx, _row, before) => {
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
      options: { force?: boolean; retention?: RetentionCause } = {},
    ): Promise<ImageVersion> {
      const role = options.force === true ? "admin" : "publisher";
      const retention = options.retention;
      return transition(actor, key, { role, cause: retention }, async (trx, row, before) => {
        if (before.state === "deleted")
          throw new GalleryError("CONFLICT", `Version ${q(key.version)} is already deleted`);
        const now = ctx.now();
        // Retention may delete before the end of life (the unused rule): the definition's
        // publishers set its rules, and the deletion stays restorable.
        if (options.force !== true && retention === undefined && (row.eol === null || row.eol > now)) {
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
        const data = {
          force: options.force === true,
          ...(retention === undefined
            ? {}
            : { retention: { rule: retention.rule, reason: retention.reason } }),
        };
        await emit(ctx, trx, { type: "version.deleted", ...key, digest: before.digest, data }, actor);
        return options.force === true ? "version.deleted.forced" : "version.deleted";
      });
    },

    async restore(
      actor: Actor,
      key: { gallery: string; image: string; version: string },
    ): Promise<ImageVersion> {
      return transition(actor, key, { role: "publisher" }, async (trx, row, before) => {
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
            restored_at: ctx.now(),
          })
          .execute();
        await emit(ctx, trx, { type: "version.restored", ...key, digest: before.digest }, actor);
        return "version.restored";
      });
    },
  };
}
