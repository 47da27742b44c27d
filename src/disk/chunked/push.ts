// Pushing a raw disk as a chunked disk artifact: the disk is cut into chunks in one pass
// (chunker.ts), each distinct chunk is compressed and uploaded unless the registry already has
// its blob, then the index blob, the part manifests and the image index over them are pushed
// (format.ts). A version that differs from the last one in a few places uploads only the chunks
// around those places; a push that was interrupted, run again, uploads only what did not arrive
// (every blob is asked for with HEAD first) and, with a cache folder, compresses only the chunks
// it has never compressed before (cache.ts remembers each chunk's stored form).
//
// With a cache folder, a push also remembers which blobs the repository holds (it found them
// there or sent them), and the next push to that repository takes those as present without a
// HEAD each: a new version of an 8,000-chunk disk asks only about the chunks that changed. A
// registry that lost a remembered blob (deleted, collected) refuses the manifest that names it;
// the push then forgets what it remembered of that repository and runs again, asking for every
// chunk.
//
// Memory stays bounded whatever the disk's size: the chunker holds one read's worth of chunks
// and at most `concurrency` chunks are being compressed or uploaded at once.
import { stat } from "node:fs/promises";
import {
  isDigest,
  isImageManifest,
  isIndex,
  MediaType,
  type Descriptor,
  type Digest,
} from "../../oci/index.ts";
import { pushReferrer, RemoteError, type RegistryClient } from "../../remote/index.ts";
import { DiskAnnotation, describeDisk, type DiskDescription } from "../artifact.ts";
import { DiskError } from "../errors.ts";
import { openChunkCache, type ChunkCache } from "./cache.ts";
import { chunkFile, type DataChunk } from "./chunker.ts";
import { encodeChunk } from "./compress.ts";
import type { ChunkSizes } from "./fastcdc.ts";
import { DEFAULT_CHUNK_SIZES } from "./fastcdc.ts";
import { DEFAULT_HOLE_MIN } from "./chunker.ts";
import {
  buildChunkedArtifact,
  EMPTY_CONFIG,
  EMPTY_DESCRIPTOR,
  type ChunkEntry,
  type IndexExtent,
} from "./format.ts";
import { newStats, TaskPool, type OnProgress, type TransferStats } from "./stats.ts";
import type { WholeDigestMode } from "./whole-digest.ts";

export const DEFAULT_CONCURRENCY = 8;

export interface ChunkedDiskInput {
  readonly boot: "bios" | "uefi";
  /** The image the disk was made from: its manifest becomes the subject. */
  readonly source?: { readonly digest: string; readonly size: number; readonly mediaType: string };
  /** Default now. */
  readonly created?: Date;
  /** The raw disk's sha256 as its maker knows it: the push fails when the file differs. */
  readonly rawDigest?: string;
}

export interface PushChunkedOptions {
  /** Also tag the artifact (a disk without a source is otherwise pushed by digest). */
  readonly tag?: string;
  /** Chunks compressed and uploaded at once (default 8). */
  readonly concurrency?: number;
  /** The chunk cache folder (cache.ts): remembers how each chunk was stored. */
  readonly cacheDir?: string;
  readonly sizes?: ChunkSizes;
  readonly holeMin?: number;
  readonly wholeDigest?: WholeDigestMode;
  readonly signal?: AbortSignal;
  readonly onProgress?: OnProgress;
}

export interface PushStats extends TransferStats {
  /** Chunks compressed by this push (the others' stored form came from the cache). */
  chunksEncoded: number;
  /** Chunks taken as present without asking: an earlier push from here found or sent them. */
  chunksKnown: number;
}

export interface PushChunkedResult {
  readonly digest: Digest;
  readonly description: DiskDescription;
  /** How the disk was recorded as a referrer of its source (when it has one). */
  readonly referrers?: "api" | "tag";
  readonly stats: PushStats;
}

function checkInput(input: ChunkedDiskInput): void {
  if (input.boot !== "bios" && input.boot !== "uefi")
    throw new DiskError("USAGE", `Invalid boot mode "${String(input.boot)}": expected bios or uefi`);
  if (input.rawDigest !== undefined && !isDigest(input.rawDigest))
    throw new DiskError("USAGE", `Invalid raw digest "${input.rawDigest}": expected sha256:<64 hex>`);
  const source = input.source;
  if (source === undefined) return;
  if (!isDigest(source.digest))
    throw new DiskError("USAGE", `Invalid source image digest "${source.digest}": expected sha256:<64 hex>`);
  if (!isImageManifest(source.mediaType) && !isIndex(source.mediaType))
    throw new DiskError(
      "USAGE",
      `Invalid source image media type "${source.mediaType}": expected an image manifest or index`,
    );
}

/**
 * Pushes the raw disk at `rawPath` to `repository` as a chunked disk artifact. With a source,
 * the artifact is recorded as a referrer of the source image (by the referrers API, else the
 * fallback tag) and tagged when `tag` is given; without one it is pushed under `tag`, else by
 * digest.
 */
export async function pushChunkedDisk(
  client: RegistryClient,
  repository: string,
  rawPath: string,
  input: ChunkedDiskInput,
  options: PushChunkedOptions = {},
): Promise<PushChunkedResult> {
  checkInput(input);
  const cache = options.cacheDir === undefined ? undefined : openChunkCache(options.cacheDir);
  if (cache === undefined) return pushOnce(client, repository, rawPath, input, options, undefined);
  const scope = `${client.registry}/${repository}`;
  const known = { scope, cache, blobs: await cache.knownBlobs(scope) };
  try {
    return await pushOnce(client, repository, rawPath, input, options, known);
  } catch (error) {
    if (
      known.blobs.size === 0 ||
      !(error instanceof RemoteError) ||
      !/MANIFEST_BLOB_UNKNOWN/.test(error.message)
    )
      throw error;
    await cache.forgetBlobs(scope);
    return pushOnce(client, repository, rawPath, input, options, { ...known, blobs: new Set() });
  }
}

/** What a repository is known to hold, from the cache (see the head of this file). */
interface KnownBlobs {
  readonly scope: string;
  readonly cache: ChunkCache;
  readonly blobs: ReadonlySet<string>;
}

async function pushOnce(
  client: RegistryClient,
  repository: string,
  rawPath: string,
  input: ChunkedDiskInput,
  options: PushChunkedOptions,
  known: KnownBlobs | undefined,
): Promise<PushChunkedResult> {
  const started = performance.now();
  const size = await stat(rawPath).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => {
      throw new DiskError("USAGE", `Cannot read disk "${rawPath}": ${error.code ?? error.message}`);
    },
  );
  if (size === 0) throw new DiskError("BAD_DISK", `Disk "${rawPath}" is empty`);
  const sizes = options.sizes ?? DEFAULT_CHUNK_SIZES;
  const holeMin = options.holeMin ?? DEFAULT_HOLE_MIN;
  const stats: PushStats = { ...newStats(), chunksEncoded: 0, chunksKnown: 0 };
  /** Blobs found in or sent to the repository by this push, not yet remembered. */
  const found: string[] = [];
  const signal = options.signal;

  // The chunk table in order of first appearance; entries filled in as their uploads finish.
  const byRaw = new Map<string, number>();
  const chunks: (ChunkEntry | undefined)[] = [];
  const extents: IndexExtent[] = [];
  const pool = new TaskPool(options.concurrency ?? DEFAULT_CONCURRENCY);

  const store = async (chunk: DataChunk, slot: number): Promise<void> => {
    signal?.throwIfAborted();
    const entry = await storeChunk(client, repository, chunk, known, stats, signal);
    if (known !== undefined && !known.blobs.has(entry.digest)) found.push(entry.digest);
    chunks[slot] = entry;
  };

  const extentsOf = chunkFile(rawPath, {
    sizes,
    holeMin,
    ...(options.wholeDigest === undefined ? {} : { wholeDigest: options.wholeDigest }),
  });
  let whole: { size: number; digest: string };
  try {
    for (;;) {
      const next = await extentsOf.next();
      if (next.done === true) {
        whole = next.value;
        break;
      }
      const extent = next.value;
      if (extent.kind === "hole") {
        extents.push({ offset: extent.offset, length: extent.length, chunk: -1 });
      } else {
        stats.chunks++;
        let slot = byRaw.get(extent.sha256);
        if (slot === undefined) {
          slot = chunks.length;
          byRaw.set(extent.sha256, slot);
          chunks.push(undefined);
          const at = slot;
          signal?.throwIfAborted();
          await pool.add(() => store(extent, at));
        }
        extents.push({ offset: extent.offset, length: extent.length, chunk: slot });
      }
      options.onProgress?.({ phase: "chunks", done: extent.offset + extent.length, total: size });
    }
    await pool.drain();
  } catch (error) {
    await extentsOf.return({ size: 0, digest: "" }).catch(() => undefined);
    await pool.settle();
    throw error;
  }
  stats.uniqueChunks = chunks.length;

  if (whole.size !== size)
    throw new DiskError("BAD_DISK", `Disk "${rawPath}" changed size while it was pushed`);
  if (input.rawDigest !== undefined && input.rawDigest !== whole.digest)
    throw new DiskError(
      "BAD_DISK",
      `Disk "${rawPath}" is not the disk expected: its sha256 is ${whole.digest}, not ${input.rawDigest}`,
    );

  const annotations: Record<string, string> = {
    [DiskAnnotation.format]: "chunked",
    [DiskAnnotation.virtualSize]: String(size),
    [DiskAnnotation.boot]: input.boot,
    [DiskAnnotation.rawDigest]: whole.digest,
    ...(input.source === undefined ? {} : { [DiskAnnotation.baseDigest]: input.source.digest }),
    [DiskAnnotation.created]: (input.created ?? new Date()).toISOString(),
  };
  const subject: Descriptor | undefined =
    input.source === undefined
      ? undefined
      : {
          mediaType: input.source.mediaType,
          digest: input.source.digest as Digest,
          size: input.source.size,
        };
  const artifact = buildChunkedArtifact(
    {
      size,
      digest: whole.digest as Digest,
      chunking: { ...sizes, holeMin },
      chunks: chunks as ChunkEntry[],
      extents,
    },
    annotations,
    subject,
  );

  // The blobs the manifests name, then the manifests, each before anything that names it.
  const manifests = artifact.children.length + 1;
  const report = (done: number): void => options.onProgress?.({ phase: "manifests", done, total: manifests });
  for (const blob of [
    { digest: EMPTY_DESCRIPTOR.digest, size: EMPTY_CONFIG.length, bytes: EMPTY_CONFIG },
    artifact.indexBlob,
  ]) {
    signal?.throwIfAborted();
    if (await client.putBlob(repository, blob)) stats.bytesSent += blob.size;
  }
  for (const [i, child] of artifact.children.entries()) {
    signal?.throwIfAborted();
    await client.putManifest(repository, child.digest, child.bytes, child.mediaType);
    stats.bytesSent += child.bytes.length;
    report(i + 1);
  }
  signal?.throwIfAborted();
  const top = artifact.top;
  let referrers: "api" | "tag" | undefined;
  if (subject === undefined) {
    await client.putManifest(repository, options.tag ?? top.digest, top.bytes, top.mediaType);
  } else {
    ({ indexed: referrers } = await pushReferrer(client, repository, subject, {
      digest: top.digest,
      manifest: top.bytes,
      mediaType: top.mediaType,
      artifactType: MediaType.DiskChunked,
      blobs: [],
    }));
    if (options.tag !== undefined)
      await client.putManifest(repository, options.tag, top.bytes, top.mediaType);
  }
  stats.bytesSent += top.bytes.length;
  // Remembered only now: a push that failed may have left blobs a registry will not keep.
  await known?.cache.rememberBlobs(known.scope, found);
  report(manifests);
  stats.seconds = (performance.now() - started) / 1000;
  return {
    digest: top.digest,
    description: describeDisk(top.bytes, top.mediaType),
    ...(referrers === undefined ? {} : { referrers }),
    stats,
  };
}

/**
 * One distinct chunk into the registry: its stored form from the cache when the registry is
 * known to hold that blob or says it has it, else compressed here and uploaded unless the
 * registry has it.
 */
async function storeChunk(
  client: RegistryClient,
  repository: string,
  chunk: DataChunk,
  known: KnownBlobs | undefined,
  stats: PushStats,
  signal: AbortSignal | undefined,
): Promise<ChunkEntry> {
  const raw = { rawSha256: chunk.sha256, rawLength: chunk.length };
  const cache = known?.cache;
  const stored = await cache?.getStored(chunk.sha256);
  if (stored !== undefined) {
    const present = known?.blobs.has(stored.digest) === true;
    if (present || (await client.hasBlob(repository, stored.digest))) {
      if (present) stats.chunksKnown++;
      stats.bytesSkipped += stored.size;
      return { digest: stored.digest, size: stored.size, encoding: stored.encoding, ...raw };
    }
  }
  const encoded = await encodeChunk(chunk.bytes);
  stats.chunksEncoded++;
  const digest = `sha256:${encoded.digest}` as Digest;
  const form = { digest, size: encoded.bytes.length, encoding: encoded.encoding };
  if (cache !== undefined && stored?.digest !== digest) await cache.putStored(chunk.sha256, form);
  signal?.throwIfAborted();
  if (await client.putBlob(repository, { digest, size: form.size, bytes: encoded.bytes })) {
    stats.chunksSent++;
    stats.chunkBytesSent += form.size;
    stats.bytesSent += form.size;
  } else {
    stats.bytesSkipped += form.size;
  }
  return { ...form, ...raw };
}
