// Pulling a chunked disk artifact into a file: the chunk index (size-limited, checked by
// decodeIndex) and the part manifests (every chunk the index names must be listed in one), then
// every distinct chunk — from the local cache when it holds it, else downloaded (verified against
// its blob digest), decompressed and checked against its raw digest, and kept in the cache at
// once — written at each offset the index names it. The file is written beside `output`, sized
// first so the holes between chunks stay sparse, checked against the whole disk's digest, and
// renamed over `output` only at the end (after conversion for another format): a failed pull
// leaves an existing `output` as it was, and a pull run again after a failure fetches only the
// chunks the cache does not hold yet.
import { randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MediaType, OciFormatError, parseManifest, type Descriptor } from "../../oci/index.ts";
import { RemoteError, type RegistryClient } from "../../remote/index.ts";
import { DiskError } from "../errors.ts";
import { checkConverted, convertDisk, type ImageFormat } from "../formats.ts";
import { openChunkCache, type ChunkCache } from "./cache.ts";
import { decodeChunk } from "./compress.ts";
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

const READ_SIZE = 8 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 8;

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
  const partLayers: Descriptor[][] = [];
  for (const part of parts) {
    const fetched = await client.getManifest(repository, part.digest, [MediaType.ImageManifest]);
    bytes += fetched.bytes.length;
    const manifest = parseManifest(fetched.bytes, fetched.mediaType || undefined);
    if (manifest.kind !== "manifest" || manifest.artifactType !== MediaType.DiskChunkPart)
      throw new DiskError("BAD_DISK", `${name}: manifest ${part.digest} is not a part of a chunked disk`);
    partLayers.push([...manifest.layers]);
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

/** A chunk's raw bytes from the registry, verified against its blob digest and raw digest. */
async function downloadChunk(client: RegistryClient, repository: string, chunk: ChunkEntry): Promise<Buffer> {
  const where = `${client.registry}/${repository}`;
  let stored: Buffer;
  try {
    stored = await client.getBlobBytes(repository, chunk.digest, chunk.size);
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
  return decodeChunk(
    stored,
    chunk.encoding,
    { length: chunk.rawLength, sha256: chunk.rawSha256 },
    `${chunk.digest} from ${where}`,
  );
}

/** sha256 of the first `size` bytes of the file open as `handle`. */
async function digestFile(
  handle: FileHandle,
  size: number,
  mode: WholeDigestMode,
  onProgress: OnProgress | undefined,
): Promise<string> {
  const whole = wholeDigest(mode, READ_SIZE);
  try {
    for (let position = 0; position < size;) {
      const buffer = await whole.buffer();
      const want = Math.min(READ_SIZE, size - position);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead !== want) throw new DiskError("BAD_DISK", `Short read of the pulled disk at ${position}`);
      whole.feed(buffer, bytesRead);
      position += bytesRead;
      onProgress?.({ phase: "verify", done: position, total: size });
    }
    return await whole.digest();
  } finally {
    whole.close();
  }
}

/**
 * Pulls the chunked disk `description` (fetchDisk) from `repository` into `output`, raw unless
 * `options.format` says otherwise.
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
  const signal = options.signal;
  const cache: ChunkCache | undefined =
    options.cacheDir === undefined ? undefined : openChunkCache(options.cacheDir);
  const fetched = await fetchChunkedIndex(client, repository, description, options.limits);
  stats.bytesSent += fetched.bytes;
  const { index } = fetched;
  const offsets: number[][] = index.chunks.map(() => []);
  for (const extent of index.extents) if (extent.chunk >= 0) offsets[extent.chunk]!.push(extent.offset);
  stats.chunks = index.extents.filter((e) => e.chunk >= 0).length;
  stats.uniqueChunks = index.chunks.length;
  const dataBytes = index.extents.reduce((n, e) => (e.chunk >= 0 ? n + e.length : n), 0);

  const staged = stagedPath(output, "pull");
  const converted = stagedPath(output, "convert");
  const handle = await open(staged, "wx+");
  let closed = false;
  const pool = new TaskPool(options.concurrency ?? DEFAULT_CONCURRENCY);
  try {
    // Sized first: the holes are never written and stay sparse.
    await handle.truncate(index.size);
    let written = 0;
    for (const [i, chunk] of index.chunks.entries()) {
      signal?.throwIfAborted();
      await pool.add(async () => {
        let raw = await cache?.getChunk(chunk.rawSha256, chunk.rawLength);
        if (raw !== undefined) {
          stats.bytesSkipped += chunk.size;
        } else {
          signal?.throwIfAborted();
          raw = await downloadChunk(client, repository, chunk);
          stats.chunksSent++;
          stats.chunkBytesSent += chunk.size;
          stats.bytesSent += chunk.size;
          await cache?.putChunk(chunk.rawSha256, raw);
        }
        for (const offset of offsets[i]!) {
          await writeAll(handle, raw, offset);
          written += raw.length;
        }
        options.onProgress?.({ phase: "chunks", done: written, total: dataBytes });
      });
    }
    await pool.drain();

    const digest = await digestFile(handle, index.size, options.wholeDigest ?? "worker", options.onProgress);
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
  } catch (error) {
    await pool.settle();
    throw error;
  } finally {
    if (!closed) await handle.close();
    await rm(staged, { force: true });
    await rm(converted, { force: true });
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
