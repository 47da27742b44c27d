// The blobs facet: which repositories hold which blobs (rows only; bytes are in the pool).
// A link is written under the commit lock of its digest and ends the claim it was made under.
import type { Kysely } from "kysely";
import type { Digest } from "../../oci/index.ts";
import type { BlobInfo, MetadataStore, RecordOptions } from "../types.ts";
import { endClaim, lockSet } from "./claims.ts";
import { lockedTransaction } from "./commit-lock.ts";
import { ensureRepository } from "./rows.ts";
import type { Database, Dialect } from "./schema.ts";

export function blobLinksFacet(db: Kysely<Database>, dialect: Dialect): MetadataStore["blobs"] {
  return {
    async link(repository: string, blob: BlobInfo, options: RecordOptions = {}): Promise<void> {
      const { claim } = options;
      await lockedTransaction(db, dialect, lockSet([blob.digest], claim), async (trx) => {
        if (claim !== undefined) await endClaim(trx, claim);
        await ensureRepository(trx, repository);
        await trx
          .insertInto("blob_links")
          .values({ repository, digest: blob.digest, size: blob.size, created_at: Date.now() })
          .onConflict((oc) => oc.columns(["repository", "digest"]).doNothing())
          .execute();
      });
    },

    async get(repository: string, digest: Digest): Promise<BlobInfo | undefined> {
      const row = await db
        .selectFrom("blob_links")
        .select("size")
        .where("repository", "=", repository)
        .where("digest", "=", digest)
        .executeTakeFirst();
      return row === undefined ? undefined : { digest, size: Number(row.size) };
    },

    async unlink(repository: string, digest: Digest): Promise<boolean> {
      const result = await db
        .deleteFrom("blob_links")
        .where("repository", "=", repository)
        .where("digest", "=", digest)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async linkCount(digest: Digest): Promise<number> {
      const row = await db
        .selectFrom("blob_links")
        .select((eb) => eb.fn.countAll<number | string>().as("count"))
        .where("digest", "=", digest)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
