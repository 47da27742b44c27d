// Conversions between database rows and the records of types.ts, and the helper every write
// that names a repository uses to create its row.
import type { Kysely, Selectable, Transaction } from "kysely";
import { parseDigest } from "../../oci/index.ts";
import type { ManifestRecord, Page, UploadRow } from "../types.ts";
import type { Database, ManifestsTable, UploadsTable } from "./schema.ts";

export function toManifestRecord(row: Selectable<ManifestsTable>): ManifestRecord {
  const refs = JSON.parse(row.refs) as string[];
  return {
    repository: row.repository,
    digest: parseDigest(row.digest),
    mediaType: row.media_type,
    size: Number(row.size),
    ...(row.artifact_type === null ? {} : { artifactType: row.artifact_type }),
    ...(row.subject === null ? {} : { subject: parseDigest(row.subject) }),
    ...(row.annotations === null
      ? {}
      : { annotations: JSON.parse(row.annotations) as Record<string, string> }),
    references: refs.map(parseDigest),
    createdAt: new Date(Number(row.created_at)),
  };
}

export function toUploadRow(row: Selectable<UploadsTable>): UploadRow {
  return {
    id: row.id,
    repository: row.repository,
    offset: Number(row.offset),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}

/** Inserts the repository row unless it exists. */
export async function ensureRepository(
  db: Kysely<Database> | Transaction<Database>,
  name: string,
): Promise<void> {
  await db
    .insertInto("repositories")
    .values({ name, created_at: Date.now() })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
}

/** Page size as a row limit: undefined for no limit. */
export function limitOf(page: Page): number | undefined {
  return page.n === undefined ? undefined : Math.max(0, Math.floor(page.n));
}

/** Rows a query names at most in one IN list. */
export const IN_LIST_MAX = 500;

/** The distinct values in lists of at most IN_LIST_MAX, for queries with IN lists. */
export function inLists<T>(values: Iterable<T>, size = IN_LIST_MAX): T[][] {
  const distinct = [...new Set(values)];
  const lists: T[][] = [];
  for (let i = 0; i < distinct.length; i += size) lists.push(distinct.slice(i, i + size));
  return lists;
}
