// A chunk stored as a delta (docs/disk-format.md, "Delta chunks"): the ranges where its raw bytes
// differ from its base — the previous version's bytes at the same disk offsets, named in the index
// as spans of other chunks — with their new bytes, gzip-compressed. ext4 rewrites a changed file
// in place, so a chunk around a small changed file differs from the old bytes only where the file
// is, and its delta costs about the file's bytes instead of the whole chunk's.
//
// The blob, once decompressed (all numbers unsigned 32-bit big-endian):
//
//   "SDD1"                      magic
//   raw sha256 (32 bytes)       the chunk the patch makes: two chunks never share a delta blob
//   raw length
//   range count N
//   N × (offset, length)        in order, not overlapping, inside the chunk
//   the new bytes of the ranges, concatenated
//
// After the header of 44 bytes, a patch is at most twice as long as its chunk, plus 8 bytes.
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import { DiskError } from "../errors.ts";
import { CHUNK_GZIP_LEVEL, sha256Hex } from "./compress.ts";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const MAGIC = Buffer.from("SDD1");
const HEAD = MAGIC.length + 32 + 8;
/** Differences are found in blocks of this many bytes… */
const BLOCK = 16;
/** …and two ranges closer than this are sent as one (a range costs 8 bytes of header). */
const MERGE_GAP = 64;
/**
 * A patch's ranges and bytes (after its fixed header) are at most this many times its chunk's
 * length, plus 8: what encodeDelta writes is at most 1.5 times (ranges of 16 bytes at least, but
 * the last), and a reader never inflates a hostile patch further.
 */
const MAX_PATCH = 2;

export interface DeltaRange {
  readonly offset: number;
  readonly length: number;
}

/** The ranges where `raw` differs from `base` (same length), at BLOCK granularity, merged. */
export function diffRanges(raw: Buffer, base: Buffer): DeltaRange[] {
  if (raw.length !== base.length) throw new RangeError("a delta's base must be as long as its chunk");
  const ranges: { offset: number; length: number }[] = [];
  for (let at = 0; at < raw.length; at += BLOCK) {
    const end = Math.min(at + BLOCK, raw.length);
    if (raw.compare(base, at, end, at, end) === 0) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && at - (last.offset + last.length) < MERGE_GAP) last.length = end - last.offset;
    else ranges.push({ offset: at, length: end - at });
  }
  return ranges;
}

/** The delta blob that makes `raw` (sha256 `rawSha256`) from `base`. */
export async function encodeDelta(raw: Buffer, base: Buffer, rawSha256: string): Promise<Buffer> {
  const ranges = diffRanges(raw, base);
  const head = Buffer.alloc(HEAD + 8 * ranges.length);
  MAGIC.copy(head, 0);
  Buffer.from(rawSha256, "hex").copy(head, MAGIC.length);
  head.writeUInt32BE(raw.length, MAGIC.length + 32);
  head.writeUInt32BE(ranges.length, MAGIC.length + 36);
  ranges.forEach((r, i) => {
    head.writeUInt32BE(r.offset, HEAD + 8 * i);
    head.writeUInt32BE(r.length, HEAD + 8 * i + 4);
  });
  const body = Buffer.concat([head, ...ranges.map((r) => raw.subarray(r.offset, r.offset + r.length))]);
  return gzipAsync(body, { level: CHUNK_GZIP_LEVEL });
}

/**
 * Applies the delta blob `stored` to `base` (the chunk's base bytes, its raw length long; patched
 * in place and returned), checking the patch's structure and the result against the raw length
 * and digest the index gives; `name` says which chunk in the error.
 */
export async function applyDelta(
  stored: Buffer,
  base: Buffer,
  raw: { readonly length: number; readonly sha256: string },
  name: string,
): Promise<Buffer> {
  const bad = (why: string): never => {
    throw new DiskError("BAD_DISK", `Delta chunk ${name} is invalid: ${why}`);
  };
  let body: Buffer;
  try {
    body = await gunzipAsync(stored, { maxOutputLength: HEAD + 8 + MAX_PATCH * raw.length });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE")
      bad(`it decompresses to more than ${MAX_PATCH} times the chunk's ${raw.length} bytes`);
    return bad(`it does not decompress (${(error as Error).message})`);
  }
  if (body.length < HEAD || !body.subarray(0, MAGIC.length).equals(MAGIC)) bad("it is not a strata delta");
  const target = body.subarray(MAGIC.length, MAGIC.length + 32).toString("hex");
  const length = body.readUInt32BE(MAGIC.length + 32);
  const count = body.readUInt32BE(MAGIC.length + 36);
  if (target !== raw.sha256) bad(`it makes chunk sha256:${target}, not sha256:${raw.sha256}`);
  if (length !== raw.length || base.length !== raw.length)
    bad(`it makes ${length} bytes where the index says ${raw.length}`);
  if (count > raw.length || HEAD + 8 * count > body.length)
    bad(`its ${count} ranges do not fit in the patch`);
  let data = HEAD + 8 * count;
  let end = 0;
  for (let i = 0; i < count; i++) {
    const offset = body.readUInt32BE(HEAD + 8 * i);
    const n = body.readUInt32BE(HEAD + 8 * i + 4);
    if (n === 0 || offset < end || offset + n > length)
      bad(
        `range ${i} [${offset}, ${offset + n}) is empty, out of order or outside the chunk's ${length} bytes`,
      );
    if (data + n > body.length) bad(`range ${i} has fewer new bytes than its length`);
    body.copy(base, offset, data, data + n);
    data += n;
    end = offset + n;
  }
  if (data !== body.length) bad(`${body.length - data} bytes follow its last range`);
  if (sha256Hex(base) !== raw.sha256)
    throw new DiskError(
      "BAD_DISK",
      `Chunk ${name} does not match the raw digest the index gives (sha256:${raw.sha256}) once its delta is applied`,
    );
  return base;
}
