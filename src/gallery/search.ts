// Search across the galleries the caller reads: definitions by name, description and labels (a
// label matches by key, value or "key=value"), versions by number, build id and source revision;
// deleted versions are left out. Matching is a case-insensitive substring (ASCII letters fold),
// done by the database; each kind is paged by keyset (definitions by gallery and name, versions
// by gallery, definition and number, highest first) with an opaque cursor, and counted. There is
// no full-text index: a search reads the rows of the caller's galleries, which stays quick for
// the hundreds of definitions and tens of thousands of versions a gallery server holds.
import { sql, type RawBuilder } from "kysely";
import { type Actor, type GalleryContext, readableGalleryNames } from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import type { ImageDefinition, ImageVersion } from "./model.ts";
import { toDefinition, toVersion } from "./rows.ts";
import { isVersionNumber, parseVersionNumber } from "./semver.ts";

export const SEARCH_KINDS = ["definitions", "versions"] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];
export const SEARCH_DEFAULT = 20;
export const SEARCH_MAX = 100;

export interface SearchQuery {
  readonly q: string;
  /** One kind only (needed with `after`). */
  readonly kind?: SearchKind;
  readonly limit?: number;
  /** The `next` cursor of the previous page of `kind`. */
  readonly after?: string;
}

export interface Found<T> {
  readonly items: T[];
  readonly total: number;
  readonly next?: string;
}

export interface SearchResults {
  readonly definitions: Found<ImageDefinition>;
  readonly versions: Found<ImageVersion>;
}

const encode = (key: readonly string[]): string => Buffer.from(JSON.stringify(key)).toString("base64url");

const badCursor = (cursor: string): GalleryError =>
  new GalleryError("INVALID", `Invalid after ${q(cursor.slice(0, 40))}: not a cursor of this search`, {
    detail: { after: cursor.slice(0, 40) },
  });

/** The key in a cursor: `length` strings, the last a version number when `version`. */
function decode(cursor: string, length: number, version = false): string[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== length || !key.every((k) => typeof k === "string"))
    throw badCursor(cursor);
  if (version && !isVersionNumber(String(key[length - 1]))) throw badCursor(cursor);
  return key as string[];
}

/** `%needle%` for LIKE with "!" as the escape character. */
const pattern = (needle: string): string => `%${needle.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;

export function searchOps(ctx: GalleryContext) {
  const pg = ctx.dialect === "postgres";
  /** A text field of a JSON column (null when absent). */
  const field = (column: string, name: string): RawBuilder<string | null> =>
    pg
      ? sql<string | null>`(${sql.ref(column)}::jsonb ->> ${name})`
      : sql<string | null>`json_extract(${sql.ref(column)}, ${`$.${name}`})`;
  const like = (value: RawBuilder<unknown>, p: string) => sql<boolean>`lower(${value}) like ${p} escape '!'`;

  function definitionMatch(p: string): RawBuilder<boolean> {
    const labels = pg
      ? sql`jsonb_each_text(gallery_images.metadata::jsonb -> 'labels')`
      : sql`json_each(gallery_images.metadata, '$.labels')`;
    return sql<boolean>`(${like(sql.ref("gallery_images.name"), p)}
      or ${like(field("gallery_images.metadata", "description"), p)}
      or exists (select 1 from ${labels} l where ${like(sql.ref("l.key"), p)}
        or ${like(sql.ref("l.value"), p)} or ${like(sql`l.key || '=' || l.value`, p)}))`;
  }

  function versionMatch(p: string): RawBuilder<boolean> {
    return sql<boolean>`(${like(sql.ref("gallery_versions.version"), p)}
      or ${like(field("gallery_versions.metadata", "buildId"), p)}
      or ${like(field("gallery_versions.metadata", "sourceRevision"), p)})`;
  }

  async function definitions(galleries: string[], p: string, limit: number, after?: string) {
    const base = () =>
      ctx.db.selectFrom("gallery_images").where("gallery", "in", galleries).where(definitionMatch(p));
    let rows = base().selectAll();
    if (after !== undefined) {
      const [g = "", n = ""] = decode(after, 2);
      rows = rows.where(sql<boolean>`(gallery > ${g} or (gallery = ${g} and name > ${n}))`);
    }
    const found = await rows
      .orderBy("gallery")
      .orderBy("name")
      .limit(limit + 1)
      .execute();
    const total = await base()
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirst();
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toDefinition),
      total: Number(total?.n ?? 0),
      ...(found.length > limit && last !== undefined ? { next: encode([last.gallery, last.name]) } : {}),
    };
  }

  async function versions(galleries: string[], p: string, limit: number, after?: string) {
    const base = () =>
      ctx.db
        .selectFrom("gallery_versions")
        .where("gallery", "in", galleries)
        .where("state", "!=", "deleted")
        .where(versionMatch(p));
    let rows = base().selectAll();
    if (after !== undefined) {
      const [g = "", i = "", v = ""] = decode(after, 3, true);
      const n = parseVersionNumber(v);
      rows = rows.where(
        sql<boolean>`(gallery > ${g} or (gallery = ${g} and image > ${i})
          or (gallery = ${g} and image = ${i} and (major, minor, patch) < (${n.major}, ${n.minor}, ${n.patch})))`,
      );
    }
    const found = await rows
      .orderBy("gallery")
      .orderBy("image")
      .orderBy("major", "desc")
      .orderBy("minor", "desc")
      .orderBy("patch", "desc")
      .limit(limit + 1)
      .execute();
    const total = await base()
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirst();
    const page = found.slice(0, limit);
    const restore = new Map(
      (
        await ctx.db
          .selectFrom("gallery_galleries")
          .select(["name", "restore_days"])
          .where("name", "in", galleries)
          .execute()
      ).map((r) => [r.name, Number(r.restore_days)]),
    );
    const now = ctx.now();
    const last = page[page.length - 1];
    return {
      items: page.map((r) => toVersion(r, now, restore.get(r.gallery) ?? 0)),
      total: Number(total?.n ?? 0),
      ...(found.length > limit && last !== undefined
        ? { next: encode([last.gallery, last.image, last.version]) }
        : {}),
    };
  }

  return {
    async search(actor: Actor, query: SearchQuery): Promise<SearchResults> {
      const needle = query.q.trim();
      if (needle === "" || needle.length > 100) {
        throw new GalleryError("INVALID", "Invalid q: expected 1-100 characters");
      }
      const limit = query.limit ?? SEARCH_DEFAULT;
      if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_MAX) {
        throw new GalleryError("INVALID", `Invalid limit ${String(query.limit)}: expected 1-${SEARCH_MAX}`);
      }
      if (query.after !== undefined && query.kind === undefined) {
        throw new GalleryError("INVALID", "Invalid after: a cursor needs its kind (definitions or versions)");
      }
      if (query.after !== undefined)
        decode(query.after, query.kind === "definitions" ? 2 : 3, query.kind === "versions");
      const galleries = await readableGalleryNames(ctx, actor);
      const none = { items: [], total: 0 };
      if (galleries.length === 0) return { definitions: none, versions: none };
      const p = pattern(needle);
      return {
        definitions: query.kind === "versions" ? none : await definitions(galleries, p, limit, query.after),
        versions: query.kind === "definitions" ? none : await versions(galleries, p, limit, query.after),
      };
    },
  };
}
