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
// With a base — the disk's previous version in the same repository (the tag the push overwrites,
// or one named) — and the base's chunks' raw bytes in the cache (a push keeps the raw bytes of
// the chunks it handles there), a chunk the base lacks is compared with the base's bytes at the
// same disk offsets, and at those as far away as the last chunk found in the base had moved,
// and, when that is much smaller, stored as a delta against them (delta.ts);
// the base chunks it names join the chunk table. A base chunk that is itself a delta is never
// a base (depth 1): such a chunk is stored whole. Without the base's bytes here, chunks are
// stored whole: a push never downloads a base.
//
// Memory stays bounded whatever the disk's size: the chunker holds one read's worth of chunks
// and at most `concurrency` chunks are being compressed or uploaded at once.
import { stat } from "node:fs/promises";
import {
  digestOf,
  isDigest,
  isImageManifest,
  isIndex,
  MediaType,
  type Descriptor,
  type Digest,
} from "../../oci/index.ts";
import { pushReferrer, RemoteError, type RegistryClient } from "../../remote/index.ts";
import { DiskAnnotation, describeDisk, fetchDisk, type DiskDescription } from "../artifact.ts";
import { DiskError } from "../errors.ts";
import { openChunkCache, type ChunkCache } from "./cache.ts";
import { chunkFile, type DataChunk } from "./chunker.ts";
import { encodeChunk } from "./compress.ts";
import { encodeDelta } from "./delta.ts";
import type { ChunkSizes } from "./fastcdc.ts";
import { DEFAULT_CHUNK_SIZES } from "./fastcdc.ts";
import { DEFAULT_HOLE_MIN } from "./chunker.ts";
import {
  buildChunkedArtifact,
  EMPTY_CONFIG,
  EMPTY_DESCRIPTOR,
  type BaseSpan,
  type ChunkEntry,
  type DiskIndex,
  type IndexExtent,
} from "./format.ts";
import { fetchChunkedIndex } from "./pull.ts";
import { newStats, TaskPool, type OnProgress, type TransferStats } from "./stats.ts";
import type { WholeDigestMode } from "./whole-digest.ts";

export const DEFAULT_CONCURRENCY = 8;
/** A delta is used when it is at most this share of the chunk stored whole… */
const DELTA_PAYS = 0.75;
/** …counting this much for each base chunk it names (its index entry and part descriptor). */
const DELTA_BASE_COST = 256;

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
  /**
   * The disk's previous version in the same repository (a tag or digest) to store changed chunks
   * as deltas against; default `tag` when it names a chunked disk there; false: none.
   */
  readonly base?: string | false;
  /** A base named that is not there, or not a chunked disk, is no base rather than an error. */
  readonly baseOptional?: boolean;
  /**
   * Keep the raw bytes of the chunks pushed in the cache (default true): what a later push needs
   * to store its changes as deltas against this version. They take the disk's data bytes.
   */
  readonly keepChunks?: boolean;
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
  /** Chunks stored as deltas against the base (sent by this push or already there). */
  chunksDelta: number;
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
  const base = await loadBase(client, repository, options);
  const known = {
    scope,
    cache,
    blobs: await cache.knownBlobs(scope),
    base,
    keep: options.keepChunks !== false,
  };
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

/**
 * What a repository is known to hold, from the cache (see the head of this file); the base to
 * store deltas against, and whether to keep the raw chunks.
 */
interface KnownBlobs {
  readonly scope: string;
  readonly cache: ChunkCache;
  readonly blobs: ReadonlySet<string>;
  readonly base: PushBase | undefined;
  readonly keep: boolean;
}

/** The previous version's index, its chunks by raw digest, and where each first is on its disk. */
interface PushBase {
  readonly index: DiskIndex;
  readonly byRaw: ReadonlyMap<string, ChunkEntry>;
  readonly offsets: ReadonlyMap<string, number>;
}

/**
 * The base's index: the one named, else the tag being pushed when it is a chunked disk already.
 * A base named that is not there or not a chunked disk is an error; a tag that is not is no base.
 */
async function loadBase(
  client: RegistryClient,
  repository: string,
  options: PushChunkedOptions,
): Promise<PushBase | undefined> {
  const named = options.baseOptional === true || options.base === false ? undefined : options.base;
  const reference = options.base === false ? undefined : (options.base ?? options.tag);
  if (reference === undefined) return undefined;
  let description: DiskDescription;
  try {
    description = await fetchDisk(client, repository, reference);
  } catch (error) {
    if (
      named === undefined &&
      (error instanceof DiskError || (error instanceof RemoteError && error.status === 404))
    )
      return undefined;
    throw new DiskError(
      "USAGE",
      `Cannot read the base disk "${reference}" in ${client.registry}/${repository}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (description.layout !== "chunked") {
    if (named === undefined) return undefined;
    throw new DiskError("USAGE", `The base disk "${reference}" is not a chunked disk`);
  }
  const { index } = await fetchChunkedIndex(client, repository, description);
  const offsets = new Map<string, number>();
  for (const extent of index.extents) {
    const raw = extent.chunk < 0 ? undefined : index.chunks[extent.chunk]!.rawSha256;
    if (raw !== undefined && !offsets.has(raw)) offsets.set(raw, extent.offset);
  }
  return { index, byRaw: new Map(index.chunks.map((c) => [c.rawSha256, c])), offsets };
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
  const stats: PushStats = { ...newStats(), chunksEncoded: 0, chunksKnown: 0, chunksDelta: 0 };
  /** Blobs found in or sent to the repository by this push, not yet remembered. */
  const found: string[] = [];
  const signal = options.signal;

  // The chunk table in order of first appearance; entries filled in as their uploads finish.
  const byRaw = new Map<string, number>();
  const chunks: (PendingEntry | undefined)[] = [];
  const extents: IndexExtent[] = [];
  const pool = new TaskPool(options.concurrency ?? DEFAULT_CONCURRENCY);

  // How far the base's bytes had moved at the last chunk found in the base: a delta is also
  // tried against the base's bytes that far away (files moved by one added or grown before them).
  let shift = 0;
  const store = async (chunk: DataChunk, slot: number, moved: number): Promise<void> => {
    signal?.throwIfAborted();
    const pending = await storeChunk(client, repository, { chunk, moved }, known, stats, signal);
    if (known !== undefined && !known.blobs.has(pending.entry.digest)) found.push(pending.entry.digest);
    chunks[slot] = pending;
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
        const was = known?.base?.offsets.get(extent.sha256);
        if (was !== undefined) shift = was - extent.offset;
        let slot = byRaw.get(extent.sha256);
        if (slot === undefined) {
          slot = chunks.length;
          byRaw.set(extent.sha256, slot);
          chunks.push(undefined);
          const at = slot;
          const moved = shift;
          signal?.throwIfAborted();
          await pool.add(() => store(extent, at, moved));
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
  const table = chunkTable(chunks as PendingEntry[]);

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
      chunks: table.chunks,
      extents: extents.map((e) => (e.chunk < 0 ? e : { ...e, chunk: table.renumber[e.chunk]! })),
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

/** A chunk as this push stores it; a delta's base spans name base chunks, numbered at the end. */
interface PendingEntry {
  readonly entry: ChunkEntry;
  readonly spans?: readonly PendingSpan[];
}

/** A base span: `chunk` undefined for zeros (a hole of the base). */
interface PendingSpan {
  readonly chunk: ChunkEntry | undefined;
  readonly offset: number;
  readonly length: number;
}

/**
 * The index's chunk table: the chunks in order of first appearance, each delta's base chunks
 * placed just before it (so they fall in the part the delta already changes), one entry per raw
 * digest; `renumber` maps the push's slots to it.
 */
function chunkTable(pending: readonly PendingEntry[]): { chunks: ChunkEntry[]; renumber: number[] } {
  const chunks: ChunkEntry[] = [];
  const at = new Map<string, number>();
  const place = (entry: ChunkEntry): number => {
    let n = at.get(entry.rawSha256);
    if (n === undefined) {
      n = chunks.length;
      at.set(entry.rawSha256, n);
      chunks.push(entry);
    }
    return n;
  };
  const renumber = pending.map(({ entry, spans }) => {
    if (spans === undefined) return place(entry);
    const base: BaseSpan[] = spans.map((s) => ({
      chunk: s.chunk === undefined ? -1 : place(s.chunk),
      offset: s.offset,
      length: s.length,
    }));
    return place({ ...entry, base });
  });
  return { chunks, renumber };
}

/**
 * The base's bytes at `offset`, `length` long, as spans of its chunks and holes; undefined when
 * the base is shorter or a chunk there is a delta (depth 1).
 */
function baseSpansAt(base: PushBase, offset: number, length: number): PendingSpan[] | undefined {
  const { extents, chunks, size } = base.index;
  if (offset + length > size) return undefined;
  let lo = 0;
  let hi = extents.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (extents[mid]!.offset <= offset) lo = mid;
    else hi = mid - 1;
  }
  const spans: PendingSpan[] = [];
  const end = offset + length;
  for (let i = lo, at = offset; at < end; i++) {
    const extent = extents[i]!;
    const to = Math.min(end, extent.offset + extent.length);
    if (extent.chunk < 0) {
      spans.push({ chunk: undefined, offset: 0, length: to - at });
    } else {
      const chunk = chunks[extent.chunk]!;
      if (chunk.encoding === "delta") return undefined;
      spans.push({ chunk, offset: at - extent.offset, length: to - at });
    }
    at = to;
  }
  return spans;
}

/**
 * The delta that makes `chunk` from the base's bytes at its offsets, when those bytes are in the
 * cache and the delta pays (DELTA_PAYS against `wholeSize`, the chunk's stored size on its own).
 */
async function deltaOf(
  known: KnownBlobs,
  base: PushBase,
  chunk: DataChunk,
  at: number,
  wholeSize: number,
): Promise<{ bytes: Buffer; spans: PendingSpan[] } | undefined> {
  if (at < 0) return undefined;
  const spans = baseSpansAt(base, at, chunk.length);
  if (spans === undefined) return undefined;
  const from = Buffer.alloc(chunk.length);
  const named = new Set<string>();
  let filled = 0;
  for (const span of spans) {
    if (span.chunk !== undefined) {
      named.add(span.chunk.rawSha256);
      const raw = await known.cache.getChunk(span.chunk.rawSha256, span.chunk.rawLength);
      if (raw === undefined) return undefined;
      raw.copy(from, filled, span.offset, span.offset + span.length);
    }
    filled += span.length;
  }
  if (named.size === 0) return undefined;
  const bytes = await encodeDelta(chunk.bytes, from, chunk.sha256);
  if (bytes.length + DELTA_BASE_COST * named.size > wholeSize * DELTA_PAYS) return undefined;
  return { bytes, spans };
}

/** Uploads a blob unless the registry has it, counting what moved. */
async function upload(
  client: RegistryClient,
  repository: string,
  blob: { digest: Digest; size: number; bytes: Buffer },
  stats: PushStats,
): Promise<void> {
  if (await client.putBlob(repository, blob)) {
    stats.chunksSent++;
    stats.chunkBytesSent += blob.size;
    stats.bytesSent += blob.size;
  } else {
    stats.bytesSkipped += blob.size;
  }
}

/**
 * One distinct chunk into the registry: the base's delta for it when the base stores it so and
 * the registry holds that; its stored form from the cache when the registry is known to hold that
 * blob or says it has it; else compressed here, or made a delta against the base, and uploaded
 * unless the registry has it. Its raw bytes are kept in the cache (unless told not to).
 */
async function storeChunk(
  client: RegistryClient,
  repository: string,
  { chunk, moved }: { chunk: DataChunk; moved: number },
  known: KnownBlobs | undefined,
  stats: PushStats,
  signal: AbortSignal | undefined,
): Promise<PendingEntry> {
  const raw = { rawSha256: chunk.sha256, rawLength: chunk.length };
  const cache = known?.cache;
  if (known?.keep === true && !(await known.cache.hasChunk(chunk.sha256)))
    await known.cache.putChunk(chunk.sha256, chunk.bytes);
  const base = known?.base;
  const inBase = base?.byRaw.get(chunk.sha256);
  if (base !== undefined && inBase?.encoding === "delta") {
    const present = known?.blobs.has(inBase.digest) === true;
    if (present || (await client.hasBlob(repository, inBase.digest))) {
      if (present) stats.chunksKnown++;
      stats.bytesSkipped += inBase.size;
      stats.chunksDelta++;
      const { base: spans = [], ...entry } = inBase;
      return {
        entry,
        spans: spans.map((s) => ({
          chunk: s.chunk < 0 ? undefined : base.index.chunks[s.chunk],
          offset: s.offset,
          length: s.length,
        })),
      };
    }
  }
  const stored = await cache?.getStored(chunk.sha256);
  if (stored !== undefined) {
    const present = known?.blobs.has(stored.digest) === true;
    if (present || (await client.hasBlob(repository, stored.digest))) {
      if (present) stats.chunksKnown++;
      stats.bytesSkipped += stored.size;
      return { entry: { digest: stored.digest, size: stored.size, encoding: stored.encoding, ...raw } };
    }
  }
  const encoded = await encodeChunk(chunk.bytes);
  stats.chunksEncoded++;
  const digest = `sha256:${encoded.digest}` as Digest;
  const form = { digest, size: encoded.bytes.length, encoding: encoded.encoding };
  if (cache !== undefined && stored?.digest !== digest) await cache.putStored(chunk.sha256, form);
  signal?.throwIfAborted();
  let delta: { bytes: Buffer; spans: PendingSpan[] } | undefined;
  if (known !== undefined && base !== undefined && inBase === undefined) {
    // The base's bytes at the same offsets (a file rewritten in place), else where the last
    // chunk found in the base had moved to (files moved by something added before them).
    delta = await deltaOf(known, base, chunk, chunk.offset, form.size);
    if (moved !== 0) {
      const other = await deltaOf(known, base, chunk, chunk.offset + moved, form.size);
      if (other !== undefined && (delta === undefined || other.bytes.length < delta.bytes.length))
        delta = other;
    }
  }
  if (delta !== undefined) {
    const blob = { digest: digestOf(delta.bytes), size: delta.bytes.length, bytes: delta.bytes };
    signal?.throwIfAborted();
    await upload(client, repository, blob, stats);
    stats.chunksDelta++;
    return {
      entry: { digest: blob.digest, size: blob.size, encoding: "delta", ...raw },
      spans: delta.spans,
    };
  }
  await upload(client, repository, { digest, size: form.size, bytes: encoded.bytes }, stats);
  return { entry: { ...form, ...raw } };
}
