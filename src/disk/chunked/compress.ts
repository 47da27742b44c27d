// A chunk as it is stored: gzip (level 6, Node's zlib) when that saves at least a tenth of its
// bytes, else its raw bytes — kernel modules, compressed archives and the like gain nothing from a
// second compression and would only cost time on every pull. The same raw bytes always give the
// same stored bytes with the same zlib, which is what lets a pushed chunk be found again by its
// digest; a client that compresses differently still deduplicates through the raw digest the
// index records beside each blob's.
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import { MediaType } from "../../oci/index.ts";
import { DiskError } from "../errors.ts";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const CHUNK_GZIP_LEVEL = 6;
/** Compressed bytes must be at most this share of the raw ones to be stored compressed. */
const PAYS = 0.9;

/** How a chunk is stored on its own. */
export type PlainEncoding = "gzip" | "none";
/** …or as a delta against other chunks (delta.ts). */
export type ChunkEncoding = PlainEncoding | "delta";

export interface StoredChunk {
  readonly bytes: Buffer;
  /** sha256 of `bytes`, hex. */
  readonly digest: string;
  readonly encoding: PlainEncoding;
}

export function chunkMediaType(encoding: ChunkEncoding): string {
  if (encoding === "delta") return MediaType.DiskChunkDelta;
  return encoding === "gzip" ? MediaType.DiskChunkGzip : MediaType.DiskChunk;
}

export function chunkEncodingOf(mediaType: string): ChunkEncoding | undefined {
  if (mediaType === MediaType.DiskChunkGzip) return "gzip";
  if (mediaType === MediaType.DiskChunk) return "none";
  if (mediaType === MediaType.DiskChunkDelta) return "delta";
  return undefined;
}

export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** The stored form of a chunk's raw bytes. */
export async function encodeChunk(raw: Buffer): Promise<StoredChunk> {
  const packed = await gzipAsync(raw, { level: CHUNK_GZIP_LEVEL });
  if (packed.length <= raw.length * PAYS)
    return { bytes: packed, digest: sha256Hex(packed), encoding: "gzip" };
  return { bytes: raw, digest: sha256Hex(raw), encoding: "none" };
}

/**
 * A chunk's raw bytes from its stored form, checked against the raw length and digest the index
 * gives; `name` says which chunk in the error.
 */
export async function decodeChunk(
  stored: Buffer,
  encoding: PlainEncoding,
  raw: { readonly length: number; readonly sha256: string },
  name: string,
): Promise<Buffer> {
  let bytes: Buffer;
  if (encoding === "none") {
    bytes = stored;
  } else {
    try {
      bytes = await gunzipAsync(stored, { maxOutputLength: raw.length + 1 });
    } catch (error) {
      throw new DiskError("BAD_DISK", `Chunk ${name} does not decompress: ${(error as Error).message}`);
    }
  }
  if (bytes.length !== raw.length)
    throw new DiskError(
      "BAD_DISK",
      `Chunk ${name} holds ${bytes.length} bytes where the index says ${raw.length}`,
    );
  if (sha256Hex(bytes) !== raw.sha256)
    throw new DiskError(
      "BAD_DISK",
      `Chunk ${name} does not match the raw digest the index gives (sha256:${raw.sha256})`,
    );
  return bytes;
}
