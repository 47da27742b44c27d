// The tags facet: names in byte order with n/last pagination.
import type { Kysely } from "kysely";
import type { MetadataStore, Page } from "../types.ts";
import { limitOf } from "./rows.ts";
import type { Database } from "./schema.ts";

export function tagsFacet(db: Kysely<Database>): MetadataStore["tags"] {
  return {
    async list(repository: string, page: Page): Promise<string[]> {
      const limit = limitOf(page);
      if (limit === 0) return [];
      let query = db.selectFrom("tags").select("name").where("repository", "=", repository).orderBy("name");
      if (page.last !== undefined) query = query.where("name", ">", page.last);
      if (limit !== undefined) query = query.limit(limit);
      return (await query.execute()).map((r) => r.name);
    },

    async delete(repository: string, tag: string): Promise<boolean> {
      const result = await db
        .deleteFrom("tags")
        .where("repository", "=", repository)
        .where("name", "=", tag)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
