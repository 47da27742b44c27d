// The formats `strata disk pull` writes (vhd fixed with the exact size, as Azure takes it; vmdk
// streamOptimized, as vSphere and OVA imports take it; raw and vdi as qemu-img writes them), and
// the format an output's name suggests. The conversion itself is pullDisk's (src/disk/artifact.ts).
export const PULL_FORMATS = ["qcow2", "raw", "vhd", "vmdk", "vdi"] as const;
export type PullFormat = (typeof PULL_FORMATS)[number];

/** The format an output file's name suggests (disk.vhd → vhd, disk.img → raw), if any. */
export function formatOfName(path: string): PullFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === "img") return "raw";
  return (PULL_FORMATS as readonly string[]).includes(ext ?? "") ? (ext as PullFormat) : undefined;
}
