// One page of a definition's versions, highest first, paged by keyset on the version number
// (major, minor, patch) through the index gallery_versions_order: `after` a number gives the
// versions below it, `before` a number those above it. Each version appears on exactly one page
// of a walk, whatever is published meanwhile; filters (state at this moment, number prefix) are
// applied in the query, and the total and the page's offset are counted with the same filters.
import { sql, type ExpressionBuilder } from "kysely";
import type { Db } from "./context.ts";
import type { GalleryDatabase, VersionsTable } from "./db/schema.ts";
import { GalleryError, q } from "./errors.ts";
import { STORED_STATES, type VersionState } from "./model.ts";
import { isVersionNumber, parseVersionNumber, type VersionNumber } from "./semver.ts";

export const VERSION_PAGE_DEFAULT = 50;
export const VERSION_PAGE_MAX = 500;
const VERSION_STATES: readonly string[] = [...STORED_STATES, "end-of-life"];

export interface VersionPageQuery {
  readonly includeDeleted?: boolean;
  /** The state at `now` (a due revocation or a passed EOL count). */
  readonly state?: string;
  /** The version number starts with this (digits and dots). */
  readonly prefix?: string;
  /** Versions below this number. */
  readonly after?: string;
  /** Versions above this number. */
  readonly before?: string;
  readonly limit?: number;
}

export interface VersionPageRows {
  readonly rows: VersionsTable[];
  /** Versions matching the filters, on every page. */
  readonly total: number;
  /** How many matching versions rank above the page's first row. */
  readonly offset: number;
  /** The cursor for the next (lower) page, when there is one. */
  readonly next?: string;
  /** The cursor for the previous (higher) page, when there is one. */
  readonly previous?: string;
}

type Where = ExpressionBuilder<GalleryDatabase, "gallery_versions">;

function cursor(name: "after" | "before", value: string | undefined): VersionNumber | undefined {
  if (value === undefined) return undefined;
  if (!isVersionNumber(value)) {
    throw new GalleryError("INVALID", `Invalid ${name} ${q(value.slice(0, 40))}: expected a version number`, {
      detail: { [name]: value.slice(0, 40) },
    });
  }
  return parseVersionNumber(value);
}

/** Checks a page query; throws INVALID naming the parameter at fault. */
export function checkVersionPage(query: VersionPageQuery): void {
  const limit = query.limit ?? VERSION_PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > VERSION_PAGE_MAX) {
    throw new GalleryError(
      "INVALID",
      `Invalid limit ${String(query.limit)}: expected 1-${VERSION_PAGE_MAX}`,
      {
        detail: { limit: query.limit },
      },
    );
  }
  if (query.after !== undefined && query.before !== undefined) {
    throw new GalleryError("INVALID", "Invalid cursor: after and before exclude each other");
  }
  cursor("after", query.after);
  cursor("before", query.before);
  if (query.state !== undefined && !VERSION_STATES.includes(query.state)) {
    throw new GalleryError(
      "INVALID",
      `Invalid state ${q(query.state.slice(0, 40))}: expected one of ${VERSION_STATES.join(", ")}`,
    );
  }
  if (query.prefix !== undefined && !/^[0-9.]{1,32}$/.test(query.prefix)) {
    throw new GalleryError(
      "INVALID",
      `Invalid prefix ${q(query.prefix.slice(0, 40))}: expected digits and dots (e.g. "1.4")`,
    );
  }
}

/** The effective state at `now` as a condition on the stored columns (lifecycle.ts's rule). */
function stateIs(eb: Where, state: VersionState, now: number) {
  const live = eb.or([eb("state", "=", "published"), eb("state", "=", "deprecated")]);
  const notDue = eb.or([eb("revoke_at", "is", null), eb("revoke_at", ">", now)]);
  const notEnded = eb.or([eb("eol", "is", null), eb("eol", ">", now)]);
  switch (state) {
    case "deleted":
      return eb("state", "=", "deleted");
    case "revoked":
      return eb.or([eb("state", "=", "revoked"), eb.and([live, eb("revoke_at", "<=", now)])]);
    case "end-of-life":
      return eb.and([live, notDue, eb("eol", "<=", now)]);
    default:
      return eb.and([eb("state", "=", state), notDue, notEnded]);
  }
}

const numbers = sql`(major, minor, patch)`;
const tuple = (v: VersionNumber) => sql`(${v.major}, ${v.minor}, ${v.patch})`;

/** The versions matching the filters (no cursor, no order): what the page, total and offset count. */
function matching(
  db: Db,
  definition: { gallery: string; image: string },
  query: VersionPageQuery,
  now: number,
) {
  const state = query.state as VersionState | undefined;
  let qb = db
    .selectFrom("gallery_versions")
    .where("gallery", "=", definition.gallery)
    .where("image", "=", definition.image);
  if (state !== undefined) qb = qb.where((eb) => stateIs(eb, state, now));
  else if (query.includeDeleted !== true) qb = qb.where("state", "!=", "deleted");
  // Digits and dots only (checked): nothing in it is a LIKE wildcard.
  if (query.prefix !== undefined) qb = qb.where("version", "like", `${query.prefix}%`);
  return qb;
}

/**
 * The query of the page's rows, as versionPage runs it (tests explain its plan): with `before`
 * it reads upwards (lowest first), else downwards.
 */
export function versionPageQuery(
  db: Db,
  definition: { gallery: string; image: string },
  query: VersionPageQuery,
  now: number,
) {
  checkVersionPage(query);
  const limit = query.limit ?? VERSION_PAGE_DEFAULT;
  const after = cursor("after", query.after);
  const before = cursor("before", query.before);
  const qb = matching(db, definition, query, now).selectAll();
  if (before !== undefined) {
    return qb
      .where(sql<boolean>`${numbers} > ${tuple(before)}`)
      .orderBy("major", "asc")
      .orderBy("minor", "asc")
      .orderBy("patch", "asc")
      .limit(limit);
  }
  return (after === undefined ? qb : qb.where(sql<boolean>`${numbers} < ${tuple(after)}`))
    .orderBy("major", "desc")
    .orderBy("minor", "desc")
    .orderBy("patch", "desc")
    .limit(limit);
}

export async function versionPage(
  db: Db,
  definition: { gallery: string; image: string },
  query: VersionPageQuery,
  now: number,
): Promise<VersionPageRows> {
  const after = cursor("after", query.after);
  const before = cursor("before", query.before);
  const rows = await versionPageQuery(db, definition, query, now).execute();
  if (before !== undefined) rows.reverse();
  const base = () => matching(db, definition, query, now);
  const count = async (above?: VersionsTable): Promise<number> => {
    let qb = base();
    if (above !== undefined)
      qb = qb.where(
        sql<boolean>`${numbers} > ${tuple({ major: Number(above.major), minor: Number(above.minor), patch: Number(above.patch) })}`,
      );
    const row = await qb.select((eb) => eb.fn.countAll().as("n")).executeTakeFirst();
    return Number(row?.n ?? 0);
  };
  const total = await count();
  const first = rows[0];
  const last = rows[rows.length - 1];
  // An empty page (past either end): its offset is where the cursor points.
  const offset =
    first !== undefined ? await count(first) : before !== undefined ? 0 : after !== undefined ? total : 0;
  return {
    rows,
    total,
    offset,
    ...(last !== undefined && offset + rows.length < total ? { next: last.version } : {}),
    ...(first !== undefined && offset > 0 ? { previous: first.version } : {}),
  };
}
