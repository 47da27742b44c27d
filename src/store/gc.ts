// Garbage collection of the blob pool: mark every digest the metadata references (links,
// manifests and what they name), then sweep pool blobs outside that set whose last write is
// older than a grace window. A push running during collection writes (or refreshes) its blob
// before linking it, so the grace window keeps it safe; the time is checked again just before
// each delete.
import type { Digest } from "../oci/index.ts";
import { StoreError } from "./errors.ts";
import { canDelete, canList, type BlobStore, type MetadataStore } from "./types.ts";

export interface GcOptions {
  /** Blobs written less than this many milliseconds ago are kept. */
  readonly graceMs: number;
  /** Report what would be removed without removing it. */
  readonly dryRun?: boolean;
  readonly now?: () => Date;
}

export interface GcReport {
  readonly scanned: number;
  readonly kept: number;
  /** Unreferenced but younger than the grace window. */
  readonly young: number;
  readonly removed: readonly { digest: Digest; size: number }[];
  readonly removedBytes: number;
  readonly dryRun: boolean;
}

export async function collectGarbage(
  blobs: BlobStore,
  meta: MetadataStore,
  options: GcOptions,
): Promise<GcReport> {
  if (!canList(blobs) || !canDelete(blobs)) {
    throw new StoreError("CONFLICT", "Cannot collect garbage: the blob store cannot list or delete blobs");
  }
  const now = options.now ?? (() => new Date());
  const marks = await meta.references.all();
  const cutoff = now().getTime() - options.graceMs;
  const removed: { digest: Digest; size: number }[] = [];
  let scanned = 0;
  let kept = 0;
  let young = 0;
  for await (const blob of blobs.list()) {
    scanned++;
    if (marks.has(blob.digest)) {
      kept++;
      continue;
    }
    if (blob.modifiedAt.getTime() > cutoff) {
      young++;
      continue;
    }
    if (options.dryRun !== true) {
      // A push of the same content refreshes the blob's time before linking it: look again just
      // before deleting.
      const fresh = await blobs.listed(blob.digest);
      if (fresh === undefined) continue;
      if (fresh.modifiedAt.getTime() > cutoff) {
        young++;
        continue;
      }
      await blobs.delete(blob.digest);
    }
    removed.push({ digest: blob.digest, size: blob.size });
  }
  return {
    scanned,
    kept,
    young,
    removed,
    removedBytes: removed.reduce((sum, b) => sum + b.size, 0),
    dryRun: options.dryRun === true,
  };
}
