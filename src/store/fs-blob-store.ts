// The filesystem blob pool (layout in paths.ts). put() streams into a temporary file through a
// VerifyStream, fsyncs it and renames it into the pool, so a blob is visible only when complete
// and verified; a failed write removes its temporary file. Each blob is stored once.
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { type FileHandle, mkdir, open, rename, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { type Digest, VerifyStream, isDigest, isDigestAlgorithm } from "../oci/index.ts";
import { StoreError } from "./errors.ts";
import type { BlobSender, FileAdopter, TempSweeper } from "./fs-capabilities.ts";
import { fileRangeWriter, type BodyWriter } from "./send-file.ts";
import {
  STREAM_CHUNK,
  closeStream,
  ensureDir,
  entries,
  isNotFound,
  removeFile,
  syncDir,
  toReadable,
} from "./fs-util.ts";
import { blobDir, blobPath, blobsDir, tempDir } from "./paths.ts";
import { pump } from "./pump.ts";
import { translateError } from "./translate-error.ts";
import type {
  BlobDeleter,
  BlobInfo,
  BlobLister,
  BlobStore,
  ByteRange,
  Expected,
  ListedBlob,
} from "./types.ts";

export interface FsBlobStoreOptions {
  /** Data directory; blobs go to `<root>/blobs`, writes in progress to `<root>/tmp`. */
  readonly root: string;
}

export type FsBlobStore = BlobStore & BlobDeleter & BlobLister & FileAdopter & TempSweeper & BlobSender;

export function createFsBlobStore(options: FsBlobStoreOptions): FsBlobStore {
  const { root } = options;

  async function statBlob(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      return { digest, size: (await stat(blobPath(root, digest))).size };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async function openBlob(digest: Digest): Promise<FileHandle> {
    try {
      return await open(blobPath(root, digest), "r");
    } catch (error) {
      if (isNotFound(error)) {
        throw new StoreError("BLOB_UNKNOWN", `Blob "${digest}" is unknown`, {
          cause: error,
          detail: { digest },
        });
      }
      throw error;
    }
  }

  /** Renames a verified file into the pool, or drops it when the blob is already there. */
  async function place(file: string, blob: BlobInfo): Promise<void> {
    const target = blobPath(root, blob.digest);
    const now = new Date();
    try {
      // Refreshing the time keeps a blob that is pushed again out of a sweep's grace window.
      await utimes(target, now, now);
      await removeFile(file);
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await ensureDir(blobDir(root, blob.digest));
    await rename(file, target);
    await syncDir(dirname(target));
  }

  async function checkRange(handle: FileHandle, digest: Digest, range: ByteRange): Promise<ByteRange> {
    const { size } = await handle.stat();
    const { start, end } = range;
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      start > end ||
      end >= size
    ) {
      throw new StoreError(
        "RANGE_INVALID",
        `Cannot read blob "${digest}": range ${start}-${end} is outside its ${size} bytes`,
        { detail: { digest, size, start, end } },
      );
    }
    return range;
  }

  const store: FsBlobStore = {
    stat: statBlob,

    async open(digest: Digest, range?: ByteRange): Promise<Readable> {
      const handle = await openBlob(digest);
      try {
        if (range === undefined) return handle.createReadStream({ highWaterMark: STREAM_CHUNK });
        const { start, end } = await checkRange(handle, digest, range);
        return handle.createReadStream({ start, end, highWaterMark: STREAM_CHUNK });
      } catch (error) {
        await handle.close();
        throw error;
      }
    },

    async sender(digest: Digest, range?: ByteRange): Promise<BodyWriter> {
      const handle = await openBlob(digest);
      try {
        if (range === undefined) {
          const { size } = await handle.stat();
          return fileRangeWriter(handle, 0, size - 1);
        }
        const { start, end } = await checkRange(handle, digest, range);
        return fileRangeWriter(handle, start, end);
      } catch (error) {
        await handle.close();
        throw error;
      }
    },

    async read(digest: Digest, maxSize: number): Promise<Buffer> {
      const handle = await openBlob(digest);
      try {
        const { size } = await handle.stat();
        if (size > maxSize) {
          throw new StoreError(
            "TOO_LARGE",
            `Cannot read blob "${digest}": it has ${size} bytes, more than the limit of ${maxSize}`,
            { detail: { digest, size, limit: maxSize } },
          );
        }
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },

    async put(expected: Expected, body: Readable | Uint8Array): Promise<BlobInfo> {
      const context =
        expected.digest === undefined ? "Cannot store blob" : `Cannot store blob "${expected.digest}"`;
      let verify: VerifyStream;
      try {
        verify = new VerifyStream(expected);
      } catch (error) {
        throw translateError(error, context);
      }
      await mkdir(tempDir(root), { recursive: true });
      const temp = join(tempDir(root), randomUUID());
      const sink = createWriteStream(temp, { flags: "wx", flush: true, highWaterMark: STREAM_CHUNK });
      try {
        await pump(toReadable(body), verify, sink);
      } catch (error) {
        await closeStream(sink);
        await removeFile(temp);
        throw translateError(error, context);
      }
      const blob = verify.verified;
      try {
        await place(temp, blob);
      } catch (error) {
        await removeFile(temp).catch(() => false);
        throw error;
      }
      return blob;
    },

    async delete(digest: Digest): Promise<boolean> {
      return removeFile(blobPath(root, digest));
    },

    async *list(): AsyncIterable<ListedBlob> {
      for (const algorithm of await entries(blobsDir(root))) {
        if (!isDigestAlgorithm(algorithm)) continue;
        for (const prefix of await entries(join(blobsDir(root), algorithm))) {
          for (const hex of await entries(join(blobsDir(root), algorithm, prefix))) {
            const digest = `${algorithm}:${hex}`;
            if (!isDigest(digest) || !hex.startsWith(prefix)) continue;
            const blob = await store.listed(digest);
            if (blob !== undefined) yield blob;
          }
        }
      }
    },

    async listed(digest: Digest): Promise<ListedBlob | undefined> {
      try {
        const info = await stat(blobPath(root, digest));
        return { digest, size: info.size, modifiedAt: info.mtime };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async adopt(path: string, blob: BlobInfo): Promise<void> {
      try {
        await place(path, blob);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
        // Another filesystem: copy through put(), which verifies again.
        await store.put(blob, createReadStream(path, { highWaterMark: STREAM_CHUNK }));
        await removeFile(path);
      }
    },

    async sweepTemp(before: Date): Promise<number> {
      let removed = 0;
      for (const name of await entries(tempDir(root))) {
        const path = join(tempDir(root), name);
        try {
          if ((await stat(path)).mtimeMs < before.getTime() && (await removeFile(path))) removed++;
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      return removed;
    },
  };
  return store;
}
