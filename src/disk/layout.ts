// The disk's layout and its partition table. BIOS disks get an MBR table (one bootable Linux
// partition from 1 MiB, the gap before it holding GRUB's core image); UEFI disks get GPT with an
// EFI system partition and a root partition of the x86-64 root type (systemd's discoverable
// partitions). sfdisk writes the table into the disk file; every identifier comes from the caller.
import { DiskError } from "./errors.ts";
import type { BootMode } from "./generalize.ts";
import { tool } from "./tools.ts";

export const MiB = 2 ** 20;
const SECTOR = 512;
export const ESP_SIZE = 64 * MiB;

export interface Layout {
  readonly boot: BootMode;
  /** Whole disk, bytes (a whole number of MiB). */
  readonly size: number;
  readonly esp?: { readonly offset: number; readonly size: number };
  readonly root: { readonly offset: number; readonly size: number };
}

/**
 * Lays out a disk: a root file system of `rootSize` bytes, or — when `diskSize` is given — one
 * that fills it, refused when the root would get less than `rootMinimum`.
 */
export function planLayout(
  boot: BootMode,
  rootSize: number,
  diskSize?: number,
  rootMinimum = rootSize,
): Layout {
  const head = MiB + (boot === "uefi" ? ESP_SIZE : 0);
  const tail = boot === "uefi" ? MiB : 0; // GPT's backup header lives in the last sectors
  const minimum = head + rootMinimum + tail;
  if (diskSize !== undefined) {
    if (diskSize % MiB !== 0)
      throw new DiskError("USAGE", `--size must be a whole number of MiB (got ${diskSize} bytes)`);
    if (diskSize < minimum)
      throw new DiskError(
        "USAGE",
        `--size ${diskSize / MiB} MiB is too small: this image needs a disk of at least ${Math.ceil(minimum / MiB)} MiB`,
      );
  }
  const size = diskSize ?? head + rootSize + tail;
  return {
    boot,
    size,
    ...(boot === "uefi" ? { esp: { offset: MiB, size: ESP_SIZE } } : {}),
    root: { offset: head, size: size - head - tail },
  };
}

const ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const ROOT_X86_64_TYPE = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";

export interface TableIds {
  /** MBR: eight hex digits; GPT: a UUID. */
  readonly diskId: string;
  readonly espPartUuid?: string;
  readonly rootPartUuid?: string;
}

/** The sfdisk script of a layout. */
export function sfdiskScript(layout: Layout, ids: TableIds): string {
  const sectors = (bytes: number) => bytes / SECTOR;
  const part = (p: { offset: number; size: number }) => `start=${sectors(p.offset)}, size=${sectors(p.size)}`;
  if (layout.boot === "bios")
    return [
      "label: dos",
      `label-id: 0x${ids.diskId}`,
      "unit: sectors",
      "",
      `${part(layout.root)}, type=83, bootable`,
      "",
    ].join("\n");
  if (layout.esp === undefined) throw new DiskError("USAGE", "a UEFI layout needs an EFI system partition");
  return [
    "label: gpt",
    `label-id: ${ids.diskId}`,
    "unit: sectors",
    "first-lba: 2048",
    "",
    `${part(layout.esp)}, type=${ESP_TYPE}, uuid=${ids.espPartUuid ?? ""}, name="EFI System"`,
    `${part(layout.root)}, type=${ROOT_X86_64_TYPE}, uuid=${ids.rootPartUuid ?? ""}, name="root"`,
    "",
  ].join("\n");
}

export async function writePartitionTable(disk: string, layout: Layout, ids: TableIds): Promise<void> {
  await tool("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", disk], {
    input: sfdiskScript(layout, ids),
  });
}
