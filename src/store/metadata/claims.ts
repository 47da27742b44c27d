// The claims facet: a commit claims the digests it is about to write or check, under the commit
// lock, before it touches their bytes; the write that records them ends the claim in its own
// transaction. A claim that outlives its time (a crashed server) no longer keeps its digests;
// a collection that removes such a digest drops the claim with it, so a late commit finds its
// claim gone and fails instead of recording content that is no longer there.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Digest } from "../../oci/index.ts";
import { StoreError } from "../errors.ts";
import type { Claim, MetadataStore } from "../types.ts";
import { lockedTransaction } from "./commit-lock.ts";
import type { Database, Dialect } from "./schema.ts";

/** How long a claim keeps its digests when nobody releases it. */
export const CLAIM_TTL_MS = 60 * 60 * 1000;

export function claimsFacet(db: Kysely<Database>, dialect: Dialect): MetadataStore["claims"] {
  return {
    async take(digests: readonly Digest[], options: { ttlMs?: number } = {}): Promise<Claim> {
      const claim: Claim = { id: randomUUID(), digests: [...new Set(digests)] };
      if (claim.digests.length === 0) return claim;
      const expiresAt = Date.now() + (options.ttlMs ?? CLAIM_TTL_MS);
      await lockedTransaction(db, dialect, claim.digests, (trx) =>
        trx
          .insertInto("blob_claims")
          .values(claim.digests.map((digest) => ({ id: claim.id, digest, expires_at: expiresAt })))
          .execute(),
      );
      return claim;
    },

    async release(claim: Claim): Promise<void> {
      await db.deleteFrom("blob_claims").where("id", "=", claim.id).execute();
    },

    async expire(before: Date): Promise<number> {
      const result = await db
        .deleteFrom("blob_claims")
        .where("expires_at", "<=", before.getTime())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/**
 * Ends `claim` inside a commit-locked transaction that records its digests. Throws BLOB_UNKNOWN
 * when a row is missing: the claim expired and a collection may have removed the bytes.
 */
export async function endClaim(trx: Kysely<Database>, claim: Claim): Promise<void> {
  if (claim.digests.length === 0) return;
  const result = await trx.deleteFrom("blob_claims").where("id", "=", claim.id).executeTakeFirst();
  if (Number(result.numDeletedRows) !== claim.digests.length) {
    throw new StoreError(
      "BLOB_UNKNOWN",
      `Cannot record ${claim.digests.map((d) => `"${d}"`).join(", ")}: the claim expired and garbage collection may have removed the content: push it again`,
      { detail: { digests: claim.digests } },
    );
  }
}

/** The digests a write locks: those it records and those of its claim. */
export function lockSet(digests: readonly string[], claim: Claim | undefined): string[] {
  return claim === undefined ? [...digests] : [...digests, ...claim.digests];
}
