// The second opinion: qemu-img reads the file with the format the header checks found (always
// with -f, so qemu never probes) and must agree on format and virtual size, name no other file,
// and, where the format has a checker, find no corruption. Runs without a shell, with timeouts.
import { execFile } from "node:child_process";
import { DiskError } from "./errors.ts";
import type { SniffedFormat } from "./import-sniff.ts";

const INFO_TIMEOUT_MS = 30_000;
const CHECK_TIMEOUT_MS = 300_000;
const MAX_OUTPUT = 16 * 1024 * 1024;

/** qemu's driver names; VHD is "vpc" there. */
export const QEMU_FORMAT: Readonly<Record<SniffedFormat, string>> = {
  raw: "raw",
  qcow2: "qcow2",
  vhd: "vpc",
  vmdk: "vmdk",
  vdi: "vdi",
};

// qemu-img check exit codes: 0 clean, 2 corruptions, 3 leaked clusters only (harmless to read),
// 63 the format has no checker; anything else means the check could not finish.
const CHECK_OK = new Set([0, 3, 63]);
const CHECK_CORRUPT = 2;

interface QemuInfo {
  readonly format?: string;
  readonly "virtual-size"?: number;
  readonly "backing-filename"?: string;
  readonly "format-specific"?: { readonly data?: Record<string, unknown> };
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Asks qemu-img about `path` (absolute, so qemu never reads it as a protocol such as `json:`)
 * and refuses the file when qemu disagrees with the header checks.
 */
export async function crossCheck(path: string, format: SniffedFormat, virtualSize: number): Promise<void> {
  const qemuFormat = QEMU_FORMAT[format];
  const info = await run(["info", "--output=json", "-f", qemuFormat, path], INFO_TIMEOUT_MS);
  if (info.code !== 0)
    throw refuse("BAD_DISK", path, `qemu-img cannot open it as ${qemuFormat}: ${info.stderr.trim()}`);
  const parsed = JSON.parse(info.stdout) as QemuInfo;
  compareInfo(path, parsed, qemuFormat, virtualSize);
  if (format === "raw") return;
  const check = await run(["check", "-f", qemuFormat, path], CHECK_TIMEOUT_MS);
  if (CHECK_OK.has(check.code)) return;
  const output = `${check.stdout}${check.stderr}`.trim();
  const what = check.code === CHECK_CORRUPT ? "finds corruption" : `fails (exit ${check.code})`;
  throw refuse("BAD_DISK", path, `qemu-img check ${what}: ${output}`);
}

function compareInfo(path: string, info: QemuInfo, qemuFormat: string, virtualSize: number): void {
  if (info.format !== qemuFormat || info["virtual-size"] !== virtualSize) {
    throw refuse(
      "BAD_DISK",
      path,
      `qemu-img reads it as ${info.format} of ${info["virtual-size"]} bytes, the header says ` +
        `${qemuFormat} of ${virtualSize} bytes`,
    );
  }
  const data = info["format-specific"]?.data ?? {};
  const backing = info["backing-filename"];
  if (backing !== undefined) throw refuse("HOSTILE_DISK", path, `qemu-img finds backing file "${backing}"`);
  if (typeof data["data-file"] === "string") {
    throw refuse("HOSTILE_DISK", path, `qemu-img finds external data file "${data["data-file"]}"`);
  }
  const extents = Array.isArray(data["extents"]) ? (data["extents"] as { filename?: unknown }[]) : [];
  const foreign = extents.find((e) => e.filename !== path);
  if (foreign !== undefined) {
    throw refuse("HOSTILE_DISK", path, `qemu-img finds extent file "${String(foreign.filename)}"`);
  }
}

function refuse(code: "BAD_DISK" | "HOSTILE_DISK", path: string, detail: string): DiskError {
  return new DiskError(code, `Cannot import disk "${path}": ${detail}`);
}

function run(args: readonly string[], timeout: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const options = { timeout, maxBuffer: MAX_OUTPUT, env: { ...process.env, LC_ALL: "C" } };
    execFile("qemu-img", args, options, (error, stdout, stderr) => {
      if (error === null) return resolve({ code: 0, stdout, stderr });
      if (typeof error.code === "number") return resolve({ code: error.code, stdout, stderr });
      const why = error.code === "ENOENT" ? "qemu-img is not installed (install qemu-utils)" : error.message;
      const timedOut = error.killed ? `qemu-img ${args[0]} timed out after ${timeout / 1000}s` : why;
      reject(new DiskError("TOOL_FAILED", `Cannot inspect disk: ${timedOut}`));
    });
  });
}
