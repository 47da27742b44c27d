// Optional capabilities of a filesystem blob pool, found by type guards like canDelete/canList:
// taking over a verified file by rename (upload commit) and sweeping stale temporary files.
import type { Digest } from "../oci/index.ts";
import type { BodyWriter } from "./send-file.ts";
import type { BlobInfo, BlobStore, ByteRange } from "./types.ts";

/** The pool can take over a complete, verified file, by rename when on the same filesystem. */
export interface FileAdopter {
  /**
   * Moves the file at `path`, whose content the caller has verified to be `blob`, into the pool.
   * If the blob is already stored, the file is removed instead. The file is gone afterwards.
   */
  adopt(path: string, blob: BlobInfo): Promise<void>;
}

/** Temporary files of writes that never finished (a crash) can be removed. */
export interface TempSweeper {
  /** Removes temporary files last modified before `before`; returns how many. */
  sweepTemp(before: Date): Promise<number>;
}

/** The pool can write a blob (or a range of it) straight to a response. */
export interface BlobSender {
  /**
   * Opens the blob (throwing BLOB_UNKNOWN or RANGE_INVALID before anything is written) and
   * returns a body that writes it with reused buffers.
   */
  sender(digest: Digest, range?: ByteRange): Promise<BodyWriter>;
}

export function canSend(store: BlobStore): store is BlobStore & BlobSender {
  return typeof (store as Partial<BlobSender>).sender === "function";
}

export function canAdopt(store: BlobStore): store is BlobStore & FileAdopter {
  return typeof (store as Partial<FileAdopter>).adopt === "function";
}

export function canSweepTemp(store: BlobStore): store is BlobStore & TempSweeper {
  return typeof (store as Partial<TempSweeper>).sweepTemp === "function";
}
