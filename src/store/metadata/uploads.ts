// The uploads facet: session rows. advance() is a compare-and-set on the offset, so two
// requests appending to one session cannot both succeed.
import type { Kysely } from "kysely";
import type { MetadataStore, UploadRow } from "../types.ts";
import { toUploadRow } from "./rows.ts";
import type { Database } from "./schema.ts";

export function uploadsFacet(db: Kysely<Database>): MetadataStore["uploads"] {
  return {
    async insert(row: UploadRow): Promise<void> {
      await db
        .insertInto("uploads")
        .values({
          id: row.id,
          repository: row.repository,
          offset: row.offset,
          created_at: row.createdAt.getTime(),
          updated_at: row.updatedAt.getTime(),
        })
        .execute();
    },

    async get(id: string): Promise<UploadRow | undefined> {
      const row = await db.selectFrom("uploads").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : toUploadRow(row);
    },

    async advance(id: string, expectedOffset: number, newOffset: number, at: Date): Promise<boolean> {
      const result = await db
        .updateTable("uploads")
        .set({ offset: newOffset, updated_at: at.getTime() })
        .where("id", "=", id)
        .where("offset", "=", expectedOffset)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom("uploads").where("id", "=", id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async olderThan(before: Date): Promise<UploadRow[]> {
      const rows = await db
        .selectFrom("uploads")
        .selectAll()
        .where("updated_at", "<", before.getTime())
        .orderBy("updated_at")
        .execute();
      return rows.map(toUploadRow);
    },

    async count(): Promise<number> {
      const row = await db
        .selectFrom("uploads")
        .select((eb) => eb.fn.countAll<number | string>().as("count"))
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
