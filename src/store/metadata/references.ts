// The mark set of garbage collection: every digest a repository links (blob_links), every
// manifest, and every digest a manifest names (config, layers, child manifests).
import type { Kysely } from "kysely";
import type { MetadataStore } from "../types.ts";
import type { Database } from "./schema.ts";

export function referencesFacet(db: Kysely<Database>): MetadataStore["references"] {
  return {
    async all(): Promise<Set<string>> {
      const marks = new Set<string>();
      for (const row of await db.selectFrom("blob_links").select("digest").distinct().execute()) {
        marks.add(row.digest);
      }
      for (const row of await db.selectFrom("manifests").select(["digest", "refs"]).execute()) {
        marks.add(row.digest);
        for (const ref of JSON.parse(row.refs) as string[]) marks.add(ref);
      }
      return marks;
    },
  };
}
