// Converting a pulled qcow2 disk to the format asked for with qemu-img: vhd fixed with the exact
// size (as Azure takes it), vmdk streamOptimized (as vSphere and OVA imports take it), raw and
// vdi as qemu-img writes them; qcow2 is the pulled file itself. The output is written beside its
// destination, checked by qemu-img, and renamed over it only once that succeeded.
import { randomBytes } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export const PULL_FORMATS = ["qcow2", "raw", "vhd", "vmdk", "vdi"] as const;
export type PullFormat = (typeof PULL_FORMATS)[number];

/** Writes `input` (qcow2) as `format` to `output`, replacing it only when the conversion succeeded. */
export async function convertQcow2(input: string, output: string, format: PullFormat): Promise<void> {
  const staged = join(dirname(output), `.${basename(output)}.${randomBytes(4).toString("hex")}.convert`);
  const { convertDisk, qemuImgInfo, checkConverted } = await import("../disk/index.ts");
  try {
    await convertDisk(input, "qcow2", staged, format);
    await checkConverted(staged, format, (await qemuImgInfo(input, "qcow2")).virtualSize);
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
