// Pulling a chunked disk artifact into a file: the chunk index (size-limited, checked by
// decodeIndex) and the part manifests (every chunk the index names must be listed in one), then
// every distinct chunk the local cache lacks, downloaded (verified against its blob digest),
// decompressed and checked against its raw digest, and kept in the cache at once; then the disk
// assembled in one pass in disk order from the cache, the whole disk's sha256 taken from the
// same buffers as they are written (pullChunkedDisk says how cached chunks are checked). The
// file is written beside `output`, sized first so the holes between chunks stay sparse, checked
// against the whole disk's digest, and renamed over `output` only at the end (after conversion
// for another format): a failed pull leaves an existing `output` as it was, and a pull run again
// after a failure fetches only the chunks the cache does not hold yet.
import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MediaType, OciFormatError, parseManifest, type Descriptor } from "../../oci/index.ts";
import { RemoteError, type RegistryClient } from "../../remote/index.ts";
import { DiskError } from "../errors.ts";
import { checkConverted, convertDisk, type ImageFormat } from "../formats.ts";
import { openChunkCache, type ChunkCache } from "./cache.ts";
import { decodeChunk } from "./compress.ts";
import { applyDelta } from "./delta.ts";
import {
  checkPartsCover,
  decodeIndex,
  DEFAULT_INDEX_LIMITS,
  indexBlobOf,
  type ChunkedLayout,
  type ChunkEntry,
  type DiskIndex,
  type IndexLimits,
} from "./format.ts";
import { newStats, TaskPool, type OnProgress, type TransferStats } from "./stats.ts";
import { wholeDigest, type WholeDigestMode } from "./whole-digest.ts";

/** What a pull needs of a chunked disk's description (describeDisk's for a chunked disk). */
export interface ChunkedDiskRef {
  /** The image index's digest. */
  readonly digest: string;
  readonly virtualSize: number;
  readonly rawDigest?: string;
  readonly chunked: ChunkedLayout;
}

export interface PullChunkedOptions {
  /** The output's format (default raw); others are converted from the raw disk by qemu-img. */
  readonly format?: ImageFormat;
  /** The chunk cache folder (cache.ts): chunks it holds are not downloaded, fetched ones are kept. */
  readonly cacheDir?: string;
  /** Chunks fetched at once (default 8). */
  readonly concurrency?: number;
  readonly limits?: IndexLimits;
  readonly wholeDigest?: WholeDigestMode;
  readonly signal?: AbortSignal;
  readonly onProgress?: OnProgress;
}

/** A chunked disk's index and parts as fetched from its registry. */
export interface FetchedChunkedIndex {
  readonly index: DiskIndex;
  /** The index blob's descriptor. */
  readonly indexBlob: Descriptor;
  /** The chunk layers of each part manifest. */
  readonly parts: readonly (readonly Descriptor[])[];
  /** Bytes fetched: the index manifest, the index blob and the parts. */
  readonly bytes: number;
}

const DEFAULT_CONCURRENCY = 8;
/** Part manifests fetched at once. */
const PART_CONCURRENCY = 4;
/** Cached chunks checked at once (after a digest mismatch). */
const CHECK_CONCURRENCY = 16;
/** The staging windows of the assembly pass, and how many are out at once. */
const STAGE_SIZE = 4 * 1024 * 1024;
const STAGE_POOL = 3;
/** Chunk file reads in flight in the assembly pass. */
const READ_AHEAD = 16;
/** Holes at least this long are hashed from the hasher's own zeros, not staged. */
const ZERO_MESSAGE_MIN = 1024 * 1024;

/** A file beside `output` for a pull to write into before renaming it over `output`. */
export function stagedPath(output: string, what: string): string {
  return join(dirname(output), `.${basename(output)}.${randomBytes(4).toString("hex")}.${what}`);
}

/**
 * Fetches and checks the chunk index and part manifests of the chunked disk `description` in
 * `repository`: the index blob within `limits`, well formed, of the disk's size and raw digest,
 * and every chunk it names listed in a part.
 */
export async function fetchChunkedIndex(
  client: RegistryClient,
  repository: string,
  description: ChunkedDiskRef,
  limits: IndexLimits = DEFAULT_INDEX_LIMITS,
): Promise<FetchedChunkedIndex> {
  const name = `${client.registry}/${repository}@${description.digest}`;
  const { indexManifest, parts } = description.chunked;
  const head = await client.getManifest(repository, indexManifest.digest, [MediaType.ImageManifest]);
  const blob = indexBlobOf(head.bytes, name);
  if (blob.size > limits.maxIndexBytes)
    throw new DiskError(
      "TOO_LARGE",
      `The disk index of ${name} is ${blob.size} bytes, over the limit of ${limits.maxIndexBytes} (maxIndexBytes)`,
    );
  const index = decodeIndex(await client.getBlobBytes(repository, blob.digest, blob.size), limits);
  if (index.size !== description.virtualSize)
    throw new DiskError(
      "BAD_DISK",
      `${name}: its index describes ${index.size} bytes, its annotation ${description.virtualSize}`,
    );
  if (description.rawDigest !== undefined && description.rawDigest !== index.digest)
    throw new DiskError(
      "BAD_DISK",
      `${name}: its index gives the disk's digest as ${index.digest}, its annotation as ${description.rawDigest}`,
    );
  let bytes = head.bytes.length + blob.size;
  // The parts, PART_CONCURRENCY at once.
  const partLayers: Descriptor[][] = [];
  const pool = new TaskPool(PART_CONCURRENCY);
  try {
    for (const [i, part] of parts.entries()) {
      await pool.add(async () => {
        const fetched = await client.getManifest(repository, part.digest, [MediaType.ImageManifest]);
        bytes += fetched.bytes.length;
        const manifest = parseManifest(fetched.bytes, fetched.mediaType || undefined);
        if (manifest.kind !== "manifest" || manifest.artifactType !== MediaType.DiskChunkPart)
          throw new DiskError("BAD_DISK", `${name}: manifest ${part.digest} is not a part of a chunked disk`);
        partLayers[i] = [...manifest.layers];
      });
    }
    await pool.drain();
  } catch (error) {
    await pool.settle();
    throw error;
  }
  checkPartsCover(index, partLayers);
  return { index, indexBlob: blob, parts: partLayers, bytes };
}

async function writeAll(handle: FileHandle, bytes: Buffer, offset: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, offset + done);
    done += bytesWritten;
  }
}

/** A chunk's blob from the registry, verified against its digest. */
async function fetchBlob(client: RegistryClient, repository: string, chunk: ChunkEntry): Promise<Buffer> {
  const where = `${client.registry}/${repository}`;
  try {
    return await client.getBlobBytes(repository, chunk.digest, chunk.size);
  } catch (error) {
    if (error instanceof RemoteError && error.status === 404)
      throw new DiskError(
        "BAD_DISK",
        `Chunk ${chunk.digest} named by the disk index is missing from ${where}`,
        { cause: error },
      );
    if (error instanceof RemoteError && error.cause instanceof OciFormatError)
      throw new DiskError(
        "BAD_DISK",
        `Chunk ${chunk.digest} from ${where} does not match its digest: ${error.cause.message}`,
        { cause: error },
      );
    throw error;
  }
}

const noop = (): void => undefined;

/** What the phases of a pull share. */
interface Pull {
  readonly client: RegistryClient;
  readonly repository: string;
  readonly index: DiskIndex;
  readonly cache: ChunkCache;
  readonly stats: TransferStats;
  readonly options: PullChunkedOptions;
  /** Chunks found in the cache: counted in bytesSkipped unless downloaded after all. */
  readonly fromCache: Set<number>;
  /** The chunks the extents name (the others are only bases of delta chunks). */
  readonly used: ReadonlySet<number>;
}

/**
 * Downloads chunk `i` (verified) and stores it in the cache; a delta chunk is made from its base
 * spans (from the cache, else downloaded too) and its patch, then checked against its raw digest.
 */
async function download(pull: Pull, i: number): Promise<Buffer> {
  const { index, stats, client, repository } = pull;
  const chunk = index.chunks[i]!;
  pull.options.signal?.throwIfAborted();
  const stored = await fetchBlob(client, repository, chunk);
  const name = `${chunk.digest} from ${client.registry}/${repository}`;
  const rawOf = { length: chunk.rawLength, sha256: chunk.rawSha256 };
  let raw: Buffer;
  if (chunk.encoding === "delta") {
    const from = Buffer.alloc(chunk.rawLength);
    let at = 0;
    for (const span of chunk.base ?? []) {
      if (span.chunk >= 0) {
        const base = index.chunks[span.chunk]!;
        const bytes =
          (await pull.cache.getChunk(base.rawSha256, base.rawLength)) ?? (await download(pull, span.chunk));
        bytes.copy(from, at, span.offset, span.offset + span.length);
      }
      at += span.length;
    }
    raw = await applyDelta(stored, from, rawOf, name);
  } else {
    raw = await decodeChunk(stored, chunk.encoding, rawOf, name);
  }
  stats.chunksSent++;
  stats.chunkBytesSent += chunk.size;
  stats.bytesSent += chunk.size;
  if (pull.fromCache.delete(i)) stats.bytesSkipped -= chunk.size;
  await pull.cache.putChunk(chunk.rawSha256, raw);
  return raw;
}

/** Runs `task` for each of `items`, `limit` at once. */
async function inPool(limit: number, items: readonly number[], task: (i: number) => Promise<void>) {
  const pool = new TaskPool(limit);
  try {
    for (const i of items) await pool.add(() => task(i));
    await pool.drain();
  } catch (error) {
    await pool.settle();
    throw error;
  }
}

/**
 * Phase 1: the chunks the cache lacks (by the files' names), downloaded `concurrency` at once
 * and each stored as soon as it is checked: memory holds only the chunks in flight. The chunks
 * stored whole come first — those the extents name, and the bases of the delta chunks the cache
 * lacks — then the delta chunks, made from their bases in the cache.
 */
async function fetchMissing(pull: Pull, count: boolean): Promise<void> {
  const { index, cache, stats, options } = pull;
  const held = await cache.heldChunks(new Set(index.chunks.map((c) => c.rawSha256)));
  const whole = new Set<number>();
  const deltas: number[] = [];
  for (const i of pull.used) {
    const chunk = index.chunks[i]!;
    if (held.has(chunk.rawSha256)) {
      if (count) {
        pull.fromCache.add(i);
        stats.bytesSkipped += chunk.size;
      }
    } else if (chunk.encoding === "delta") {
      deltas.push(i);
      for (const span of chunk.base ?? [])
        if (span.chunk >= 0 && !held.has(index.chunks[span.chunk]!.rawSha256)) whole.add(span.chunk);
    } else {
      whole.add(i);
    }
  }
  const order = [...whole].sort((a, b) => a - b);
  const total = [...order, ...deltas].reduce((n, i) => n + index.chunks[i]!.size, 0);
  let done = 0;
  const fetchOne = async (i: number): Promise<void> => {
    options.signal?.throwIfAborted();
    await download(pull, i);
    done += index.chunks[i]!.size;
    options.onProgress?.({ phase: "fetch", done, total });
  };
  const limit = options.concurrency ?? DEFAULT_CONCURRENCY;
  await inPool(limit, order, fetchOne);
  await inPool(limit, deltas, fetchOne);
}

/** A staging buffer: the disk's bytes from `at`, `fill` of them placed so far. */
interface Window {
  readonly buffer: Buffer;
  readonly at: number;
  fill: number;
  /** The data in it, [from, to) runs of adjacent chunks: what is written to the file. */
  readonly runs: [number, number][];
  /** The chunk reads into it. */
  readonly reads: Promise<void>[];
}

/**
 * Phase 2: the disk in one pass in disk order, into the file at `handle` (sized, holes
 * unwritten) and the whole-disk hash; the digest it gives. Each chunk is read from its cache file
 * straight into the staging window that mirrors its place on the disk (READ_AHEAD reads in
 * flight); a full window goes to the hasher first, then its data runs are written out and it is
 * reused. Short holes are zeroed in the window, long ones hashed from the hasher's own zeros. A
 * chunk file that is gone or short is dropped and the chunk downloaded again.
 */
async function assemble(pull: Pull, handle: FileHandle): Promise<string> {
  const { index, cache, options } = pull;
  const signal = options.signal;
  const whole = wholeDigest(options.wholeDigest ?? "worker", STAGE_SIZE, STAGE_POOL);
  const reads = new Set<Promise<void>>();
  const writes = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let breaks: (error: unknown) => void = noop;
  const broken = new Promise<never>((_, reject) => (breaks = reject));
  broken.catch(noop);
  const fail = (error: unknown): void => {
    failure ??= { error };
    breaks(error);
  };
  const track = (set: Set<Promise<void>>, task: Promise<void>): void => {
    const handled: Promise<void> = task.then(
      () => void set.delete(handled),
      (error: unknown) => {
        set.delete(handled);
        fail(error);
      },
    );
    set.add(handled);
  };
  const check = (): void => {
    if (failure !== undefined) throw failure.error;
  };
  // Hashing is posted in disk order: each window and run of zeros after the one before.
  let tail: Promise<void> = Promise.resolve();
  let reported = 0;
  const report = (done: number): void => {
    if (done <= reported) return;
    reported = done;
    options.onProgress?.({ phase: "chunks", done, total: index.size });
  };

  let win: Window | undefined;
  let position = 0;
  const room = async (): Promise<Window> => {
    if (win === undefined) {
      check();
      const buffer = await Promise.race([whole.buffer(), broken]);
      win = { buffer, at: position, fill: 0, runs: [], reads: [] };
    }
    return win;
  };
  const seal = (): void => {
    if (win === undefined) return;
    const w = win;
    win = undefined;
    let back: Promise<Buffer> | undefined;
    const ready = Promise.all(w.reads);
    tail = tail
      .then(() => ready)
      .then(() => {
        back = whole.hash(w.buffer, w.fill);
      });
    tail.catch(fail);
    track(
      writes,
      tail.then(async () => {
        const buffer = await back!;
        try {
          for (const [from, to] of w.runs) await writeAll(handle, buffer.subarray(from, to), w.at + from);
        } finally {
          whole.release(buffer);
        }
        report(w.at + w.fill);
      }),
    );
  };
  const zeros = async (length: number): Promise<void> => {
    if (length >= ZERO_MESSAGE_MIN) {
      seal();
      const end = position + length;
      tail = tail.then(() => {
        whole.feedZeros(length);
        report(end);
      });
      tail.catch(fail);
      position = end;
      return;
    }
    for (let left = length; left > 0;) {
      const w = await room();
      const n = Math.min(left, w.buffer.length - w.fill);
      w.buffer.fill(0, w.fill, w.fill + n);
      w.fill += n;
      position += n;
      left -= n;
      if (w.fill === w.buffer.length) seal();
    }
  };
  // A chunk found gone or short, downloaded once however many reads want it at the time.
  const again = new Map<number, Promise<Buffer>>();
  const readPart = async (i: number, into: Buffer, offset: number, length: number, from: number) => {
    const chunk = index.chunks[i]!;
    const read = await cache.readChunkPart(chunk.rawSha256, into, offset, length, from);
    if (read === length) return;
    let raw = again.get(i);
    if (raw === undefined) {
      raw = (async () => {
        if (read !== undefined) await cache.dropChunk(chunk.rawSha256);
        return download(pull, i);
      })();
      again.set(i, raw);
      raw.then(
        () => again.delete(i),
        () => again.delete(i),
      );
    }
    (await raw).copy(into, offset, from, from + length);
  };
  const data = async (i: number, length: number): Promise<void> => {
    for (let from = 0; from < length;) {
      const w = await room();
      const n = Math.min(length - from, w.buffer.length - w.fill);
      while (reads.size >= READ_AHEAD) await Promise.race(reads);
      check();
      const read = readPart(i, w.buffer, w.fill, n, from);
      track(reads, read);
      w.reads.push(read);
      const last = w.runs[w.runs.length - 1];
      if (last !== undefined && last[1] === w.fill) last[1] = w.fill + n;
      else w.runs.push([w.fill, w.fill + n]);
      w.fill += n;
      position += n;
      from += n;
      if (w.fill === w.buffer.length) seal();
    }
  };

  try {
    for (const extent of index.extents) {
      if (extent.chunk < 0) {
        await zeros(extent.length);
      } else {
        signal?.throwIfAborted();
        await data(extent.chunk, extent.length);
      }
    }
    seal();
    await tail;
    while (writes.size > 0) await Promise.race(writes);
    check();
    return await whole.digest();
  } catch (error) {
    // Nothing may still be reading or writing once the file is closed.
    fail(error);
    while (reads.size > 0 || writes.size > 0) await Promise.race([...reads, ...writes]);
    throw error;
  } finally {
    whole.close();
  }
}

/**
 * The chunks of the disk the cache holds damaged, each read and checked against its raw digest
 * (getChunk drops a damaged one): how many were dropped.
 */
async function dropDamaged(pull: Pull): Promise<number> {
  const checks = new TaskPool(CHECK_CONCURRENCY);
  let dropped = 0;
  try {
    for (const i of pull.used) {
      const chunk = pull.index.chunks[i]!;
      await checks.add(async () => {
        if ((await pull.cache.getChunk(chunk.rawSha256, chunk.rawLength)) === undefined) dropped++;
      });
    }
    await checks.drain();
  } catch (error) {
    await checks.settle();
    throw error;
  }
  return dropped;
}

/**
 * Pulls the chunked disk `description` (fetchDisk) from `repository` into `output`, raw unless
 * `options.format` says otherwise.
 *
 * Two phases: the chunks the cache lacks are downloaded and stored (fetchMissing; without a
 * cache, into a folder beside `output` removed at the end), then the disk is assembled from the
 * cache in one pass (assemble) that takes the whole disk's digest from the bytes it writes.
 *
 * Checks: a downloaded chunk is checked against its blob digest, raw length and raw digest
 * before it is stored; a cached chunk's file must hold at least its raw length (else it is
 * dropped and downloaded again). Its bytes are not hashed one by one as the pass reads them: the whole disk's sha256,
 * taken from exactly the bytes written, must match the index, and it covers every byte of every
 * chunk — the same index gives both, so the check is as strong as the chunk digests. Only when it
 * fails are the cached chunks checked one by one: the damaged ones are dropped, downloaded again
 * and the disk assembled once more; a disk that still does not match is refused.
 */
export async function pullChunkedDisk(
  client: RegistryClient,
  repository: string,
  description: ChunkedDiskRef,
  output: string,
  options: PullChunkedOptions = {},
): Promise<{ stats: TransferStats }> {
  const started = performance.now();
  const stats = newStats();
  const fetched = await fetchChunkedIndex(client, repository, description, options.limits);
  stats.bytesSent += fetched.bytes;
  const { index } = fetched;
  stats.chunks = index.extents.filter((e) => e.chunk >= 0).length;
  const used = new Set(index.extents.filter((e) => e.chunk >= 0).map((e) => e.chunk));
  stats.uniqueChunks = used.size;

  const staged = stagedPath(output, "pull");
  const converted = stagedPath(output, "convert");
  const scratch = options.cacheDir === undefined ? stagedPath(output, "chunks") : undefined;
  const cache = openChunkCache(options.cacheDir ?? scratch!);
  const pull: Pull = { client, repository, index, cache, stats, options, fromCache: new Set(), used };
  const handle = await open(staged, "wx+");
  let closed = false;
  try {
    await fetchMissing(pull, true);
    // Sized first: the holes are never written and stay sparse.
    await handle.truncate(index.size);
    let digest = await assemble(pull, handle);
    if (digest !== index.digest && (await dropDamaged(pull)) > 0) {
      await fetchMissing(pull, false);
      await handle.truncate(0);
      await handle.truncate(index.size);
      digest = await assemble(pull, handle);
    }
    if (digest !== index.digest)
      throw new DiskError(
        "BAD_DISK",
        `The disk assembled from ${client.registry}/${repository}@${description.digest} has sha256 ${digest}, not ${index.digest} as its index says`,
      );
    await handle.close();
    closed = true;
    const format = options.format ?? "raw";
    if (format === "raw") {
      await rename(staged, output);
    } else {
      await convertDisk(staged, "raw", converted, format);
      await checkConverted(converted, format, index.size);
      await rename(converted, output);
    }
  } finally {
    if (!closed) await handle.close();
    await rm(staged, { force: true });
    await rm(converted, { force: true });
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }
  stats.seconds = (performance.now() - started) / 1000;
  return { stats };
}

/** What a chunked disk's index says about its storage (strata disk inspect). */
export interface ChunkedFacts {
  /** Chunk extents, distinct chunks, holes and parts. */
  readonly chunks: number;
  readonly uniqueChunks: number;
  readonly holes: number;
  readonly parts: number;
  /** Bytes of the disk held in chunks (the rest is holes). */
  readonly dataBytes: number;
  /** Bytes of the chunk blobs in the registry. */
  readonly storedBytes: number;
  readonly indexBytes: number;
  readonly chunkSizes: DiskIndex["chunking"];
}

export function chunkedFacts(fetched: FetchedChunkedIndex): ChunkedFacts {
  const { index } = fetched;
  const chunkExtents = index.extents.filter((e) => e.chunk >= 0);
  return {
    chunks: chunkExtents.length,
    uniqueChunks: index.chunks.length,
    holes: index.extents.length - chunkExtents.length,
    parts: fetched.parts.length,
    dataBytes: chunkExtents.reduce((n, e) => n + e.length, 0),
    storedBytes: index.chunks.reduce((n, c) => n + c.size, 0),
    indexBytes: fetched.indexBlob.size,
    chunkSizes: index.chunking,
  };
}
