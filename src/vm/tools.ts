// The host tools the VM domain drives: `qemu-img` for overlays and the QEMU system emulator,
// and where QEMU's firmware for UEFI guests lives. One place that knows the binaries' names,
// each disk format's qemu-img driver name and how a failed tool is reported.
import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { VmError } from "./errors.ts";

/** The disk formats a VM boots from (the disk domain's formats). */
export type VmDiskFormat = "raw" | "qcow2" | "vhd" | "vmdk" | "vdi" | "iso";
export type VmBootMode = "bios" | "uefi";

export const QEMU = process.env["STRATA_QEMU"] ?? "qemu-system-x86_64";
export const QEMU_IMG = process.env["STRATA_QEMU_IMG"] ?? "qemu-img";

/** qemu-img's driver name for a format: vhd is "vpc", an iso is read as raw bytes. */
export function qemuFormat(format: VmDiskFormat): string {
  if (format === "vhd") return "vpc";
  if (format === "iso") return "raw";
  return format;
}

/** Doubles commas, QEMU's escape inside an option value. */
export const qemuValue = (value: string) => value.replace(/,/g, ",,");

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool to completion; a non-zero exit is a QEMU_FAILED error with its stderr. */
export function runTool(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve({ stdout, stderr });
      const detail = stderr.trim() || error.message;
      reject(new VmError("QEMU_FAILED", `${cmd} ${args[0] ?? ""} failed: ${detail}`, "", { cause: error }));
    });
  });
}

/** A qcow2 overlay at `overlay` backed by `base` (absolute), which is never written to. */
export async function createOverlay(base: string, format: VmDiskFormat, overlay: string): Promise<void> {
  await runTool(QEMU_IMG, ["create", "-q", "-f", "qcow2", "-b", base, "-F", qemuFormat(format), overlay]);
}

/** Firmware images tried for UEFI guests, first found wins (Debian's ovmf package). */
export const OVMF_CANDIDATES = [
  "/usr/share/ovmf/OVMF.fd",
  "/usr/share/qemu/OVMF.fd",
  "/usr/share/OVMF/OVMF.fd",
] as const;

/** The OVMF firmware to boot UEFI guests with, or a QEMU_FAILED error naming the package. */
export async function findOvmf(candidates: readonly string[] = OVMF_CANDIDATES): Promise<string> {
  const override = process.env["STRATA_OVMF"];
  for (const path of override === undefined ? candidates : [override, ...candidates]) {
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  throw new VmError(
    "QEMU_FAILED",
    `no UEFI firmware for QEMU: looked for ${candidates.map((c) => `"${c}"`).join(", ")}: install the "ovmf" package`,
  );
}
