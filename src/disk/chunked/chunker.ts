// Cuts a raw disk into extents: holes (runs of zero blocks at least `holeMin` long, recorded
// and never stored) and chunks (content-defined, fastcdc.ts) of the bytes between them. The file
// is read front to back in large reads and each chunk is hashed as it is cut, so memory stays at
// a few read buffers whatever the disk's size, and the whole disk's digest comes out of the same
// pass (holes hashed as the zeros they stand for), by default on a second core (whole-digest.ts).
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { checkSizes, cutPoint, DEFAULT_CHUNK_SIZES, type ChunkSizes } from "./fastcdc.ts";
import { wholeDigest, type WholeDigestMode } from "./whole-digest.ts";

/** Zero runs shorter than this stay inside chunks (where they compress to almost nothing). */
export const DEFAULT_HOLE_MIN = 64 * 1024;
/** Holes are found in whole blocks of this size, aligned to the disk's start. */
export const HOLE_BLOCK = 4096;
const READ_SIZE = 4 * 1024 * 1024;
const ZEROS = Buffer.alloc(READ_SIZE);

export interface Hole {
  readonly kind: "hole";
  readonly offset: number;
  readonly length: number;
}

export interface DataChunk {
  readonly kind: "chunk";
  readonly offset: number;
  readonly length: number;
  /** The chunk's bytes (owned by the receiver). */
  readonly bytes: Buffer;
  /** sha256 of the bytes, hex. */
  readonly sha256: string;
}

export type Extent = Hole | DataChunk;

export interface ChunkerOptions {
  readonly sizes?: ChunkSizes;
  readonly holeMin?: number;
  /** Bytes of the file to read (default its size). */
  readonly length?: number;
  /**
   * Where the whole disk's digest is computed: "worker" (default) hashes the read buffers on a
   * second core while this thread cuts and hashes the chunks; "inline" does both on one.
   */
  readonly wholeDigest?: WholeDigestMode;
}

function isZero(buffer: Buffer, start: number, end: number): boolean {
  return buffer.compare(ZEROS, 0, end - start, start, end) === 0;
}

/**
 * The extents of the file at `path`, in order; the generator's return value is the whole
 * disk's size and sha256 digest.
 */
export async function* chunkFile(
  path: string,
  options: ChunkerOptions = {},
): AsyncGenerator<Extent, { size: number; digest: string }> {
  const sizes = options.sizes ?? DEFAULT_CHUNK_SIZES;
  const masks = checkSizes(sizes);
  const holeMin = options.holeMin ?? DEFAULT_HOLE_MIN;
  if (!Number.isSafeInteger(holeMin) || holeMin < HOLE_BLOCK || holeMin % HOLE_BLOCK !== 0)
    throw new RangeError(`hole minimum must be a positive multiple of ${HOLE_BLOCK} (got ${holeMin})`);
  const handle = await open(path, "r");
  const whole = wholeDigest(options.wholeDigest ?? "worker", READ_SIZE);
  let next: Promise<{ buffer: Buffer; bytesRead: number }> | undefined;
  try {
    const size = options.length ?? (await handle.stat()).size;
    // Data waiting to be cut: pending[head, fill) holds the bytes from disk offset `pendingAt`.
    let pending = Buffer.allocUnsafe(sizes.max * 2 + READ_SIZE);
    let head = 0;
    let fill = 0;
    let pendingAt = 0;
    // A run of zero blocks not yet known to be a hole or data.
    let zeroAt = 0;
    let zeroRun = 0;
    const out: Extent[] = [];

    const emit = (length: number): void => {
      const bytes = Buffer.from(pending.subarray(head, head + length));
      out.push({
        kind: "chunk",
        offset: pendingAt,
        length,
        bytes,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
      head += length;
      pendingAt += length;
    };
    // Cuts chunks while a full maximum is held (or everything, at the end of a data run).
    const cut = (all: boolean): void => {
      while (fill - head >= sizes.max || (all && fill > head))
        emit(cutPoint(pending, head, fill, sizes, masks) - head);
      if (head === fill) head = fill = 0;
    };
    const append = (source: Buffer, start: number, end: number): void => {
      if (head > 0) {
        pending.copyWithin(0, head, fill);
        fill -= head;
        head = 0;
      }
      if (fill + (end - start) > pending.length) {
        const grown = Buffer.allocUnsafe(fill + (end - start) + sizes.max);
        pending.copy(grown, 0, 0, fill);
        pending = grown;
      }
      source.copy(pending, fill, start, end);
      fill += end - start;
    };
    const appendZeros = (length: number): void => {
      let left = length;
      while (left > 0) {
        const n = Math.min(left, READ_SIZE);
        append(ZEROS, 0, n);
        cut(false);
        left -= n;
      }
    };
    // Decides a zero run once the data after it (or the end) is reached.
    const settleZeros = (): void => {
      if (zeroRun === 0) return;
      if (zeroRun >= holeMin) {
        cut(true);
        out.push({ kind: "hole", offset: zeroAt, length: zeroRun });
        pendingAt = zeroAt + zeroRun;
      } else {
        appendZeros(zeroRun);
      }
      zeroRun = 0;
    };

    // One read ahead: the next buffer is read while this one is cut.
    const readAt = async (at: number): Promise<{ buffer: Buffer; bytesRead: number }> => {
      const buffer = await whole.buffer();
      const want = Math.min(READ_SIZE, size - at);
      const { bytesRead } = await handle.read(buffer, 0, want, at);
      if (bytesRead !== want) throw new Error(`short read at ${at}: the file is shorter than ${size} bytes`);
      return { buffer, bytesRead };
    };
    const ahead = (at: number) => {
      if (at >= size) return undefined;
      const read = readAt(at);
      read.catch(() => undefined); // awaited below; a failure is not left unhandled meanwhile
      return read;
    };
    next = ahead(0);
    let position = 0;
    while (position < size && next !== undefined) {
      const { buffer, bytesRead } = await next;
      next = ahead(position + bytesRead);
      // Runs of data blocks are appended in one copy.
      let dataStart = -1;
      for (let at = 0; at < bytesRead; at += HOLE_BLOCK) {
        const end = Math.min(at + HOLE_BLOCK, bytesRead);
        if (isZero(buffer, at, end)) {
          if (dataStart >= 0) {
            append(buffer, dataStart, at);
            cut(false);
            dataStart = -1;
          }
          if (zeroRun === 0) zeroAt = position + at;
          zeroRun += end - at;
        } else {
          if (zeroRun > 0) settleZeros();
          if (dataStart < 0) {
            dataStart = at;
          }
        }
      }
      if (dataStart >= 0) {
        append(buffer, dataStart, bytesRead);
        cut(false);
      }
      // Everything needed from the buffer is copied out: it goes to the whole-disk hash.
      whole.feed(buffer, bytesRead);
      position += bytesRead;
      yield* out;
      out.length = 0;
    }
    settleZeros();
    cut(true);
    yield* out;
    return { size, digest: await whole.digest() };
  } finally {
    await next?.catch(() => undefined);
    whole.close();
    await handle.close();
  }
}
