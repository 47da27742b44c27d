// Content-defined cut points (FastCDC with normalized chunking): a gear hash rolls over the bytes
// and a chunk ends where the hash's top bits are zero — a harder mask before the average size and
// an easier one after it, so sizes cluster around the average — never before the minimum and
// never after the maximum. The cut depends only on the last 32 bytes, so an insertion or deletion
// moves the cut points next to it and none further away: the chunks after it are the same bytes
// and deduplicate. The gear table is derived from sha256 (docs/disk-format.md), so every
// implementation of the format finds the same cut points.
import { createHash } from "node:crypto";

export interface ChunkSizes {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

/** The sizes Strata cuts disks into (docs/disk-format.md says why). */
export const DEFAULT_CHUNK_SIZES: ChunkSizes = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };

/** gear[i] = the first four bytes (big-endian) of sha256("strata-gear-v1" ‖ byte i). */
export const GEAR: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    table[i] = createHash("sha256")
      .update(Buffer.concat([Buffer.from("strata-gear-v1"), Buffer.from([i])]))
      .digest()
      .readUInt32BE(0);
  }
  return table;
})();

/** A mask of the top `bits` bits of a 32-bit hash, as a signed 32-bit integer. */
function topBits(bits: number): number {
  return (0xffffffff << (32 - bits)) | 0;
}

export interface CutMasks {
  /** Before the average size: log2(avg) + 2 bits. */
  readonly small: number;
  /** From the average size on: log2(avg) - 2 bits. */
  readonly large: number;
}

export function checkSizes(sizes: ChunkSizes): CutMasks {
  const { min, avg, max } = sizes;
  const bits = Math.log2(avg);
  if (!Number.isInteger(bits) || bits < 8 || bits > 28)
    throw new RangeError(`chunk average ${avg} is not a power of two between 256 B and 256 MiB`);
  if (!(Number.isSafeInteger(min) && min >= 64 && min < avg && avg < max && Number.isSafeInteger(max)))
    throw new RangeError(`chunk sizes must satisfy 64 <= min < avg < max (got ${min}, ${avg}, ${max})`);
  return { small: topBits(bits + 2), large: topBits(bits - 2) };
}

/**
 * Where the chunk starting at `start` ends (exclusive) within `data[start, end)`. When fewer than
 * `max` bytes remain and no cut is found, the chunk runs to `end`: callers with more data to come
 * must hold at least `max` bytes before asking.
 */
export function cutPoint(
  data: Uint8Array,
  start: number,
  end: number,
  sizes: ChunkSizes,
  masks: CutMasks,
): number {
  const length = end - start;
  if (length <= sizes.min) return end;
  const limit = length > sizes.max ? start + sizes.max : end;
  const normal = Math.min(start + sizes.avg, limit);
  const gear = GEAR;
  const small = masks.small;
  const large = masks.large;
  let hash = 0;
  let i = start + sizes.min;
  for (; i < normal; i++) {
    hash = ((hash << 1) + gear[data[i]!]!) | 0;
    if ((hash & small) === 0) return i + 1;
  }
  for (; i < limit; i++) {
    hash = ((hash << 1) + gear[data[i]!]!) | 0;
    if ((hash & large) === 0) return i + 1;
  }
  return limit;
}
