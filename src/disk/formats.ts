// Disk formats, converted from the raw disk by qemu-img (never written by hand): qcow2 (QEMU,
// OpenStack, libvirt), vhd (Azure and Hyper-V: fixed, a whole number of MiB), vmdk
// (streamOptimized, as vSphere and OVA imports expect), vdi (VirtualBox), and raw itself. The
// iso is not a conversion (a live image: see iso.ts). Each output is checked by `qemu-img info`
// for its format and virtual size, and by `qemu-img check` where the format has one.
import { copyFile } from "node:fs/promises";
import { DiskError } from "./errors.ts";
import { tool } from "./tools.ts";

export type DiskFormat = "raw" | "qcow2" | "vhd" | "vmdk" | "vdi" | "iso";
export const DISK_FORMATS: readonly DiskFormat[] = ["raw", "qcow2", "vhd", "vmdk", "vdi", "iso"];
export type ImageFormat = Exclude<DiskFormat, "iso">;

/** qemu-img's name for a format. */
export function qemuFormat(format: ImageFormat): string {
  return format === "vhd" ? "vpc" : format;
}

const OPTIONS: Record<ImageFormat, readonly string[]> = {
  raw: [],
  qcow2: ["-o", "compat=1.1"],
  vhd: ["-o", "subformat=fixed,force_size=on"],
  vmdk: ["-o", "subformat=streamOptimized"],
  vdi: [],
};

export function parseFormats(value: string): DiskFormat[] {
  const formats = value
    .split(",")
    .map((f) => f.trim().toLowerCase())
    .filter((f) => f !== "");
  for (const f of formats)
    if (!DISK_FORMATS.includes(f as DiskFormat))
      throw new DiskError("USAGE", `Unknown disk format "${f}": expected one of ${DISK_FORMATS.join(", ")}`);
  if (formats.length === 0) throw new DiskError("USAGE", "No disk format given");
  return [...new Set(formats as DiskFormat[])];
}

/** Converts `input` (of `inputFormat`) into `output` as `format`, and checks what was written. */
export async function convertDisk(
  input: string,
  inputFormat: ImageFormat,
  output: string,
  format: ImageFormat,
): Promise<void> {
  if (format === inputFormat && format === "raw") await copyFile(input, output);
  else
    await tool("qemu-img", [
      "convert",
      "-f",
      qemuFormat(inputFormat),
      "-O",
      qemuFormat(format),
      ...OPTIONS[format],
      input,
      output,
    ]);
}

export interface QemuImgInfo {
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
}

/** `qemu-img info` of a file read as `format` (given, so qemu never guesses). */
export async function qemuImgInfo(path: string, format: ImageFormat): Promise<QemuImgInfo> {
  const text = await tool("qemu-img", ["info", "--output=json", "-f", qemuFormat(format), path]);
  const info = JSON.parse(text) as { format?: string; "virtual-size"?: number; "actual-size"?: number };
  return {
    format: info.format ?? "",
    virtualSize: info["virtual-size"] ?? 0,
    actualSize: info["actual-size"] ?? 0,
  };
}

/** Checks a converted disk: the format and virtual size qemu-img reads, and `check` where there is one. */
export async function checkConverted(path: string, format: ImageFormat, virtualSize: number): Promise<void> {
  const info = await qemuImgInfo(path, format);
  if (info.format !== qemuFormat(format) || info.virtualSize !== virtualSize)
    throw new DiskError(
      "TOOL_FAILED",
      `qemu-img reads ${path} as ${info.format} of ${info.virtualSize} bytes, not ${qemuFormat(format)} of ${virtualSize}`,
    );
  if (format === "qcow2" || format === "vdi" || format === "vmdk")
    await tool("qemu-img", ["check", "-q", "-f", qemuFormat(format), path]);
}
