// What garbage collection keeps: every digest a repository links (blob_links), every manifest,
// every digest a manifest names (manifest_refs: config, layers, child manifests) and every digest
// an unexpired claim holds for a commit in progress. all() is the collector's quick first pass;
// removeIfUnreferenced() is the decision, taken again for one digest under the commit lock that
// every write adding a reference takes, so no reference can appear between check and delete.
// holders() reads the same references the other way: which manifests name given digests.
import type { Kysely } from "kysely";
import { parseDigest, type Digest } from "../../oci/index.ts";
import type { Holder, MetadataStore } from "../types.ts";
import { lockedTransaction } from "./commit-lock.ts";
import { inLists } from "./rows.ts";
import type { Database, Dialect } from "./schema.ts";

export function referencesFacet(db: Kysely<Database>, dialect: Dialect): MetadataStore["references"] {
  return {
    async all(): Promise<Set<string>> {
      const marks = new Set<string>();
      for (const row of await db.selectFrom("blob_links").select("digest").distinct().execute()) {
        marks.add(row.digest);
      }
      for (const row of await db.selectFrom("manifests").select("digest").distinct().execute()) {
        marks.add(row.digest);
      }
      for (const row of await db.selectFrom("manifest_refs").select("digest").distinct().execute()) {
        marks.add(row.digest);
      }
      return marks;
    },

    async holders(digests: readonly Digest[], repository?: string): Promise<Holder[]> {
      const found: Holder[] = [];
      for (const list of inLists(digests)) {
        let query = db
          .selectFrom("manifest_refs")
          .select(["manifest", "digest"])
          .distinct()
          .where("digest", "in", list);
        if (repository !== undefined) query = query.where("repository", "=", repository);
        for (const row of await query.execute())
          found.push({ manifest: parseDigest(row.manifest), digest: parseDigest(row.digest) });
      }
      return found;
    },

    async removeIfUnreferenced(digest: Digest, at: Date, remove: () => Promise<boolean>): Promise<boolean> {
      return lockedTransaction(db, dialect, [digest], async (trx) => {
        const claimed = await trx
          .selectFrom("blob_claims")
          .select("id")
          .where("digest", "=", digest)
          .where("expires_at", ">", at.getTime())
          .executeTakeFirst();
        if (claimed !== undefined) return false;
        for (const table of ["blob_links", "manifests", "manifest_refs"] as const) {
          const row = await trx
            .selectFrom(table)
            .select("digest")
            .where("digest", "=", digest)
            .limit(1)
            .executeTakeFirst();
          if (row !== undefined) return false;
        }
        if (!(await remove())) return false;
        // Expired claims on the digest end with it: their commits find them gone and fail.
        await trx.deleteFrom("blob_claims").where("digest", "=", digest).execute();
        return true;
      });
    },
  };
}
