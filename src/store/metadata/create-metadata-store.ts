// The metadata store factory: opens the database named by the URL, runs pending migrations and
// returns the facets of MetadataStore over one Kysely instance.
import type { MetadataStore } from "../types.ts";
import type { Database } from "./schema.ts";
import { blobLinksFacet } from "./blob-links.ts";
import { claimsFacet } from "./claims.ts";
import { connect } from "./connect.ts";
import { manifestsFacet } from "./manifests.ts";
import { migrate } from "./migrate.ts";
import { referencesFacet } from "./references.ts";
import { repositoriesFacet } from "./repositories.ts";
import { tagsFacet } from "./tags.ts";
import { uploadsFacet } from "./uploads.ts";

/** `sqlite:<path>` or `postgres://user:password@host:port/database`. */
export async function createMetadataStore(url: string): Promise<MetadataStore> {
  const { db, dialect, release } = connect<Database>(url);
  try {
    await migrate(db, dialect);
  } catch (error) {
    await release();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    repositories: repositoriesFacet(db),
    blobs: blobLinksFacet(db, dialect),
    manifests: manifestsFacet(db, dialect),
    tags: tagsFacet(db),
    uploads: uploadsFacet(db),
    references: referencesFacet(db, dialect),
    claims: claimsFacet(db, dialect),
    close(): Promise<void> {
      closing ??= release();
      return closing;
    },
  };
}
