// Reading the audit log: every change with who, what, when and the state before and after,
// filtered by gallery, definition, version, actor, action and time, newest first, paged by entry
// id. Each filter has an index that starts with the gallery and ends with the id (migration
// 0007), so a filtered page of a log of any length is read from an index, not the table: an
// action prefix is a byte range (`version.` ≤ action < `version/`), not a LIKE, which neither
// SQLite (case-insensitive LIKE) nor PostgreSQL (LIKE under a locale) answers from an index.
import { type Actor, type Db, type GalleryContext, requireRole } from "./context.ts";
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
  /** Entries with an id below this one (the next, older page). */
  readonly before?: number;
  /** Entries with an id above this one (the previous, newer page); still answered newest first. */
  readonly after?: number;
  readonly limit?: number;
}

/** The next string after every string that starts with `prefix` (its last character plus one). */
const prefixEnd = (prefix: string): string =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/** The query of one page, as the service runs it (tests explain its plan). */
export function auditQuery(db: Db, filter: AuditFilter) {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new GalleryError("INVALID", `Invalid limit ${String(filter.limit)}: expected 1-1000`);
  }
  if (filter.before !== undefined && filter.after !== undefined) {
    throw new GalleryError("INVALID", "Invalid cursor: after and before exclude each other");
  }
  let query = db.selectFrom("gallery_audit").selectAll().where("gallery", "=", filter.gallery);
  if (filter.image !== undefined) query = query.where("image", "=", filter.image);
  if (filter.version !== undefined) query = query.where("version", "=", filter.version);
  if (filter.actor !== undefined) query = query.where("actor", "=", filter.actor);
  if (filter.action !== undefined) {
    query =
      filter.action.endsWith(".") && filter.action.length > 1
        ? query.where("action", ">=", filter.action).where("action", "<", prefixEnd(filter.action))
        : query.where("action", "=", filter.action);
  }
  if (filter.since !== undefined) query = query.where("at", ">=", parseDate("since", filter.since));
  if (filter.until !== undefined) query = query.where("at", "<", parseDate("until", filter.until));
  if (filter.before !== undefined) query = query.where("id", "<", filter.before);
  if (filter.after !== undefined) query = query.where("id", ">", filter.after);
  return query.orderBy("id", filter.after === undefined ? "desc" : "asc").limit(limit);
}

export function auditOps(ctx: GalleryContext) {
  return {
    async query(actor: Actor, filter: AuditFilter): Promise<AuditEntry[]> {
      const query = auditQuery(ctx.db, filter);
      await requireRole(ctx, ctx.db, actor, filter.gallery, "reader");
      const rows = await query.execute();
      if (filter.after !== undefined) rows.reverse();
      return rows.map(toAudit);
    },
  };
}
