// VHD (qemu's "vpc") checks. The 512-byte footer is at the end of every VHD and copied to offset 0
// of a dynamic one; its checksum must hold, and a differencing disk (type 4), which names its
// parent, is refused. Fields are big-endian.
import {
  badDisk,
  checkVirtualSize,
  hostileDisk,
  readExactly,
  safeNumber,
  type InspectContext,
} from "./import-reader.ts";

const FOOTER = 512;
const DYNAMIC_HEADER = 1024;
const TYPE_FIXED = 2;
const TYPE_DYNAMIC = 3;
const TYPE_DIFFERENCING = 4;
const NO_DATA_OFFSET = 0xffffffffffffffffn;
const MAX_GEOMETRY_SECTORS = 65535 * 16 * 255;
const MAX_SECTORS = 0xff000000; // qemu refuses VHDs over 2040 GiB
// Creators whose size is the footer's current_size; qemu derives the others' size from CHS.
const CURRENT_SIZE_CREATORS = ["win ", "qem2", "d2v ", "CTXS", "tap\0"];

/** Checks a VHD file's footer (and dynamic header) and returns its virtual size as qemu sees it. */
export async function checkVhd(ctx: InspectContext): Promise<number> {
  const footer = await readFooter(ctx);
  const type = footer.readUInt32BE(60);
  if (type === TYPE_DIFFERENCING) throw await refuseDifferencing(ctx, footer);
  if (type !== TYPE_FIXED && type !== TYPE_DYNAMIC)
    throw badDisk(ctx, `VHD disk type ${type} is not supported`);
  const size = checkVirtualSize(ctx, BigInt(virtualSectors(footer)) * 512n, "VHD");
  if (virtualSectors(footer) > MAX_SECTORS) throw badDisk(ctx, "VHD is larger than the format's 2040 GiB");
  if (type === TYPE_FIXED) checkFixed(ctx, footer, size);
  else await checkDynamic(ctx, footer, size);
  return size;
}

/** The copy at offset 0 when there is one (qemu reads that first), else the last 512 bytes. */
async function readFooter(ctx: InspectContext): Promise<Buffer> {
  const head = await readExactly(ctx, 0, FOOTER, "VHD footer");
  const footer = head.subarray(0, 8).toString("latin1") === "conectix" ? head : await tail(ctx);
  const stored = footer.readUInt32BE(64);
  const computed = checksum(footer, 64);
  if (stored !== computed) {
    throw badDisk(
      ctx,
      `VHD footer checksum 0x${stored.toString(16)} does not match its contents (0x${computed.toString(16)}): ` +
        "the footer is corrupt",
    );
  }
  return footer;
}

const tail = (ctx: InspectContext) => readExactly(ctx, ctx.bytes.size - FOOTER, FOOTER, "VHD footer");

/** One's complement of the byte sum, the checksum field itself counted as zero. */
function checksum(bytes: Buffer, field: number): number {
  let sum = 0;
  for (const [i, b] of bytes.entries()) if (i < field || i >= field + 4) sum += b;
  return ~sum >>> 0;
}

function virtualSectors(footer: Buffer): number {
  const creator = footer.subarray(28, 32).toString("latin1");
  const chs = footer.readUInt16BE(56) * footer.readUInt8(58) * footer.readUInt8(59);
  const current = Number(footer.readBigUInt64BE(48) / 512n);
  return CURRENT_SIZE_CREATORS.includes(creator) || chs === MAX_GEOMETRY_SECTORS ? current : chs;
}

async function refuseDifferencing(ctx: InspectContext, footer: Buffer): Promise<Error> {
  const header = await dynamicHeader(ctx, footer).catch(() => undefined);
  const name = header?.subarray(64, 576).swap16().toString("utf16le").replace(/\0.*$/s, "");
  const parent = name === undefined || name === "" ? "a parent disk" : `parent "${name}"`;
  return hostileDisk(ctx, `it is a differencing VHD that reads from ${parent}: import a self-contained disk`);
}

async function dynamicHeader(ctx: InspectContext, footer: Buffer): Promise<Buffer> {
  const offset = footer.readBigUInt64BE(16);
  if (offset === NO_DATA_OFFSET) throw badDisk(ctx, "dynamic VHD has no dynamic header offset");
  const at = safeNumber(ctx, offset, "VHD dynamic header offset");
  const header = Buffer.from(await readExactly(ctx, at, DYNAMIC_HEADER, "VHD dynamic header"));
  if (header.subarray(0, 8).toString("latin1") !== "cxsparse") {
    throw badDisk(ctx, `VHD dynamic header at ${at} lacks its "cxsparse" cookie`);
  }
  if (header.readUInt32BE(36) !== checksum(header, 36))
    throw badDisk(ctx, "VHD dynamic header checksum is wrong");
  return header;
}

function checkFixed(ctx: InspectContext, footer: Buffer, size: number): void {
  if (footer.readBigUInt64BE(16) !== NO_DATA_OFFSET) {
    throw badDisk(ctx, "fixed VHD footer has a data offset, which only dynamic disks have");
  }
  if (ctx.bytes.size < size + FOOTER) {
    throw badDisk(ctx, `fixed VHD of ${size} bytes is truncated: the file has ${ctx.bytes.size} bytes`);
  }
}

/** The block allocation table must cover the virtual size and lie inside the file. */
async function checkDynamic(ctx: InspectContext, footer: Buffer, size: number): Promise<void> {
  const header = await dynamicHeader(ctx, footer);
  const blockSize = header.readUInt32BE(32);
  if (blockSize < 512 || (blockSize & (blockSize - 1)) !== 0) {
    throw badDisk(ctx, `VHD block size ${blockSize} is not a power of two of at least 512`);
  }
  const entries = header.readUInt32BE(28);
  if (entries * blockSize < size) {
    throw badDisk(ctx, `VHD block table of ${entries} blocks of ${blockSize} bytes is smaller than the disk`);
  }
  const bat = safeNumber(ctx, header.readBigUInt64BE(16), "VHD block table offset");
  if (bat + entries * 4 > ctx.bytes.size) {
    throw badDisk(ctx, `VHD block table (bytes ${bat}..${bat + entries * 4}) lies past the end of the file`);
  }
}
