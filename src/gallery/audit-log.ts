// Reading the audit log: every change with who, what, when and the state before and after,
// filtered by gallery, definition, version, actor, action and time, newest first.
import { type Actor, type GalleryContext, requireRole } from "./context.ts";
import { parseDate } from "./dates.ts";
import { GalleryError } from "./errors.ts";
import type { AuditEntry } from "./model.ts";
import { toAudit } from "./rows.ts";

export interface AuditFilter {
  readonly gallery: string;
  readonly image?: string;
  readonly version?: string;
  readonly actor?: string;
  /** An action or an action prefix ending in "." (e.g. "version."). */
  readonly action?: string;
  readonly since?: string;
  readonly until?: string;
  /** Entries with an id below this one (paging backwards). */
  readonly before?: number;
  readonly limit?: number;
}

export function auditOps(ctx: GalleryContext) {
  return {
    async query(actor: Actor, filter: AuditFilter): Promise<AuditEntry[]> {
      await requireRole(ctx, ctx.db, actor, filter.gallery, "reader");
      const limit = filter.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new GalleryError("INVALID", `Invalid limit ${String(filter.limit)}: expected 1-1000`);
      }
      let query = ctx.db.selectFrom("gallery_audit").selectAll().where("gallery", "=", filter.gallery);
      if (filter.image !== undefined) query = query.where("image", "=", filter.image);
      if (filter.version !== undefined) query = query.where("version", "=", filter.version);
      if (filter.actor !== undefined) query = query.where("actor", "=", filter.actor);
      if (filter.action !== undefined) {
        query = filter.action.endsWith(".")
          ? query.where("action", "like", `${filter.action.replace(/[%_\\]/g, "")}%`)
          : query.where("action", "=", filter.action);
      }
      if (filter.since !== undefined) query = query.where("at", ">=", parseDate("since", filter.since));
      if (filter.until !== undefined) query = query.where("at", "<", parseDate("until", filter.until));
      if (filter.before !== undefined) query = query.where("id", "<", filter.before);
      const rows = await query.orderBy("id", "desc").limit(limit).execute();
      return rows.map(toAudit);
    },
  };
}
