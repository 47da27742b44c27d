// VMDK checks. Only a single-file sparse VMDK (monolithicSparse, streamOptimized) is imported. A
// text descriptor is refused whatever it says: its extents are other files. A sparse file's
// embedded descriptor is parsed too, because other tools (and qemu, for parentFileNameHint)
// follow what it names. Header fields are little-endian.
import {
  badDisk,
  checkVirtualSize,
  hostileDisk,
  readExactly,
  safeNumber,
  type InspectContext,
} from "./import-reader.ts";

const SECTOR = 512;
const GD_AT_END = 0xffffffffffffffffn; // streamOptimized: the real header is in the footer
const FOOTER_MARKER = 3;
const MAX_GRAIN_SECTORS = 0x200000; // qemu's bound on the grain size
const MAX_DESCRIPTOR = 1024 * 1024;
const TEXT_DESCRIPTOR = "# Disk DescriptorFile";

interface Extent {
  readonly type: string;
  readonly file: string | undefined;
}

/** Checks a VMDK file and returns its virtual size. */
export async function checkVmdk(ctx: InspectContext): Promise<number> {
  const start = await ctx.bytes.read(0, TEXT_DESCRIPTOR.length);
  if (start.toString("latin1") === TEXT_DESCRIPTOR) throw await refuseDescriptorFile(ctx);
  const head = await readExactly(ctx, 0, SECTOR, "VMDK header");
  const header = await effectiveHeader(ctx, head);
  const capacity = header.readBigUInt64LE(12) * BigInt(SECTOR);
  checkFields(ctx, header);
  const size = checkVirtualSize(ctx, capacity, "VMDK");
  await checkEmbeddedDescriptor(ctx, head);
  return size;
}

async function refuseDescriptorFile(ctx: InspectContext): Promise<Error> {
  const text = (await ctx.bytes.read(0, MAX_DESCRIPTOR)).toString("utf8");
  const files = parseDescriptor(text)
    .extents.map((e) => e.file)
    .filter((f) => f !== undefined);
  const named =
    files.length > 0 ? `names ${files.map((f) => `"${f}"`).join(", ")} as its extents` : "names other files";
  return hostileDisk(
    ctx,
    `it is a VMDK descriptor file that ${named}: import the disk as one file ` +
      "(qemu-img convert -O vmdk -o subformat=streamOptimized, or -O qcow2)",
  );
}

/** The header with the real capacity: a streamOptimized file may keep it in a footer before the end. */
async function effectiveHeader(ctx: InspectContext, head: Buffer): Promise<Buffer> {
  const version = head.readUInt32LE(4);
  if (version < 1 || version > 3)
    throw badDisk(ctx, `VMDK sparse header version ${version} is not 1, 2 or 3`);
  if (head.readBigUInt64LE(56) !== GD_AT_END) return head;
  if (ctx.bytes.size < 4 * SECTOR) throw badDisk(ctx, "streamOptimized VMDK footer is truncated");
  const footer = await readExactly(ctx, ctx.bytes.size - 3 * SECTOR, 2 * SECTOR, "VMDK footer");
  const marker = footer.readUInt32LE(12);
  const magic = footer.subarray(SECTOR, SECTOR + 4).toString("latin1");
  if (marker !== FOOTER_MARKER || magic !== "KDMV") {
    throw badDisk(
      ctx,
      "streamOptimized VMDK keeps its header in a footer, but the footer is missing or corrupt",
    );
  }
  return footer.subarray(SECTOR, 2 * SECTOR);
}

function checkFields(ctx: InspectContext, header: Buffer): void {
  const grain = header.readBigUInt64LE(20);
  if (grain === 0n || grain > BigInt(MAX_GRAIN_SECTORS) || (grain & (grain - 1n)) !== 0n) {
    throw badDisk(ctx, `VMDK grain size ${grain} sectors is not a power of two up to ${MAX_GRAIN_SECTORS}`);
  }
  if (header.readUInt32LE(44) === 0) throw badDisk(ctx, "VMDK header has 0 grain table entries per table");
  const compression = header.readUInt16LE(77);
  if (compression > 1) throw badDisk(ctx, `VMDK compression algorithm ${compression} is not supported`);
}

/** A sparse file may embed its descriptor; it must describe this one file and no parent. */
async function checkEmbeddedDescriptor(ctx: InspectContext, head: Buffer): Promise<void> {
  const offset = safeNumber(ctx, head.readBigUInt64LE(28), "VMDK descriptor offset") * SECTOR;
  const length = safeNumber(ctx, head.readBigUInt64LE(36), "VMDK descriptor size") * SECTOR;
  if (offset === 0) return;
  if (length === 0 || length > MAX_DESCRIPTOR) {
    throw badDisk(ctx, `VMDK embedded descriptor size ${length} bytes is not within 1..${MAX_DESCRIPTOR}`);
  }
  const raw = await readExactly(ctx, offset, length, "VMDK embedded descriptor");
  const end = raw.indexOf(0);
  const descriptor = parseDescriptor(raw.subarray(0, end === -1 ? raw.length : end).toString("utf8"));
  refuseParent(ctx, descriptor.fields);
  refuseForeignExtents(ctx, descriptor.extents);
}

function refuseParent(ctx: InspectContext, fields: Map<string, string>): void {
  const hint = fields.get("parentfilenamehint");
  if (hint !== undefined) {
    throw hostileDisk(ctx, `it is a VMDK delta disk with parent "${hint}": import a self-contained disk`);
  }
  const parentCid = fields.get("parentcid");
  if (parentCid !== undefined && parentCid.toLowerCase() !== "ffffffff") {
    throw hostileDisk(ctx, `it is a VMDK delta disk (parentCID ${parentCid}): import a self-contained disk`);
  }
}

// qemu reads a sparse file's data from the file itself whatever name its one extent line carries,
// so a bare name is accepted (files are renamed on upload); a path, a second extent or an extent
// type that reads another file (FLAT, VMFS…) is what a hostile file would use.
function refuseForeignExtents(ctx: InspectContext, extents: readonly Extent[]): void {
  for (const extent of extents) {
    const file = extent.file ?? "";
    if (extent.type !== "SPARSE" || extents.length > 1 || /[/\\]/.test(file) || file === "..") {
      throw hostileDisk(
        ctx,
        `its embedded VMDK descriptor names a ${extent.type} extent "${file}" besides the file itself: ` +
          "import a self-contained disk",
      );
    }
  }
}

/** Extent lines (`RW 2048 FLAT "name" 0`) and `key=value` fields (keys lower-cased). */
export function parseDescriptor(text: string): { extents: Extent[]; fields: Map<string, string> } {
  const extents: Extent[] = [];
  const fields = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const extent = /^(RW|RDONLY|NOACCESS)\s+\d+\s+(\w+)(?:\s+"([^"]*)")?/i.exec(line);
    if (extent !== null) {
      extents.push({ type: (extent[2] ?? "").toUpperCase(), file: extent[3] });
      continue;
    }
    const field = /^([\w.]+)\s*=\s*"?([^"]*)"?$/.exec(line);
    if (field !== null) fields.set((field[1] ?? "").toLowerCase(), field[2] ?? "");
  }
  return { extents, fields };
}
