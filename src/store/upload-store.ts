// Upload sessions: bytes in `<root>/uploads/<id>`, the session row (offset, times) in the
// metadata store, so sessions survive restarts and are shared by every process on the same data
// directory and database. A running hash per session is kept in memory so a commit need not
// read the file again; when it is missing or stale (a restart, another process appended) the
// commit hashes the file from disk. Commit = fsync → verify → claim → move into the pool → link
// to the session's repository → end session.
import { type Hash, createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { LruCache } from "../lib/lru.ts";
import { type Digest, type DigestAlgorithm, digestAlgorithm } from "../oci/index.ts";
import { StoreError } from "./errors.ts";
import { withClaim } from "./claim.ts";
import { canAdopt, canSweepTemp } from "./fs-capabilities.ts";
import { STREAM_CHUNK, closeStream, entries, isNotFound, removeFile, toReadable } from "./fs-util.ts";
import { KeyedLock } from "./keyed-lock.ts";
import { Meter } from "./meter.ts";
import { uploadPath, uploadsDir } from "./paths.ts";
import { pump } from "./pump.ts";
import type {
  BlobInfo,
  BlobStore,
  Expected,
  MetadataStore,
  UploadRow,
  UploadSession,
  UploadStore,
} from "./types.ts";

export interface UploadStoreOptions {
  /** Data directory; upload bytes go to `<root>/uploads` (same filesystem as the blob pool). */
  readonly root: string;
  /** Where committed uploads go; a pool that can adopt files takes them by rename. */
  readonly blobs: BlobStore;
  readonly meta: MetadataStore;
  readonly clock?: () => Date;
}

interface AppendOptions {
  offset?: number;
  maxSize?: number;
  length?: number;
}

/** Running sha256 of a session's first `offset` bytes. */
interface HashState {
  readonly hash: Hash;
  readonly offset: number;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Sessions whose running hash is kept; older ones are hashed from disk at commit. */
const HASHES_KEPT = 10_000;

export function createUploadStore(options: UploadStoreOptions): UploadStore {
  const { root, blobs, meta } = options;
  const now = options.clock ?? (() => new Date());
  const hashes = new LruCache<string, HashState>(HASHES_KEPT);
  const lock = new KeyedLock();

  /** The session's row, or UPLOAD_UNKNOWN. */
  async function current(session: UploadSession, context: string): Promise<UploadRow> {
    const row = ID.test(session.id) ? await meta.uploads.get(session.id) : undefined;
    if (row === undefined || row.repository !== session.repository) {
      throw new StoreError("UPLOAD_UNKNOWN", `${context}: the upload is unknown or has expired`, {
        detail: { id: session.id },
      });
    }
    return row;
  }

  /** Makes the file hold exactly `offset` bytes (dropping bytes of an interrupted write). */
  async function trimFile(id: string, offset: number, context: string): Promise<void> {
    const path = uploadPath(root, id);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new StoreError("UPLOAD_UNKNOWN", `${context}: the upload's data is missing`, { cause: error });
    }
    if (size < offset) {
      throw new StoreError(
        "UPLOAD_UNKNOWN",
        `${context}: the upload's data has ${size} bytes, expected ${offset}`,
        {
          detail: { id, size, offset },
        },
      );
    }
    if (size > offset) await truncate(path, offset);
  }

  async function appendLocked(
    session: UploadSession,
    body: Readable | Uint8Array,
    options: AppendOptions,
  ): Promise<UploadSession> {
    const { id } = session;
    const context = `Cannot append to upload "${id}"`;
    checkCount(options.length, "chunk length", context);
    checkCount(options.maxSize, "size limit", context);
    const row = await current(session, context);
    const offset = options.offset ?? session.offset;
    if (offset !== row.offset) {
      throw new StoreError(
        "RANGE_INVALID",
        `${context}: offset ${offset} does not match the ${row.offset} bytes received`,
        {
          detail: { offset: row.offset },
        },
      );
    }
    await trimFile(id, offset, context);

    const state = hashes.get(id);
    const hash =
      state?.offset === offset ? state.hash.copy() : offset === 0 ? createHash("sha256") : undefined;
    const meter = new Meter(hash, (bytes) => tooMany(bytes, offset, options, context));
    const path = uploadPath(root, id);
    const sink = createWriteStream(path, { flags: "r+", start: offset, highWaterMark: STREAM_CHUNK });
    try {
      await pump(toReadable(body), meter, sink);
      if (options.length !== undefined && meter.bytes !== options.length) {
        throw new StoreError(
          "SIZE_INVALID",
          `${context}: chunk size mismatch: expected ${options.length} bytes, got ${meter.bytes}`,
          { detail: { expected: options.length, actual: meter.bytes } },
        );
      }
    } catch (error) {
      await closeStream(sink);
      // Drop whatever part of the chunk arrived, so the file again ends at the session's offset.
      await truncate(path, offset).catch((cause: unknown) => {
        if (!isNotFound(cause)) throw cause;
      });
      throw error;
    }

    const at = now();
    const next = offset + meter.bytes;
    if (!(await meta.uploads.advance(id, offset, next, at))) {
      hashes.delete(id);
      await current(session, context);
      throw new StoreError("RANGE_INVALID", `${context}: the upload was changed by another request`, {
        detail: { offset },
      });
    }
    if (hash === undefined) hashes.delete(id);
    else hashes.set(id, { hash, offset: next });
    return { id, repository: row.repository, offset: next, createdAt: row.createdAt, updatedAt: at };
  }

  /** Removes the session's row, file and hash; true if the row existed. */
  async function end(id: string): Promise<boolean> {
    hashes.delete(id);
    const existed = await meta.uploads.delete(id);
    await removeFile(uploadPath(root, id));
    return existed;
  }

  /** Digest of the file's bytes: from the running hash when it covers them, else from disk. */
  async function hashUpload(id: string, size: number, algorithm: DigestAlgorithm): Promise<string> {
    const state = hashes.get(id);
    if (state !== undefined && state.offset === size && algorithm === "sha256") {
      return `sha256:${state.hash.copy().digest("hex")}`;
    }
    const hash = createHash(algorithm);
    await pipeline(createReadStream(uploadPath(root, id), { highWaterMark: STREAM_CHUNK }), hash);
    return `${algorithm}:${hash.digest("hex")}`;
  }

  async function commitLocked(
    session: UploadSession,
    expected: Expected & { digest: Digest },
    body: Readable | Uint8Array | undefined,
  ): Promise<BlobInfo> {
    const { id } = session;
    const context = `Cannot commit upload "${id}"`;
    const last = body === undefined ? session : await appendLocked(session, body, { offset: session.offset });
    const row = await current(last, context);
    const size = row.offset;
    try {
      await trimFile(id, size, context);
      const handle = await open(uploadPath(root, id), "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (error instanceof StoreError) await end(id);
      throw error;
    }

    const failure = (code: "SIZE_INVALID" | "TOO_LARGE" | "DIGEST_INVALID", detail: string, data: object) =>
      new StoreError(code, `${context}: ${detail}`, { detail: data });
    let problem: StoreError | undefined;
    if (expected.maxSize !== undefined && size > expected.maxSize) {
      problem = failure(
        "TOO_LARGE",
        `upload of ${size} bytes is larger than the limit of ${expected.maxSize} bytes`,
        {
          limit: expected.maxSize,
          actual: size,
        },
      );
    } else if (expected.size !== undefined && size !== expected.size) {
      problem = failure("SIZE_INVALID", `size mismatch: expected ${expected.size} bytes, got ${size}`, {
        expected: expected.size,
        actual: size,
      });
    } else {
      const actual = await hashUpload(id, size, digestAlgorithm(expected.digest));
      if (actual !== expected.digest) {
        problem = failure("DIGEST_INVALID", `digest mismatch: expected ${expected.digest}, got ${actual}`, {
          expected: expected.digest,
          actual,
        });
      }
    }
    if (problem !== undefined) {
      await end(id);
      throw problem;
    }

    const blob: BlobInfo = { digest: expected.digest, size };
    // Claimed before the pool sees it: if the blob is already there, the pool keeps that copy
    // and drops ours, and the claim is what keeps garbage collection from removing it before
    // the link is in. Once the bytes have moved, the session ends whatever the link does.
    let moved = false;
    try {
      await withClaim(meta, [blob.digest], async (claim) => {
        if (canAdopt(blobs)) {
          await blobs.adopt(uploadPath(root, id), blob);
        } else {
          await blobs.put(blob, createReadStream(uploadPath(root, id), { highWaterMark: STREAM_CHUNK }));
        }
        moved = true;
        await meta.blobs.link(row.repository, blob, { claim });
      });
    } catch (error) {
      if (moved) await end(id);
      throw error;
    }
    await end(id);
    return blob;
  }

  return {
    async create(repository: string): Promise<UploadSession> {
      const id = randomUUID();
      const at = now();
      await mkdir(uploadsDir(root), { recursive: true });
      await (await open(uploadPath(root, id), "wx")).close();
      const row: UploadRow = { id, repository, offset: 0, createdAt: at, updatedAt: at };
      try {
        await meta.uploads.insert(row);
      } catch (error) {
        await removeFile(uploadPath(root, id));
        throw error;
      }
      return row;
    },

    async get(repository: string, id: string): Promise<UploadSession | undefined> {
      if (!ID.test(id)) return undefined;
      const row = await meta.uploads.get(id);
      return row?.repository === repository ? row : undefined;
    },

    append(session, body, options = {}) {
      return lock.run(session.id, () => appendLocked(session, body, options));
    },

    commit(session, expected, body) {
      return lock.run(session.id, () => commitLocked(session, expected, body));
    },

    async cancel(session: UploadSession): Promise<void> {
      if (!ID.test(session.id)) return;
      await lock.run(session.id, () => end(session.id));
    },

    async expire(before: Date): Promise<number> {
      let expired = 0;
      for (const row of await meta.uploads.olderThan(before)) {
        const ended = await lock.run(row.id, async () => {
          // Re-read under the lock: an append may have touched the session since the listing.
          const fresh = await meta.uploads.get(row.id);
          return fresh !== undefined && fresh.updatedAt < before && (await end(row.id));
        });
        if (ended) expired++;
      }
      await removeOrphans(before);
      if (canSweepTemp(blobs)) await blobs.sweepTemp(before);
      return expired;
    },
  };

  /** Removes upload files that have no session row (a crash between file and row) and are old. */
  async function removeOrphans(before: Date): Promise<void> {
    for (const name of await entries(uploadsDir(root))) {
      if (!ID.test(name)) continue;
      await lock.run(name, async () => {
        try {
          const { mtimeMs } = await stat(join(uploadsDir(root), name));
          if (mtimeMs < before.getTime() && (await meta.uploads.get(name)) === undefined) {
            await removeFile(uploadPath(root, name));
          }
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      });
    }
  }
}

/** The error to fail a chunk with once `bytes` of it have arrived, if that is too many. */
function tooMany(bytes: number, offset: number, options: AppendOptions, context: string): Error | undefined {
  if (options.length !== undefined && bytes > options.length) {
    return new StoreError(
      "SIZE_INVALID",
      `${context}: chunk is larger than the expected ${options.length} bytes`,
      {
        detail: { expected: options.length },
      },
    );
  }
  if (options.maxSize !== undefined && offset + bytes > options.maxSize) {
    return new StoreError(
      "TOO_LARGE",
      `${context}: upload is larger than the limit of ${options.maxSize} bytes`,
      {
        detail: { limit: options.maxSize, tooLarge: true },
      },
    );
  }
  return undefined;
}

function checkCount(value: number | undefined, what: string, context: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new StoreError(
      "SIZE_INVALID",
      `${context}: invalid ${what} ${String(value)}: expected a non-negative integer`,
    );
  }
}
