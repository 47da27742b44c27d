// VDI (VirtualBox) header checks: the fields qemu's vdi driver relies on must agree with each
// other and with the file's length, and a differencing image (one with a parent) is refused.
// Fields are little-endian; offsets as in qemu's block/vdi.c.
import {
  badDisk,
  checkVirtualSize,
  hostileDisk,
  isZero,
  readExactly,
  type InspectContext,
} from "./import-reader.ts";

const HEADER = 512;
const PRE_HEADER = 0x48; // text, signature and version; header_size counts the bytes after them
const MIN_HEADER_SIZE = 0x180; // up to and including the parent UUID
const VERSION_1_1 = 0x00010001;
const SECTOR = 512;
const BLOCK_SIZE = 1024 * 1024; // the only block size qemu and VirtualBox write
const TYPE_DYNAMIC = 1;
const TYPE_STATIC = 2;
const TYPE_DIFF = 4;

/** Checks a VDI file's header and returns its virtual size. */
export async function checkVdi(ctx: InspectContext): Promise<number> {
  const h = await readExactly(ctx, 0, HEADER, "VDI header");
  checkLayout(ctx, h);
  refuseParent(ctx, h);
  const size = checkVirtualSize(ctx, h.readBigUInt64LE(0x170), "VDI");
  checkBlocks(ctx, h, size);
  return size;
}

function checkLayout(ctx: InspectContext, h: Buffer): void {
  const version = h.readUInt32LE(0x44);
  if (version !== VERSION_1_1) throw badDisk(ctx, `VDI version 0x${version.toString(16)} is not 1.1`);
  const headerSize = h.readUInt32LE(0x48);
  const bmap = h.readUInt32LE(0x154);
  if (headerSize < MIN_HEADER_SIZE || PRE_HEADER + headerSize > bmap) {
    throw badDisk(ctx, `VDI header size ${headerSize} is inconsistent with the block map offset ${bmap}`);
  }
  const data = h.readUInt32LE(0x158);
  if (bmap % SECTOR !== 0 || data % SECTOR !== 0) {
    throw badDisk(ctx, `VDI block map offset ${bmap} or data offset ${data} is not sector-aligned`);
  }
  const sectorSize = h.readUInt32LE(0x168);
  if (sectorSize !== SECTOR) throw badDisk(ctx, `VDI sector size ${sectorSize} is not ${SECTOR}`);
}

function refuseParent(ctx: InspectContext, h: Buffer): void {
  const type = h.readUInt32LE(0x4c);
  const link = h.subarray(0x1a8, 0x1b8);
  const parent = isZero(link) ? h.subarray(0x1b8, 0x1c8) : link;
  if (type === TYPE_DIFF || !isZero(parent)) {
    throw hostileDisk(
      ctx,
      `it is a differencing VDI with parent ${uuid(parent)}: import a self-contained disk`,
    );
  }
  if (type !== TYPE_DYNAMIC && type !== TYPE_STATIC)
    throw badDisk(ctx, `VDI image type ${type} is not supported`);
}

/** Block size, block count, block map and allocated blocks against the disk size and file length. */
function checkBlocks(ctx: InspectContext, h: Buffer, size: number): void {
  const blockSize = h.readUInt32LE(0x178);
  const extra = h.readUInt32LE(0x17c);
  if (blockSize !== BLOCK_SIZE || extra !== 0) {
    throw badDisk(ctx, `VDI block size ${blockSize} (extra ${extra}) is not ${BLOCK_SIZE} (extra 0)`);
  }
  const blocks = h.readUInt32LE(0x180);
  if (size > blocks * blockSize) {
    throw badDisk(ctx, `VDI disk size ${size} bytes does not fit its ${blocks} blocks of ${blockSize} bytes`);
  }
  const bmap = h.readUInt32LE(0x154);
  const data = h.readUInt32LE(0x158);
  if (bmap + blocks * 4 > data)
    throw badDisk(ctx, `VDI block map of ${blocks} blocks overlaps the data at ${data}`);
  const allocated = h.readUInt32LE(0x184);
  const needed = data + allocated * blockSize;
  if (allocated > blocks || needed > ctx.bytes.size) {
    throw badDisk(
      ctx,
      `VDI says ${allocated} of ${blocks} blocks are allocated, which needs ${needed} bytes, ` +
        `the file has ${ctx.bytes.size}: it is truncated or corrupt`,
    );
  }
}

/** VirtualBox UUIDs are stored in the mixed-endian layout of Windows GUIDs. */
function uuid(b: Buffer): string {
  const hex = (buf: Buffer) => buf.toString("hex");
  const le = (start: number, end: number) => hex(Buffer.from(b.subarray(start, end)).reverse());
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(b.subarray(8, 10))}-${hex(b.subarray(10, 16))}`;
}
