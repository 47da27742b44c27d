// The file under inspection as bounded random reads, and the failures every format check shares.
// The checks read headers and compare offsets with the file's length; they never read a disk's
// data, so a hostile header costs a few small reads however large it claims to be.
import { open, type FileHandle } from "node:fs/promises";
import { DiskError } from "./errors.ts";

export interface DiskBytes {
  /** The file's length in bytes, taken once when it was opened. */
  readonly size: number;
  /** Up to `length` bytes at `offset`: fewer at the end of the file, none past it. */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** What every header check works with: the path for messages, the bytes and the size limit. */
export interface InspectContext {
  readonly path: string;
  readonly bytes: DiskBytes;
  readonly maxVirtualSize: number;
}

/** Opens a regular, non-empty file; devices and FIFOs are refused before any read. */
export async function openDiskBytes(path: string): Promise<DiskBytes> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (cause) {
    throw new DiskError("USAGE", `Cannot import disk "${path}": ${(cause as Error).message}`);
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new DiskError("USAGE", `Cannot import disk "${path}": not a regular file`);
  }
  return {
    size: stat.size,
    async read(offset, length) {
      const wanted = Math.max(0, Math.min(length, stat.size - offset));
      const buffer = Buffer.alloc(wanted);
      if (wanted === 0) return buffer;
      const { bytesRead } = await handle.read(buffer, 0, wanted, offset);
      return buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

export function badDisk(ctx: InspectContext, detail: string): DiskError {
  return new DiskError("BAD_DISK", `Cannot import disk "${ctx.path}": ${detail}`);
}

export function hostileDisk(ctx: InspectContext, detail: string): DiskError {
  return new DiskError("HOSTILE_DISK", `Cannot import disk "${ctx.path}": ${detail}`);
}

/** Reads exactly `length` bytes at `offset`, or refuses the file as truncated. */
export async function readExactly(
  ctx: InspectContext,
  offset: number,
  length: number,
  what: string,
): Promise<Buffer> {
  const buffer = await ctx.bytes.read(offset, length);
  if (buffer.length < length) {
    throw badDisk(
      ctx,
      `${what} is truncated: it needs bytes ${offset}..${offset + length}, the file has ${ctx.bytes.size} bytes`,
    );
  }
  return buffer;
}

/** A 64-bit header field as a number; past 2^53 no real disk field can be, so the file is bad. */
export function safeNumber(ctx: InspectContext, value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw badDisk(ctx, `${what} ${value} is out of range`);
  return Number(value);
}

/** The virtual size as a number once it is known to be positive and within the limit. */
export function checkVirtualSize(ctx: InspectContext, size: bigint, format: string): number {
  if (size <= 0n) throw badDisk(ctx, `${format} header gives a virtual size of ${size} bytes`);
  if (size > BigInt(ctx.maxVirtualSize)) {
    throw new DiskError(
      "TOO_LARGE",
      `Cannot import disk "${ctx.path}": virtual size ${formatBytes(size)} (${size} bytes) is over the limit of ` +
        `${formatBytes(BigInt(ctx.maxVirtualSize))} (${ctx.maxVirtualSize} bytes)`,
    );
  }
  return Number(size);
}

const UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const;

/** "3 GiB", "1.5 TiB": the largest binary unit, at most two decimals. */
export function formatBytes(size: bigint): string {
  let value = Number(size);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(2))} ${UNITS[unit]}`;
}

/** True when every byte is zero (an unset UUID, an unused field). */
export const isZero = (bytes: Uint8Array) => bytes.every((b) => b === 0);
