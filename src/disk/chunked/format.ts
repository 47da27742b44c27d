// The chunked disk format (docs/disk-format.md): an OCI image index whose first manifest holds
// the chunk index blob and whose other manifests ("parts") list the chunk blobs, so any registry
// keeps every chunk and any copier (skopeo copy --all) moves them, while no manifest grows with
// the disk: a part lists at most PART_MAX chunks, cut where a chunk's raw digest says so, so an
// unchanged stretch of disk gives the same part manifest in the next version too.
//
// The index blob is gzip-compressed JSON: the disk's size and digest, the chunk table (blob
// digest, blob size, raw digest, raw length, encoding, and for a delta chunk its base) and the
// extents that tile the disk, each a chunk or a hole. Everything here is pure: bytes in, checked
// structures out.
import { gunzipSync, gzipSync } from "node:zlib";
import {
  digestOf,
  isDigest,
  MediaType,
  parseManifest,
  type Descriptor,
  type Digest,
  type ImageIndex,
} from "../../oci/index.ts";
import { DiskError } from "../errors.ts";
import { chunkEncodingOf, chunkMediaType, type ChunkEncoding } from "./compress.ts";
import { DEFAULT_CHUNK_SIZES, type ChunkSizes } from "./fastcdc.ts";

export const INDEX_SCHEMA = "application/vnd.strata.disk.index.v1+json";
/** A part ends after a chunk whose raw digest's first 32 bits are a multiple of this… */
export const PART_AVG = 512;
/** …or when it lists this many chunks. */
export const PART_MAX = 2048;
/** Longest chunk a reader accepts (the format's own maximum is DEFAULT_CHUNK_SIZES.max). */
export const MAX_CHUNK_LENGTH = 16 * 1024 * 1024;

export interface IndexLimits {
  /** Largest index blob accepted, compressed and decompressed (bytes). */
  readonly maxIndexBytes: number;
}

/**
 * 256 MiB: the index of a 64 GiB disk full of data (about a million chunks) is about 90 MB
 * compressed and 150 MB as JSON.
 */
export const DEFAULT_INDEX_LIMITS: IndexLimits = { maxIndexBytes: 256 * 1024 * 1024 };

export interface ChunkEntry {
  /** The blob as stored: digest and size. */
  readonly digest: Digest;
  readonly size: number;
  /** sha256 of the raw bytes, hex, and their length. */
  readonly rawSha256: string;
  readonly rawLength: number;
  readonly encoding: ChunkEncoding;
  /**
   * A delta chunk's base (delta.ts): spans of other chunks of the table, or of zeros (chunk -1,
   * offset 0), whose concatenation is as long as the chunk. Only for encoding "delta".
   */
  readonly base?: readonly BaseSpan[];
}

/** `length` bytes of chunk `chunk`'s raw bytes from `offset`; chunk -1 is zeros. */
export interface BaseSpan {
  readonly chunk: number;
  readonly offset: number;
  readonly length: number;
}

export interface IndexExtent {
  readonly offset: number;
  readonly length: number;
  /** Index into `chunks`, or -1 for a hole (zeros, not stored). */
  readonly chunk: number;
}

export interface DiskIndex {
  /** Bytes of the whole disk. */
  readonly size: number;
  /** sha256 of the whole raw disk. */
  readonly digest: Digest;
  readonly chunking: ChunkSizes & { readonly holeMin: number };
  readonly chunks: readonly ChunkEntry[];
  readonly extents: readonly IndexExtent[];
}

const HEX64 = /^[0-9a-f]{64}$/;

function bad(why: string): never {
  throw new DiskError("BAD_DISK", `Invalid disk index: ${why}`);
}

/** The index blob's bytes (gzip of the JSON document). */
export function encodeIndex(index: DiskIndex): Buffer {
  const document = {
    schemaVersion: 1,
    mediaType: INDEX_SCHEMA,
    size: index.size,
    digest: index.digest,
    chunking: { algorithm: "fastcdc-gear-v1", ...index.chunking },
    chunks: index.chunks.map((c) => {
      const entry: unknown[] = [c.digest.slice(7), c.size, c.rawSha256, c.rawLength, c.encoding];
      if (c.base !== undefined) entry.push(c.base.map((s) => [s.chunk, s.offset, s.length]));
      return entry;
    }),
    extents: index.extents.map((e) => [e.offset, e.length, e.chunk]),
  };
  return gzipSync(JSON.stringify(document), { level: 9 });
}

const isCount = (value: unknown, min = 0): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= min;

/**
 * Reads and checks an index blob: within the size limit, well formed, extents in order without
 * gaps or overlaps that add up to the disk, each chunk extent as long as its chunk.
 */
export function decodeIndex(bytes: Buffer, limits: IndexLimits = DEFAULT_INDEX_LIMITS): DiskIndex {
  const limit = limits.maxIndexBytes;
  if (bytes.length > limit)
    throw new DiskError("TOO_LARGE", `The disk index is ${bytes.length} bytes, over the limit of ${limit}`);
  let text: string;
  try {
    text = gunzipSync(bytes, { maxOutputLength: limit }).toString("utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE")
      throw new DiskError(
        "TOO_LARGE",
        `The disk index decompresses to more than the limit of ${limit} bytes`,
      );
    bad(`not gzip-compressed JSON (${(error as Error).message})`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    bad(`not JSON (${(error as Error).message})`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) bad("not a JSON object");
  if (doc.schemaVersion !== 1) bad(`schemaVersion is ${JSON.stringify(doc.schemaVersion)}, not 1`);
  if (doc.mediaType !== INDEX_SCHEMA)
    bad(`mediaType is ${JSON.stringify(doc.mediaType)}, not ${INDEX_SCHEMA}`);
  if (!isCount(doc.size, 1)) bad(`size ${JSON.stringify(doc.size)} is not a positive byte count`);
  if (typeof doc.digest !== "string" || !isDigest(doc.digest) || !doc.digest.startsWith("sha256:"))
    bad(`digest ${JSON.stringify(doc.digest)} is not sha256:<64 hex>`);
  const chunking = doc.chunking as Record<string, unknown> | undefined;
  const sizes = {
    min: isCount(chunking?.min, 1) ? chunking.min : DEFAULT_CHUNK_SIZES.min,
    avg: isCount(chunking?.avg, 1) ? chunking.avg : DEFAULT_CHUNK_SIZES.avg,
    max: isCount(chunking?.max, 1) ? chunking.max : DEFAULT_CHUNK_SIZES.max,
    holeMin: isCount(chunking?.holeMin, 1) ? chunking.holeMin : 0,
  };
  if (!Array.isArray(doc.chunks)) bad("chunks is not a list");
  if (!Array.isArray(doc.extents)) bad("extents is not a list");
  const seen = new Set<string>();
  const chunks: ChunkEntry[] = doc.chunks.map((entry: unknown, i: number): ChunkEntry => {
    if (!Array.isArray(entry) || (entry.length !== 5 && entry.length !== 6))
      bad(`chunk ${i} is not [digest, size, raw digest, raw length, encoding] (and a delta's base)`);
    const [hex, size, raw, rawLength, encoding, base] = entry as unknown[];
    if (typeof hex !== "string" || !HEX64.test(hex))
      bad(`chunk ${i} has digest ${JSON.stringify(hex)}, not 64 hex digits`);
    if (seen.has(hex)) bad(`chunk ${i} (sha256:${hex}) is listed twice`);
    seen.add(hex);
    if (!isCount(size, 1)) bad(`chunk ${i} has size ${JSON.stringify(size)}`);
    if (typeof raw !== "string" || !HEX64.test(raw)) bad(`chunk ${i} has raw digest ${JSON.stringify(raw)}`);
    if (!isCount(rawLength, 1) || rawLength > MAX_CHUNK_LENGTH)
      bad(`chunk ${i} has raw length ${JSON.stringify(rawLength)} (at most ${MAX_CHUNK_LENGTH})`);
    if (encoding !== "gzip" && encoding !== "none" && encoding !== "delta")
      bad(`chunk ${i} has encoding ${JSON.stringify(encoding)}`);
    if (encoding === "none" && (size !== rawLength || hex !== raw))
      bad(`chunk ${i} is stored raw but its blob and raw bytes differ`);
    if ((encoding === "delta") !== (entry.length === 6))
      bad(
        `chunk ${i} is ${encoding === "delta" ? "a delta without a base" : `stored ${encoding} but names a base`}`,
      );
    const chunk = {
      digest: `sha256:${hex}` as Digest,
      size,
      rawSha256: raw,
      rawLength,
      encoding: encoding as ChunkEncoding,
    };
    return encoding === "delta" ? { ...chunk, base: baseSpans(base, i, rawLength) } : chunk;
  });
  // Depth 1: a delta's base chunks are stored whole (which also rules out cycles).
  for (const [i, chunk] of chunks.entries())
    for (const span of chunk.base ?? []) {
      if (span.chunk < 0) continue;
      if (span.chunk >= chunks.length)
        bad(`delta chunk ${i} names base chunk ${span.chunk}, not a chunk of the table (or -1 for zeros)`);
      const base = chunks[span.chunk]!;
      if (base.encoding === "delta")
        bad(
          span.chunk === i
            ? `delta chunk ${i} names itself as its base`
            : `delta chunk ${i} names delta chunk ${span.chunk} as its base: a base must be stored whole`,
        );
      if (span.offset + span.length > base.rawLength)
        bad(
          `delta chunk ${i} takes bytes [${span.offset}, ${span.offset + span.length}) of chunk ${span.chunk}, which holds ${base.rawLength}`,
        );
    }
  let next = 0;
  let previous = 0;
  const extents: IndexExtent[] = doc.extents.map((entry: unknown, i: number): IndexExtent => {
    if (!Array.isArray(entry) || entry.length !== 3) bad(`extent ${i} is not [offset, length, chunk]`);
    const [offset, length, chunk] = entry as unknown[];
    if (!isCount(offset) || !isCount(length, 1))
      bad(`extent ${i} has offset ${JSON.stringify(offset)} and length ${JSON.stringify(length)}`);
    if (offset < previous)
      bad(`extent ${i} at ${offset} is out of order: the extent before it starts at ${previous}`);
    if (offset < next) bad(`extent ${i} at ${offset} overlaps the extent before it, which ends at ${next}`);
    if (offset > next)
      bad(`extent ${i} starts at ${offset}, leaving a gap after ${next}: extents must tile the disk`);
    if (!(typeof chunk === "number" && Number.isInteger(chunk) && chunk >= -1 && chunk < chunks.length))
      bad(`extent ${i} names chunk ${JSON.stringify(chunk)}, not a chunk of the table (or -1 for a hole)`);
    if (chunk >= 0 && chunks[chunk]!.rawLength !== length)
      bad(`extent ${i} is ${length} bytes long but its chunk ${chunk} holds ${chunks[chunk]!.rawLength}`);
    previous = offset;
    next = offset + length;
    return { offset, length, chunk };
  });
  if (next !== doc.size) bad(`the extents add up to ${next} bytes, not the disk's ${doc.size}`);
  return { size: doc.size, digest: doc.digest as Digest, chunking: sizes, chunks, extents };
}

/** A delta's base spans (checked against the table by decodeIndex once it is read whole). */
function baseSpans(value: unknown, i: number, rawLength: number): BaseSpan[] {
  if (!Array.isArray(value) || value.length === 0) bad(`delta chunk ${i} has no list of base spans`);
  let total = 0;
  const spans = value.map((span: unknown, j: number): BaseSpan => {
    if (!Array.isArray(span) || span.length !== 3)
      bad(`base span ${j} of chunk ${i} is not [chunk, offset, length]`);
    const [chunk, offset, length] = span as unknown[];
    if (!(typeof chunk === "number" && Number.isInteger(chunk) && chunk >= -1))
      bad(`base span ${j} of chunk ${i} names chunk ${JSON.stringify(chunk)}`);
    if (!isCount(offset) || !isCount(length, 1))
      bad(
        `base span ${j} of chunk ${i} has offset ${JSON.stringify(offset)} and length ${JSON.stringify(length)}`,
      );
    if (chunk === -1 && offset !== 0)
      bad(`base span ${j} of chunk ${i} takes zeros from offset ${offset}, not 0`);
    total += length;
    return { chunk, offset, length };
  });
  if (total !== rawLength)
    bad(`the base spans of delta chunk ${i} add up to ${total} bytes, not its raw length ${rawLength}`);
  return spans;
}

/** The chunk table in parts: runs of chunks (in table order) cut where the raw digest says. */
export function groupParts(chunks: readonly ChunkEntry[]): ChunkEntry[][] {
  const parts: ChunkEntry[][] = [];
  let current: ChunkEntry[] = [];
  for (const chunk of chunks) {
    current.push(chunk);
    if (current.length >= PART_MAX || Number.parseInt(chunk.rawSha256.slice(0, 8), 16) % PART_AVG === 0) {
      parts.push(current);
      current = [];
    }
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** The empty config every manifest of the format names (image-spec's empty descriptor). */
export const EMPTY_CONFIG = Buffer.from("{}");
export const EMPTY_DESCRIPTOR: Descriptor = {
  mediaType: MediaType.Empty,
  digest: digestOf(EMPTY_CONFIG),
  size: EMPTY_CONFIG.length,
};

export interface BuiltManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface ChunkedArtifact {
  /** The image index: the artifact. */
  readonly top: BuiltManifest;
  /** The manifest holding the index blob, then the parts, in the index's order. */
  readonly children: readonly BuiltManifest[];
  /** The index blob. */
  readonly indexBlob: { readonly digest: Digest; readonly size: number; readonly bytes: Buffer };
}

function manifestOf(artifactType: string, layers: Descriptor[]): BuiltManifest {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType,
      config: EMPTY_DESCRIPTOR,
      layers,
    }),
  );
  return { digest: digestOf(bytes), mediaType: MediaType.ImageManifest, bytes };
}

export const chunkDescriptor = (chunk: ChunkEntry): Descriptor => ({
  mediaType: chunkMediaType(chunk.encoding),
  digest: chunk.digest,
  size: chunk.size,
});

/**
 * The manifests of a chunked disk: the index manifest, the parts, and the image index over them
 * with the artifact's annotations and subject.
 */
export function buildChunkedArtifact(
  index: DiskIndex,
  annotations: Readonly<Record<string, string>>,
  subject?: Descriptor,
): ChunkedArtifact {
  const indexBytes = encodeIndex(index);
  const indexBlob = { digest: digestOf(indexBytes), size: indexBytes.length, bytes: indexBytes };
  const head = manifestOf(MediaType.DiskChunkIndexManifest, [
    { mediaType: MediaType.DiskChunkIndex, digest: indexBlob.digest, size: indexBlob.size },
  ]);
  const parts = groupParts(index.chunks).map((part) =>
    manifestOf(MediaType.DiskChunkPart, part.map(chunkDescriptor)),
  );
  const children = [head, ...parts];
  const top = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageIndex,
      artifactType: MediaType.DiskChunked,
      manifests: children.map((child, i) => ({
        mediaType: child.mediaType,
        digest: child.digest,
        size: child.bytes.length,
        artifactType: i === 0 ? MediaType.DiskChunkIndexManifest : MediaType.DiskChunkPart,
      })),
      ...(subject === undefined
        ? {}
        : { subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size } }),
      // Keys sorted, as Go's encoding/json writes a map: a copier that decodes the index into its
      // own structure and encodes it again (skopeo copy --all does) then writes the same bytes,
      // when it knows every field (fields in the order of image-spec's Go types).
      annotations: Object.fromEntries(
        Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ),
    }),
  );
  return { top: { digest: digestOf(top), mediaType: MediaType.ImageIndex, bytes: top }, children, indexBlob };
}

export interface ChunkedLayout {
  /** The manifest holding the index blob. */
  readonly indexManifest: Descriptor;
  readonly parts: readonly Descriptor[];
}

/**
 * The children of a chunked disk's image index, checked; throws DiskError("BAD_DISK"). A child
 * without an artifactType is taken (skopeo before 1.16 drops the field when it copies an index,
 * containers/image#2460); the manifests themselves are checked when they are fetched
 * (`indexBlobOf`, and a part's own artifactType).
 */
export function chunkedLayout(index: ImageIndex, name: string): ChunkedLayout {
  const [head, ...parts] = index.manifests;
  const is = (child: Descriptor, artifactType: string): boolean =>
    child.mediaType === MediaType.ImageManifest &&
    (child.artifactType === undefined || child.artifactType === artifactType);
  if (head === undefined || !is(head, MediaType.DiskChunkIndexManifest))
    throw new DiskError(
      "BAD_DISK",
      `${name}: its first manifest is not the chunk index (${MediaType.DiskChunkIndexManifest})`,
    );
  for (const part of parts)
    if (!is(part, MediaType.DiskChunkPart))
      throw new DiskError(
        "BAD_DISK",
        `${name}: manifest ${part.digest} is not a part (${MediaType.DiskChunkPart})`,
      );
  return { indexManifest: head, parts };
}

/** The index blob's descriptor in the index manifest's bytes. */
export function indexBlobOf(bytes: Buffer, name: string): Descriptor {
  let manifest;
  try {
    manifest = parseManifest(bytes);
  } catch (error) {
    throw new DiskError("BAD_DISK", `${name}: its index manifest is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const layer =
    manifest.kind === "manifest" &&
    manifest.artifactType === MediaType.DiskChunkIndexManifest &&
    manifest.layers.length === 1
      ? manifest.layers[0]
      : undefined;
  if (layer?.mediaType !== MediaType.DiskChunkIndex)
    throw new DiskError(
      "BAD_DISK",
      `${name}: the index manifest is not a ${MediaType.DiskChunkIndexManifest} holding one ${MediaType.DiskChunkIndex} layer`,
    );
  return layer;
}

/**
 * Checks that every chunk the index names is a layer of one of the parts, with the same size and
 * encoding: a chunk only the index names would not be kept or copied by a registry.
 */
export function checkPartsCover(index: DiskIndex, partLayers: readonly (readonly Descriptor[])[]): void {
  const listed = new Map<string, Descriptor>();
  for (const layers of partLayers) for (const layer of layers) listed.set(layer.digest, layer);
  for (const chunk of index.chunks) {
    const layer = listed.get(chunk.digest);
    if (layer === undefined)
      throw new DiskError(
        "BAD_DISK",
        `Invalid disk index: chunk ${chunk.digest} is in no part manifest of the artifact`,
      );
    if (layer.size !== chunk.size || chunkEncodingOf(layer.mediaType) !== chunk.encoding)
      throw new DiskError(
        "BAD_DISK",
        `Invalid disk index: chunk ${chunk.digest} is ${chunk.size} bytes (${chunk.encoding}) in the index but ${layer.size} bytes (${layer.mediaType}) in its part`,
      );
  }
}
