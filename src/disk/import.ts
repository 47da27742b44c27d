// Import checks for an existing disk file: what format it really is (from its bytes, never its
// name), whether it is safe to hand to qemu-img convert and how large it is. Every file that names
// another file (backing files, extents, data files, parents) or whose header disagrees with
// itself is refused before any conversion; then qemu-img, told the format, must agree.
import { resolve } from "node:path";
import { DiskError } from "./errors.ts";
import { checkQcow2 } from "./import-qcow2.ts";
import { crossCheck } from "./import-qemu.ts";
import { badDisk, checkVirtualSize, openDiskBytes, type InspectContext } from "./import-reader.ts";
import { sniffFormat, type SniffedFormat } from "./import-sniff.ts";
import { checkVdi } from "./import-vdi.ts";
import { checkVhd } from "./import-vhd.ts";
import { checkVmdk } from "./import-vmdk.ts";

export interface DiskLimits {
  /** The largest virtual size accepted, in bytes. */
  readonly maxVirtualSize: number;
}

export const DEFAULT_DISK_LIMITS: DiskLimits = { maxVirtualSize: 2 * 1024 ** 4 };

export interface DiskFileInfo {
  readonly format: SniffedFormat;
  /** The size of the disk the guest sees, in bytes. */
  readonly virtualSize: number;
  /** The file's length in bytes (what a copy or upload moves), not its allocated blocks. */
  readonly actualSize: number;
}

const HEADER_CHECKS: Readonly<Record<SniffedFormat, (ctx: InspectContext) => Promise<number>>> = {
  raw: async (ctx) => checkVirtualSize(ctx, BigInt(ctx.bytes.size), "raw"),
  qcow2: checkQcow2,
  vhd: checkVhd,
  vmdk: checkVmdk,
  vdi: checkVdi,
};

/**
 * Finds a disk file's format and sizes, or throws a DiskError: BAD_DISK (truncated, inconsistent,
 * not a disk), HOSTILE_DISK (it names other files), TOO_LARGE (over `limits.maxVirtualSize`),
 * TOOL_FAILED (qemu-img missing or timed out) or USAGE (no such regular file, a bad limit).
 */
export async function inspectDiskFile(path: string, limits: Partial<DiskLimits> = {}): Promise<DiskFileInfo> {
  const maxVirtualSize = limits.maxVirtualSize ?? DEFAULT_DISK_LIMITS.maxVirtualSize;
  if (!Number.isSafeInteger(maxVirtualSize) || maxVirtualSize <= 0) {
    throw new DiskError(
      "USAGE",
      `Invalid disk limit: maxVirtualSize ${maxVirtualSize} is not a positive integer`,
    );
  }
  const absolute = resolve(path);
  const bytes = await openDiskBytes(absolute);
  const ctx: InspectContext = { path, bytes, maxVirtualSize };
  let info: DiskFileInfo;
  try {
    info = await inspectHeader(ctx);
  } finally {
    await bytes.close();
  }
  await crossCheck(absolute, info.format, info.virtualSize);
  return info;
}

async function inspectHeader(ctx: InspectContext): Promise<DiskFileInfo> {
  if (ctx.bytes.size === 0) throw badDisk(ctx, "the file is empty");
  const sniffed = await sniffFormat(ctx.bytes);
  if (sniffed.kind === "iso") {
    throw badDisk(
      ctx,
      "an ISO image is not a disk: an ISO is a live or installer medium; install from it onto a disk " +
        "and import that disk",
    );
  }
  if (sniffed.kind === "unsupported") throw badDisk(ctx, `it is ${sniffed.what}`);
  const virtualSize = await HEADER_CHECKS[sniffed.format](ctx);
  return { format: sniffed.format, virtualSize, actualSize: ctx.bytes.size };
}
