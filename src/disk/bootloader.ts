// Boot loaders, written into the disk file without mounting anything.
// BIOS: GRUB's boot.img in the MBR's code area, pointing at a core.img (made by grub-mkimage with
// every module it needs built in, so nothing else of GRUB is installed) in the gap between the
// MBR and the first partition; GRUB then reads ext4 itself and loads /boot/grub/grub.cfg.
// UEFI: a FAT EFI system partition (mkfs.fat --invariant at the partition's offset) holding GRUB
// built as \EFI\BOOT\BOOTX64.EFI (the removable-media path every firmware tries), copied in with
// mtools; it too reads /boot/grub/grub.cfg from the root partition.
import { open, readFile, rm, utimes } from "node:fs/promises";
import { join } from "node:path";
import { DiskError } from "./errors.ts";
import type { Layout } from "./layout.ts";
import { tool } from "./tools.ts";

const GRUB_PC = "/usr/lib/grub/i386-pc";
const MODULES = [
  "ext2",
  "linux",
  "normal",
  "serial",
  "terminal",
  "echo",
  "test",
  "search",
  "configfile",
  "gzio",
];

/**
 * A GRUB image for `target` with every module it needs built in (nothing else of GRUB is
 * installed), reading /boot/grub/grub.cfg from the root partition `root`.
 */
function grubImage(target: string, out: string, root: string, platform: readonly string[]): Promise<string> {
  return tool("grub-mkimage", ["-O", target, "-o", out, "-p", `${root}/boot/grub`, ...platform, ...MODULES]);
}

/** Offsets in GRUB's boot.img (grub-core/boot/i386/pc/boot.S). */
const KERNEL_SECTOR = 0x5c;
const DRIVE_CHECK = 0x66;
const CODE_END = 0x1b8; // the disk signature and the partition table follow

export async function installBiosGrub(disk: string, layout: Layout, scratch: string): Promise<void> {
  const core = join(scratch, "core.img");
  await grubImage("i386-pc", core, "(hd0,msdos1)", ["biosdisk", "part_msdos"]);
  const file = await open(disk, "r+");
  try {
    const coreBytes = await readFile(core);
    const gap = layout.root.offset - 512;
    if (coreBytes.length > gap)
      throw new DiskError(
        "TOOL_FAILED",
        `GRUB's core image (${coreBytes.length} bytes) does not fit before the root partition`,
      );
    const boot = await readFile(join(GRUB_PC, "boot.img")).catch(() => {
      throw new DiskError(
        "TOOL_FAILED",
        `${GRUB_PC}/boot.img is missing: install the Debian package grub-pc-bin`,
      );
    });
    const mbr = Buffer.alloc(512);
    await file.read(mbr, 0, 512, 0);
    boot.copy(mbr, 0, 0, CODE_END);
    mbr.writeBigUInt64LE(1n, KERNEL_SECTOR); // core.img starts at sector 1
    mbr.writeUInt16LE(0x9090, DRIVE_CHECK); // a hard disk: boot from the drive the BIOS names
    await file.write(mbr, 0, 512, 0);
    await file.write(coreBytes, 0, coreBytes.length, 512);
  } finally {
    await file.close();
    await rm(core, { force: true });
  }
}

export interface EspOptions {
  /** FAT volume id, eight hex digits. */
  readonly volumeId: string;
  readonly epoch: number;
}

export async function installUefiGrub(
  disk: string,
  layout: Layout,
  scratch: string,
  options: EspOptions,
): Promise<void> {
  if (layout.esp === undefined) throw new DiskError("USAGE", "a UEFI disk needs an EFI system partition");
  const efi = join(scratch, "BOOTX64.EFI");
  await grubImage("x86_64-efi", efi, "(hd0,gpt2)", ["part_gpt", "fat", "efi_gop"]);
  const env = { SOURCE_DATE_EPOCH: String(options.epoch), MTOOLS_SKIP_CHECK: "1" };
  const sectors = layout.esp.offset / 512;
  await tool(
    "mkfs.fat",
    [
      "-F",
      "32",
      "-s",
      "1",
      "-S",
      "512",
      "--offset",
      String(sectors),
      "--invariant",
      "-i",
      options.volumeId,
      "-n",
      "ESP",
      disk,
      String(layout.esp.size / 1024),
    ],
    { env },
  );
  await utimes(efi, options.epoch, options.epoch); // mcopy -m keeps the file's time
  const image = `${disk}@@${layout.esp.offset}`;
  // mtools stamps directories with the clock: libfaketime stops it at the epoch.
  const at = new Date(options.epoch * 1000).toISOString().slice(0, 19).replace("T", " ");
  const frozen = { ...env, TZ: "UTC" };
  await tool("faketime", ["-f", at, "mmd", "-i", image, "::/EFI", "::/EFI/BOOT"], { env: frozen });
  await tool("faketime", ["-f", at, "mcopy", "-i", image, "-m", efi, "::/EFI/BOOT/BOOTX64.EFI"], {
    env: frozen,
  });
  await rm(efi, { force: true });
}
