// Row types of the metadata database, one schema for SQLite and PostgreSQL. Times are epoch
// milliseconds (bigint columns, parsed to numbers); JSON values are stored as text.

export interface RepositoriesTable {
  name: string;
  created_at: number;
}

export interface BlobLinksTable {
  repository: string;
  digest: string;
  size: number;
  created_at: number;
}

export interface ManifestsTable {
  repository: string;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  /** JSON object of string values, or null. */
  annotations: string | null;
  /** JSON array of the digests the manifest refers to. */
  refs: string;
  created_at: number;
}

export interface TagsTable {
  repository: string;
  name: string;
  digest: string;
  updated_at: number;
}

export interface UploadsTable {
  id: string;
  repository: string;
  offset: number;
  created_at: number;
  updated_at: number;
}

/** One row per digest a manifest names (config, layers, children): what the collector keeps. */
export interface ManifestRefsTable {
  repository: string;
  manifest: string;
  digest: string;
}

/** A digest claimed by a commit in progress (see claims.ts); kept until released or expired. */
export interface BlobClaimsTable {
  id: string;
  digest: string;
  expires_at: number;
}

export interface Database {
  repositories: RepositoriesTable;
  blob_links: BlobLinksTable;
  manifests: ManifestsTable;
  manifest_refs: ManifestRefsTable;
  tags: TagsTable;
  uploads: UploadsTable;
  blob_claims: BlobClaimsTable;
}

export type Dialect = "sqlite" | "postgres";
