// Converting a pulled qcow2 disk to the format asked for with qemu-img: vhd fixed with the exact
// size (as Azure takes it), vmdk streamOptimized (as vSphere and OVA imports take it), raw and
// vdi as qemu-img writes them; qcow2 is the pulled file itself. The output is written beside its
// destination and renamed over it only once qemu-img succeeded.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { CliError } from "./errors.ts";

export const PULL_FORMATS = ["qcow2", "raw", "vhd", "vmdk", "vdi"] as const;
export type PullFormat = (typeof PULL_FORMATS)[number];

/** qemu-img's name of each format and the options it is written with. */
const QEMU: Readonly<Record<PullFormat, readonly string[]>> = {
  qcow2: ["-O", "qcow2"],
  raw: ["-O", "raw"],
  vhd: ["-O", "vpc", "-o", "subformat=fixed,force_size=on"],
  vmdk: ["-O", "vmdk", "-o", "subformat=streamOptimized"],
  vdi: ["-O", "vdi"],
};

const run = promisify(execFile);

/** The qemu-img arguments that convert a qcow2 `input` to `format` in `output`. */
export function convertArgs(input: string, output: string, format: PullFormat): string[] {
  return ["convert", "-q", "-f", "qcow2", ...QEMU[format], input, output];
}

/** Writes `input` (qcow2) as `format` to `output`, replacing it only when the conversion succeeded. */
export async function convertQcow2(input: string, output: string, format: PullFormat): Promise<void> {
  const staged = join(dirname(output), `.${basename(output)}.${randomBytes(4).toString("hex")}.convert`);
  try {
    if (format === "qcow2") await copyFile(input, staged);
    else
      await run("qemu-img", convertArgs(input, staged, format), { maxBuffer: 1024 * 1024 }).catch(
        (error: NodeJS.ErrnoException & { stderr?: string }) => {
          if (error.code === "ENOENT")
            throw new CliError(
              "qemu-img is not installed: install it (Debian: apt-get install qemu-utils)",
              1,
              {
                cause: error,
              },
            );
          throw new CliError(
            `qemu-img could not write ${format}: ${(error.stderr ?? error.message).trim()}`,
            1,
            { cause: error },
          );
        },
      );
    await rename(staged, output);
  } catch (error) {
    await rm(staged, { force: true });
    throw error;
  }
}

/** The format an output file's name suggests (disk.vhd → vhd, disk.img → raw), if any. */
export function formatOfName(path: string): PullFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === "img") return "raw";
  return (PULL_FORMATS as readonly string[]).includes(ext ?? "") ? (ext as PullFormat) : undefined;
}
