// Garbage collection of the blob pool. A quick pass reads every digest the metadata references
// (links, manifests and what they name) and skips those; each other pool blob older than the
// grace window is then decided alone, under the commit lock of its digest: only when no link,
// manifest, manifest reference or unexpired claim names it at that moment is its file deleted,
// before the lock is let go. Every commit claims its digests under the same lock before it
// writes or checks their bytes, so a commit either finds the file gone and writes it again, or
// is seen by the collector. The grace window is policy (keep fresh, not yet referenced bytes),
// not what makes collection safe. See README.md, "Garbage collection and commits".
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
  const dryRun = options.dryRun === true;
  if (!dryRun) await meta.claims.expire(now());
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
    if (!dryRun) {
      const seen: { file?: "absent" | "young" | "old" } = {};
      const gone = await meta.references.removeIfUnreferenced(blob.digest, now(), async () => {
        // A push of the same content refreshes the blob's time: look again just before deleting.
        const fresh = await blobs.listed(blob.digest);
        seen.file = fresh === undefined ? "absent" : fresh.modifiedAt.getTime() > cutoff ? "young" : "old";
        return seen.file === "old" && (await blobs.delete(blob.digest));
      });
      if (!gone) {
        if (seen.file === undefined) kept++;
        else if (seen.file === "young") young++;
        // Absent: another collector removed it first.
        continue;
      }
    }
    removed.push({ digest: blob.digest, size: blob.size });
  }
  return {
    scanned,
    kept,
    young,
    removed,
    removedBytes: removed.reduce((sum, b) => sum + b.size, 0),
    dryRun,
  };
}
