// Public surface of the storage layer: interfaces, errors and the factories of the filesystem
// blob pool, the upload sessions and the metadata store (SQLite or PostgreSQL).
export * from "./types.ts";
export * from "./errors.ts";
export {
  canAdopt,
  canSend,
  canSweepTemp,
  type BlobSender,
  type FileAdopter,
  type TempSweeper,
} from "./fs-capabilities.ts";
export type { BodyWriter } from "./send-file.ts";
export { createFsBlobStore, type FsBlobStore, type FsBlobStoreOptions } from "./fs-blob-store.ts";
export { createUploadStore, type UploadStoreOptions } from "./upload-store.ts";
export { createMetadataStore } from "./metadata/create-metadata-store.ts";
export { collectGarbage, type GcOptions, type GcReport } from "./gc.ts";
export { withClaim } from "./claim.ts";
export { connect as connectDatabase, type Connection } from "./metadata/connect.ts";
export { migrateSet, type MigrationSet } from "./metadata/migrate.ts";
export type { Dialect } from "./metadata/schema.ts";
