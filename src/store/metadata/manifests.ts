// The manifests facet. put() with a tag is one transaction (manifest row if absent, one row per
// digest it names, then an upsert of the tag), so concurrent pushes of one tag never fail and the
// last one wins; it runs under the commit lock of the manifest and every digest it names, and
// ends the claim it was made under. get() and resolve() are single queries on primary keys.
// deleteUnreferenced decides under the lock of the manifests it may delete, which a put naming
// one (as a child) or tagging one also takes.
import type { Kysely } from "kysely";
import { parseDigest, type Digest } from "../../oci/index.ts";
import type { ManifestRecord, MetadataStore, NewManifest, RecordOptions } from "../types.ts";
import { endClaim, lockSet } from "./claims.ts";
import { lockedTransaction } from "./commit-lock.ts";
import { ensureRepository, inLists, toManifestRecord } from "./rows.ts";
import type { Database, Dialect } from "./schema.ts";

export function manifestsFacet(db: Kysely<Database>, dialect: Dialect): MetadataStore["manifests"] {
  return {
    async put(
      repository: string,
      manifest: NewManifest,
      tag?: string,
      options: RecordOptions = {},
    ): Promise<void> {
      const now = Date.now();
      const { claim } = options;
      const refs = [...new Set(manifest.references)];
      const locked = lockSet([manifest.digest, ...refs], claim);
      await lockedTransaction(db, dialect, locked, async (trx) => {
        if (claim !== undefined) await endClaim(trx, claim);
        await ensureRepository(trx, repository);
        await trx
          .insertInto("manifests")
          .values({
            repository,
            digest: manifest.digest,
            media_type: manifest.mediaType,
            size: manifest.size,
            artifact_type: manifest.artifactType ?? null,
            subject: manifest.subject ?? null,
            annotations: manifest.annotations === undefined ? null : JSON.stringify(manifest.annotations),
            refs: JSON.stringify(manifest.references),
            created_at: now,
          })
          .onConflict((oc) => oc.columns(["repository", "digest"]).doNothing())
          .execute();
        if (refs.length > 0) {
          await trx
            .insertInto("manifest_refs")
            .values(refs.map((digest) => ({ repository, manifest: manifest.digest, digest })))
            .onConflict((oc) => oc.columns(["repository", "manifest", "digest"]).doNothing())
            .execute();
        }
        if (tag === undefined) return;
        await trx
          .insertInto("tags")
          .values({ repository, name: tag, digest: manifest.digest, updated_at: now })
          .onConflict((oc) =>
            oc.columns(["repository", "name"]).doUpdateSet((eb) => ({
              digest: eb.ref("excluded.digest"),
              updated_at: eb.ref("excluded.updated_at"),
            })),
          )
          .execute();
      });
    },

    async get(repository: string, digest: Digest): Promise<ManifestRecord | undefined> {
      const row = await db
        .selectFrom("manifests")
        .selectAll()
        .where("repository", "=", repository)
        .where("digest", "=", digest)
        .executeTakeFirst();
      return row === undefined ? undefined : toManifestRecord(row);
    },

    async resolve(repository: string, tag: string): Promise<ManifestRecord | undefined> {
      const row = await db
        .selectFrom("tags as t")
        .innerJoin("manifests as m", (join) =>
          join.onRef("m.repository", "=", "t.repository").onRef("m.digest", "=", "t.digest"),
        )
        .selectAll("m")
        .where("t.repository", "=", repository)
        .where("t.name", "=", tag)
        .executeTakeFirst();
      return row === undefined ? undefined : toManifestRecord(row);
    },

    async delete(repository: string, digest: Digest): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom("tags")
          .where("repository", "=", repository)
          .where("digest", "=", digest)
          .execute();
        await trx
          .deleteFrom("manifest_refs")
          .where("repository", "=", repository)
          .where("manifest", "=", digest)
          .execute();
        const result = await trx
          .deleteFrom("manifests")
          .where("repository", "=", repository)
          .where("digest", "=", digest)
          .executeTakeFirst();
        return result.numDeletedRows > 0n;
      });
    },

    async deleteUnreferenced(repository: string, digests: readonly Digest[], at: Date): Promise<Digest[]> {
      const deleted: Digest[] = [];
      for (const list of inLists(digests)) {
        const dropped = await lockedTransaction(db, dialect, list, async (trx) => {
          const gone: string[] = [];
          const held = await trx
            .selectFrom("manifests")
            .select("digest")
            .where("repository", "=", repository)
            .where("digest", "in", list)
            .execute();
          let left = held.map((row) => row.digest);
          // Rounds: a manifest named only by one deleted in the round before is free in the next.
          while (left.length > 0) {
            const kept = new Set<string>();
            const named = await trx
              .selectFrom("manifest_refs")
              .select("digest")
              .where("repository", "=", repository)
              .where("digest", "in", left)
              .execute();
            const tagged = await trx
              .selectFrom("tags")
              .select("digest")
              .where("repository", "=", repository)
              .where("digest", "in", left)
              .execute();
            const claimed = await trx
              .selectFrom("blob_claims")
              .select("digest")
              .where("digest", "in", left)
              .where("expires_at", ">", at.getTime())
              .execute();
            for (const row of [...named, ...tagged, ...claimed]) kept.add(row.digest);
            const drop = left.filter((digest) => !kept.has(digest));
            if (drop.length === 0) break;
            await trx
              .deleteFrom("manifest_refs")
              .where("repository", "=", repository)
              .where("manifest", "in", drop)
              .execute();
            await trx
              .deleteFrom("manifests")
              .where("repository", "=", repository)
              .where("digest", "in", drop)
              .execute();
            gone.push(...drop);
            left = left.filter((digest) => kept.has(digest));
          }
          return gone;
        });
        deleted.push(...dropped.map(parseDigest));
      }
      return deleted;
    },

    async referrers(repository: string, subject: Digest, artifactType?: string): Promise<ManifestRecord[]> {
      let query = db
        .selectFrom("manifests")
        .selectAll()
        .where("repository", "=", repository)
        .where("subject", "=", subject);
      if (artifactType !== undefined) query = query.where("artifact_type", "=", artifactType);
      const rows = await query.orderBy("created_at").orderBy("digest").execute();
      return rows.map(toManifestRecord);
    },
  };
}
