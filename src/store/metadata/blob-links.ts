// The blobs facet: which repositories hold which blobs (rows only; bytes are in the pool).
// A link is written under the commit lock of its digest and ends the claim it was made under;
// unlinkUnreferenced decides under the same lock, so it never drops a link a manifest being
// recorded relies on.
import type { Kysely } from "kysely";
import { parseDigest, type Digest } from "../../oci/index.ts";
import type { BlobInfo, MetadataStore, RecordOptions } from "../types.ts";
import { endClaim, lockSet } from "./claims.ts";
import { lockedTransaction } from "./commit-lock.ts";
import { ensureRepository, inLists } from "./rows.ts";
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

    async getMany(repository: string, digests: readonly Digest[]): Promise<BlobInfo[]> {
      const found: BlobInfo[] = [];
      for (const list of inLists(digests)) {
        const rows = await db
          .selectFrom("blob_links")
          .select(["digest", "size"])
          .where("repository", "=", repository)
          .where("digest", "in", list)
          .execute();
        for (const row of rows) found.push({ digest: parseDigest(row.digest), size: Number(row.size) });
      }
      return found;
    },

    async unlinkUnreferenced(repository: string, digests: readonly Digest[], at: Date): Promise<Digest[]> {
      const unlinked: Digest[] = [];
      // One locked transaction per list: a PostgreSQL transaction holds one advisory lock per digest.
      for (const list of inLists(digests)) {
        const dropped = await lockedTransaction(db, dialect, list, async (trx) => {
          const linked = await trx
            .selectFrom("blob_links")
            .select("digest")
            .where("repository", "=", repository)
            .where("digest", "in", list)
            .execute();
          if (linked.length === 0) return [];
          const candidates = linked.map((row) => row.digest);
          const kept = new Set<string>();
          const named = await trx
            .selectFrom("manifest_refs")
            .select("digest")
            .where("repository", "=", repository)
            .where("digest", "in", candidates)
            .execute();
          const claimed = await trx
            .selectFrom("blob_claims")
            .select("digest")
            .where("digest", "in", candidates)
            .where("expires_at", ">", at.getTime())
            .execute();
          for (const row of [...named, ...claimed]) kept.add(row.digest);
          const drop = candidates.filter((digest) => !kept.has(digest));
          if (drop.length > 0) {
            await trx
              .deleteFrom("blob_links")
              .where("repository", "=", repository)
              .where("digest", "in", drop)
              .execute();
          }
          return drop;
        });
        unlinked.push(...dropped.map(parseDigest));
      }
      return unlinked;
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
