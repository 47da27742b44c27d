// The repositories facet: names in byte order with n/last pagination.
import type { Kysely } from "kysely";
import type { MetadataStore, Page } from "../types.ts";
import { limitOf } from "./rows.ts";
import type { Database } from "./schema.ts";

export function repositoriesFacet(db: Kysely<Database>): MetadataStore["repositories"] {
  return {
    async list(page: Page): Promise<string[]> {
      const limit = limitOf(page);
      if (limit === 0) return [];
      let query = db.selectFrom("repositories").select("name").orderBy("name");
      if (page.last !== undefined) query = query.where("name", ">", page.last);
      if (limit !== undefined) query = query.limit(limit);
      return (await query.execute()).map((r) => r.name);
    },

    async exists(name: string): Promise<boolean> {
      const row = await db
        .selectFrom("repositories")
        .select("name")
        .where("name", "=", name)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
