// qcow2 header checks (docs/interop/qcow2.txt in qemu): refuse overlays that name a backing file,
// images whose data lives in an external data file, encrypted images and headers whose fields
// disagree with each other or with the file's length. All fields are big-endian.
import {
  badDisk,
  checkVirtualSize,
  hostileDisk,
  readExactly,
  safeNumber,
  type InspectContext,
} from "./import-reader.ts";

const V2_HEADER_LENGTH = 72;
const V3_HEADER_LENGTH = 104;
const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;
const MAX_BACKING_NAME = 1023; // qemu refuses longer backing file names
const MAX_L1_BYTES = 32 * 1024 * 1024; // qemu's QCOW_MAX_L1_SIZE

const INCOMPAT_CORRUPT = 1n << 1n;
const INCOMPAT_DATA_FILE = 1n << 2n;
const INCOMPAT_EXTENDED_L2 = 1n << 4n;
const INCOMPAT_KNOWN = 0b11111n; // dirty, corrupt, data file, compression type, extended L2

const EXT_END = 0;
const EXT_DATA_FILE = 0x44415441; // "DATA": the external data file's name

interface Qcow2Header {
  readonly version: number;
  readonly headerLength: number;
  readonly clusterBits: number;
  readonly incompatible: bigint;
}

/** Checks a qcow2 file's header and returns its virtual size. */
export async function checkQcow2(ctx: InspectContext): Promise<number> {
  const fixed = await readExactly(ctx, 0, V2_HEADER_LENGTH, "qcow2 header");
  const fields = await readHeader(ctx, fixed);
  const header = await readExactly(ctx, 0, fields.headerLength, "qcow2 header");
  await refuseBackingFile(ctx, header);
  refuseDataFile(ctx, fields, await readExtensions(ctx, fields));
  refuseUnusable(ctx, header, fields);
  const size = checkVirtualSize(ctx, header.readBigUInt64BE(24), "qcow2");
  checkTables(ctx, header, fields, size);
  return size;
}

async function readHeader(ctx: InspectContext, fixed: Buffer): Promise<Qcow2Header> {
  const version = fixed.readUInt32BE(4);
  if (version !== 2 && version !== 3) {
    throw badDisk(ctx, `qcow2 version ${version} is not supported (only versions 2 and 3 are)`);
  }
  const clusterBits = fixed.readUInt32BE(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw badDisk(
      ctx,
      `qcow2 cluster_bits ${clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`,
    );
  }
  if (version === 2) return { version, headerLength: V2_HEADER_LENGTH, clusterBits, incompatible: 0n };
  const v3 = await readExactly(ctx, 0, V3_HEADER_LENGTH, "qcow2 version 3 header");
  const headerLength = v3.readUInt32BE(100);
  if (headerLength < V3_HEADER_LENGTH || headerLength % 8 !== 0 || headerLength > 2 ** clusterBits) {
    throw badDisk(ctx, `qcow2 header_length ${headerLength} is not a multiple of 8 within the first cluster`);
  }
  return { version, headerLength, clusterBits, incompatible: v3.readBigUInt64BE(72) };
}

async function refuseBackingFile(ctx: InspectContext, header: Buffer): Promise<void> {
  const offset = header.readBigUInt64BE(8);
  if (offset === 0n) return;
  const length = Math.min(header.readUInt32BE(16), MAX_BACKING_NAME);
  const name =
    offset < BigInt(ctx.bytes.size)
      ? (await ctx.bytes.read(Number(offset), length)).toString("utf8")
      : "(its name lies past the end of the file)";
  throw hostileDisk(
    ctx,
    `it is a qcow2 overlay with backing file "${name}": import a self-contained disk ` +
      `(qemu-img convert -O qcow2 merges an overlay with its backing files)`,
  );
}

/** Header extensions: type, length and data padded to 8 bytes, up to the end of the first cluster. */
async function readExtensions(ctx: InspectContext, header: Qcow2Header): Promise<Map<number, Buffer>> {
  const clusterSize = 2 ** header.clusterBits;
  const area = await ctx.bytes.read(header.headerLength, clusterSize - header.headerLength);
  const found = new Map<number, Buffer>();
  let at = 0;
  while (at + 8 <= area.length) {
    const type = area.readUInt32BE(at);
    const length = area.readUInt32BE(at + 4);
    if (type === EXT_END) return found;
    const end = at + 8 + length;
    if (end > area.length)
      throw badDisk(ctx, `qcow2 header extension 0x${type.toString(16)} overruns the first cluster`);
    found.set(type, area.subarray(at + 8, end));
    at = end + ((8 - (length % 8)) % 8);
  }
  return found;
}

function refuseDataFile(ctx: InspectContext, header: Qcow2Header, extensions: Map<number, Buffer>): void {
  const name = extensions.get(EXT_DATA_FILE)?.toString("utf8");
  if ((header.incompatible & INCOMPAT_DATA_FILE) === 0n && name === undefined) return;
  const named = name === undefined ? "an external data file" : `external data file "${name}"`;
  throw hostileDisk(ctx, `its qcow2 data is kept in ${named}: import a self-contained disk`);
}

function refuseUnusable(ctx: InspectContext, header: Buffer, fields: Qcow2Header): void {
  if ((fields.incompatible & INCOMPAT_CORRUPT) !== 0n) {
    throw badDisk(ctx, "qcow2 header marks the image corrupt: repair it with qemu-img check -r all");
  }
  const unknown = fields.incompatible & ~INCOMPAT_KNOWN;
  if (unknown !== 0n) throw badDisk(ctx, `qcow2 has unknown incompatible features 0x${unknown.toString(16)}`);
  const crypt = header.readUInt32BE(32);
  if (crypt !== 0) throw badDisk(ctx, `qcow2 is encrypted (method ${crypt}): import a decrypted disk`);
}

/** The L1 table must cover the virtual size and lie inside the file; the other tables must start in it. */
function checkTables(ctx: InspectContext, header: Buffer, fields: Qcow2Header, size: number): void {
  const clusterSize = 2 ** fields.clusterBits;
  const l2Entries = clusterSize / ((fields.incompatible & INCOMPAT_EXTENDED_L2) !== 0n ? 16 : 8);
  const l1Needed = Math.ceil(size / (clusterSize * l2Entries));
  const l1Size = header.readUInt32BE(36);
  const l1Offset = safeNumber(ctx, header.readBigUInt64BE(40), "qcow2 l1_table_offset");
  if (l1Size < l1Needed || l1Size * 8 > MAX_L1_BYTES) {
    throw badDisk(
      ctx,
      `qcow2 l1_size ${l1Size} does not fit a virtual size of ${size} bytes (needs ${l1Needed})`,
    );
  }
  checkTable(ctx, "L1 table", l1Offset, l1Size * 8, clusterSize);
  const refcountOffset = safeNumber(ctx, header.readBigUInt64BE(48), "qcow2 refcount_table_offset");
  checkTable(ctx, "refcount table", refcountOffset, 1, clusterSize);
  if (header.readUInt32BE(60) > 0) {
    const snapshots = safeNumber(ctx, header.readBigUInt64BE(64), "qcow2 snapshots_offset");
    checkTable(ctx, "snapshot table", snapshots, 1, clusterSize);
  }
}

function checkTable(
  ctx: InspectContext,
  what: string,
  offset: number,
  length: number,
  clusterSize: number,
): void {
  if (offset === 0 || offset % clusterSize !== 0) {
    throw badDisk(ctx, `qcow2 ${what} offset ${offset} is not a multiple of the cluster size ${clusterSize}`);
  }
  if (offset + length > ctx.bytes.size) {
    throw badDisk(
      ctx,
      `qcow2 ${what} (bytes ${offset}..${offset + length}) lies past the end of the file (${ctx.bytes.size} bytes): ` +
        "the file is truncated or corrupt",
    );
  }
}
