// Import checks against real disks made by qemu-img: each format is found from its bytes whatever
// the file is called, and each hostile or broken file is refused with a code and a message that
// says what was found.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DiskError, inspectDiskFile, type DiskFileInfo } from "./index.ts";

const MiB = 1024 * 1024;
let dir: string;

const qemuImg = (...args: string[]) => execFileSync("qemu-img", args, { stdio: "pipe" });

/** A raw disk of `size` bytes with some data in it, so converted formats allocate blocks. */
function rawDisk(name: string, size: number): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(size));
  writeFileSync(path, Buffer.from("strata test disk"), { flag: "r+" });
  return path;
}

/** Converts a raw disk to `format` (with `options`) under a name that says nothing true about it. */
function converted(format: string, name: string, options: string[] = []): string {
  const source = rawDisk(`${name}.source`, 3 * MiB);
  const path = join(dir, name);
  qemuImg("convert", "-f", "raw", "-O", format, ...options, source, path);
  return path;
}

/** Rewrites bytes of a file in place. */
function patch(path: string, offset: number, bytes: Buffer): void {
  const data = readFileSync(path);
  bytes.copy(data, offset);
  writeFileSync(path, data);
}

async function refused(
  path: string,
  code: DiskError["code"],
  fragment: string | RegExp,
  maxVirtualSize?: number,
) {
  const limits = maxVirtualSize === undefined ? {} : { maxVirtualSize };
  await assert.rejects(inspectDiskFile(path, limits), (error: unknown) => {
    assert.ok(error instanceof DiskError, `expected a DiskError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (typeof fragment === "string") assert.ok(error.message.includes(fragment), error.message);
    else assert.match(error.message, fragment);
    return true;
  });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "strata-import-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("inspectDiskFile: formats from the bytes, not the name", () => {
  const cases: { name: string; make: () => string; want: Omit<DiskFileInfo, "actualSize"> }[] = [
    {
      name: "raw named disk.qcow2",
      make: () => rawDisk("disk.qcow2", 3 * MiB),
      want: { format: "raw", virtualSize: 3 * MiB },
    },
    {
      name: "qcow2 named disk.vhd",
      make: () => converted("qcow2", "disk.vhd"),
      want: { format: "qcow2", virtualSize: 3 * MiB },
    },
    {
      name: "fixed VHD named disk.img",
      make: () => converted("vpc", "disk.img", ["-o", "subformat=fixed,force_size=on"]),
      want: { format: "vhd", virtualSize: 3 * MiB },
    },
    {
      // qemu's own dynamic VHDs take their size from the CHS geometry: 91 × 4 × 17 sectors
      name: "dynamic VHD named disk.raw",
      make: () => converted("vpc", "disk.raw"),
      want: { format: "vhd", virtualSize: 91 * 4 * 17 * 512 },
    },
    {
      name: "streamOptimized VMDK named disk.vdi",
      make: () => converted("vmdk", "disk.vdi", ["-o", "subformat=streamOptimized"]),
      want: { format: "vmdk", virtualSize: 3 * MiB },
    },
    {
      name: "monolithicSparse VMDK named disk.vmdk",
      make: () => converted("vmdk", "disk.vmdk"),
      want: { format: "vmdk", virtualSize: 3 * MiB },
    },
    {
      name: "VDI named disk.vmdk2",
      make: () => converted("vdi", "disk.vmdk2"),
      want: { format: "vdi", virtualSize: 3 * MiB },
    },
  ];
  for (const { name, make, want } of cases) {
    it(`finds a ${name}`, async () => {
      const path = make();
      const info = await inspectDiskFile(path);
      assert.deepEqual({ format: info.format, virtualSize: info.virtualSize }, want);
      assert.equal(info.actualSize, readFileSync(path).length);
    });
  }
});

describe("inspectDiskFile: hostile files", () => {
  it("refuses a qcow2 overlay and names its backing file", async () => {
    const path = join(dir, "overlay.qcow2");
    qemuImg("create", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw", path, "1M");
    await refused(path, "HOSTILE_DISK", 'backing file "/etc/shadow"');
  });

  it("refuses a qcow2 whose data is in an external data file", async () => {
    const path = join(dir, "external.qcow2");
    const data = join(dir, "external.data");
    qemuImg("create", "-f", "qcow2", "-o", `data_file=${data}`, path, "1M");
    await refused(path, "HOSTILE_DISK", `external data file "${data}"`);
  });

  it("refuses a VMDK descriptor that names a flat extent", async () => {
    const path = join(dir, "split.vmdk");
    qemuImg("create", "-f", "vmdk", "-o", "subformat=monolithicFlat", path, "1M");
    await refused(path, "HOSTILE_DISK", 'names "split-flat.vmdk" as its extents');
  });

  it("refuses a sparse VMDK whose embedded descriptor names another file", async () => {
    const path = converted("vmdk", "embedded.vmdk");
    const data = readFileSync(path);
    const at = data.indexOf('SPARSE "embedded.vmdk"');
    patch(path, at, Buffer.from('FLAT "/etc/shadow" 0\n   '));
    await refused(path, "HOSTILE_DISK", 'FLAT extent "/etc/shadow"');
  });

  it("refuses a sparse VMDK whose embedded descriptor names a parent disk", async () => {
    const path = converted("vmdk", "delta.vmdk");
    const at = readFileSync(path).indexOf('createType="monolithicSparse"');
    patch(path, at, Buffer.from('parentFileNameHint="/etc/pwd"'));
    await refused(path, "HOSTILE_DISK", 'VMDK delta disk with parent "/etc/pwd"');
  });

  it("refuses a VHD whose footer checksum is broken", async () => {
    const path = converted("vpc", "broken.vhd", ["-o", "subformat=fixed,force_size=on"]);
    const size = readFileSync(path).length;
    patch(path, size - 512 + 70, Buffer.from([0x5a])); // a byte of the unique id
    await refused(path, "BAD_DISK", "VHD footer checksum");
  });
});

describe("inspectDiskFile: broken and oversized files", () => {
  it("refuses a disk over the configured limit, naming the size and the limit", async () => {
    const path = converted("qcow2", "big.qcow2");
    await refused(
      path,
      "TOO_LARGE",
      "virtual size 3 MiB (3145728 bytes) is over the limit of 2 MiB",
      2 * MiB,
    );
  });

  it("refuses a raw disk over the limit", async () => {
    await refused(rawDisk("big.raw", 3 * MiB), "TOO_LARGE", "over the limit of 1 MiB (1048576 bytes)", MiB);
  });

  it("refuses a qcow2 cut off inside its header", async () => {
    const path = converted("qcow2", "cut.qcow2");
    truncateSync(path, 50);
    await refused(path, "BAD_DISK", "qcow2 header is truncated");
  });

  it("refuses a qcow2 cut off before its L1 table", async () => {
    const path = converted("qcow2", "short.qcow2");
    truncateSync(path, 65536);
    await refused(path, "BAD_DISK", /L1 table .* past the end of the file/);
  });

  it("refuses a qcow2 with an impossible cluster size", async () => {
    const path = converted("qcow2", "clusters.qcow2");
    patch(path, 20, Buffer.from([0, 0, 0, 30]));
    await refused(path, "BAD_DISK", "cluster_bits 30 is outside 9..21");
  });

  it("refuses a VDI whose disk size does not fit its blocks", async () => {
    const path = converted("vdi", "corrupt.vdi");
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(64n * BigInt(MiB));
    patch(path, 0x170, size);
    await refused(path, "BAD_DISK", "does not fit its 3 blocks");
  });

  it("refuses an ISO image as not a disk", async () => {
    const tree = join(dir, "iso-tree");
    mkdirSync(tree);
    writeFileSync(join(tree, "README"), "live medium\n");
    const path = join(dir, "live.img");
    execFileSync("xorriso", ["-as", "mkisofs", "-quiet", "-o", path, tree], { stdio: "pipe" });
    await refused(path, "BAD_DISK", "an ISO image is not a disk");
  });

  it("refuses an empty file", async () => {
    const path = join(dir, "empty.qcow2");
    writeFileSync(path, "");
    await refused(path, "BAD_DISK", "the file is empty");
  });

  it("refuses a compressed file instead of importing it as raw bytes", async () => {
    const path = join(dir, "disk.raw.gz");
    writeFileSync(path, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
    await refused(path, "BAD_DISK", "gzip-compressed");
  });

  it("refuses a path that is not a regular file", async () => {
    await refused(dir, "USAGE", "not a regular file");
  });
});
